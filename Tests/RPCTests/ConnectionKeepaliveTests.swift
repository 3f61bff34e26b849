import Testing
@testable import RPC

private let second: UInt64 = 1_000_000_000
private let policy = ConnectionKeepalive.Policy(
    pingIntervalNanos: 120 * second, pingTimeoutNanos: 20 * second, minPingIntervalNanos: 10 * second,
    permitWithoutCalls: false, maxAgeNanos: 0, maxAgeGraceNanos: 0)

/// Ticks once a second from `from` to `to` (inclusive) with the same received total;
/// returns the first tick with actions, or nil.
private func run(_ machine: inout ConnectionKeepalive, from: UInt64, to: UInt64,
                 receivedBytes: UInt64 = 0) -> (at: UInt64, actions: [ConnectionKeepalive.Action])? {
    for seconds in from...to {
        let actions = machine.tick(nowNanos: seconds * second, receivedBytes: receivedBytes)
        if !actions.isEmpty { return (seconds, actions) }
    }
    return nil
}

@Suite("Connection keepalive and ageing (state machine, scripted time)")
struct ConnectionKeepaliveTests {
    @Test("pings closer than the minimum with a call open: two strikes are tolerated, the third is too_many_pings")
    func pingStrikes() {
        var machine = ConnectionKeepalive(policy: policy, startNanos: 0)
        // The first ping sets the clock; each next one a second later is a strike.
        #expect(machine.pingReceived(nowNanos: 1 * second, openCalls: 1, responseFramesSent: 0) == nil)
        #expect(machine.pingReceived(nowNanos: 2 * second, openCalls: 1, responseFramesSent: 0) == nil)
        #expect(machine.pingReceived(nowNanos: 3 * second, openCalls: 1, responseFramesSent: 0) == nil)
        #expect(machine.pingReceived(nowNanos: 4 * second, openCalls: 1, responseFramesSent: 0) == .goawayTooManyPings)
        // Told once; striking past the limit again is a disconnect.
        #expect(machine.pingReceived(nowNanos: 5 * second, openCalls: 1, responseFramesSent: 0) == nil)
        #expect(machine.pingReceived(nowNanos: 6 * second, openCalls: 1, responseFramesSent: 0) == nil)
        #expect(machine.pingReceived(nowNanos: 7 * second, openCalls: 1, responseFramesSent: 0) == .closePingAbuser)
        #expect(machine.pingReceived(nowNanos: 8 * second, openCalls: 1, responseFramesSent: 0) == nil)
    }

    @Test("pings at the minimum interval are never strikes")
    func pingsAtTheMinimum() {
        var machine = ConnectionKeepalive(policy: policy, startNanos: 0)
        for index in 0..<50 as Range<UInt64> {
            #expect(machine.pingReceived(nowNanos: index * 10 * second, openCalls: 1, responseFramesSent: 0) == nil)
        }
    }

    @Test("a HEADERS or DATA frame from the server between pings clears the strikes (gRPC's BDP pings)")
    func responseFramesClearStrikes() {
        var machine = ConnectionKeepalive(policy: policy, startNanos: 0)
        var sent: UInt64 = 0
        for index in 1...100 as ClosedRange<UInt64> {
            if index % 2 == 0 { sent += 1 }
            #expect(machine.pingReceived(nowNanos: index * second / 10, openCalls: 1, responseFramesSent: sent) == nil)
        }
        // Without them, the same rate is too many: the ping after the last frame set the
        // clock, and the third strike after it is one too many.
        var actions: [ConnectionKeepalive.Action?] = []
        for index in 101...103 as ClosedRange<UInt64> {
            actions.append(machine.pingReceived(nowNanos: index * second / 10, openCalls: 1, responseFramesSent: sent))
        }
        #expect(actions == [nil, nil, .goawayTooManyPings])
    }

    @Test("without a call, pings may come once per two hours unless permitted")
    func pingsWithoutCalls() {
        var strict = ConnectionKeepalive(policy: policy, startNanos: 0)
        let minute = 60 * second
        let strictActions = (1...4 as ClosedRange<UInt64>).map { strict.pingReceived(nowNanos: $0 * minute, openCalls: 0, responseFramesSent: 0) }
        #expect(strictActions == [nil, nil, nil, .goawayTooManyPings])
        var spaced = ConnectionKeepalive(policy: policy, startNanos: 0)
        let spacedActions = (1...4 as ClosedRange<UInt64>).map { spaced.pingReceived(nowNanos: $0 * 121 * minute, openCalls: 0, responseFramesSent: 0) }
        #expect(spacedActions == [nil, nil, nil, nil])
        var permitted = policy
        permitted.permitWithoutCalls = true
        var lenient = ConnectionKeepalive(policy: permitted, startNanos: 0)
        let lenientActions = (1...4 as ClosedRange<UInt64>).map { lenient.pingReceived(nowNanos: $0 * minute, openCalls: 0, responseFramesSent: 0) }
        #expect(lenientActions == [nil, nil, nil, nil])
    }

    @Test("no minimum interval: any rate is allowed")
    func noMinimum() {
        var open = policy
        open.minPingIntervalNanos = 0
        var machine = ConnectionKeepalive(policy: open, startNanos: 0)
        for index in 1...100 as ClosedRange<UInt64> {
            #expect(machine.pingReceived(nowNanos: index, openCalls: 1, responseFramesSent: 0) == nil)
        }
    }

    @Test("after the keepalive time without a received byte the server pings; nothing back within the timeout closes")
    func serverPingUnanswered() {
        var machine = ConnectionKeepalive(policy: policy, startNanos: 0)
        let ping = run(&machine, from: 1, to: 200)
        #expect(ping?.at == 120 && ping?.actions == [.sendPing])
        let close = run(&machine, from: 121, to: 200)
        #expect(close?.at == 140 && close?.actions == [.closeDeadPeer])
        #expect(run(&machine, from: 141, to: 400) == nil)
    }

    @Test("received bytes postpone the ping; an ACK or any byte after the ping keeps the connection")
    func serverPingAnswered() {
        var machine = ConnectionKeepalive(policy: policy, startNanos: 0)
        #expect(run(&machine, from: 1, to: 100) == nil)
        #expect(run(&machine, from: 101, to: 219, receivedBytes: 10) == nil)   // bytes at 101
        #expect(machine.tick(nowNanos: 221 * second, receivedBytes: 10) == [.sendPing])
        #expect(machine.pingAcknowledged(.keepalive, nowNanos: 222 * second) == nil)
        #expect(run(&machine, from: 222, to: 240, receivedBytes: 10) == nil)
        // Answered by a byte rather than an ACK (the ACK's own bytes count the same way).
        // The ACK restarts the interval.
        let next = run(&machine, from: 241, to: 400, receivedBytes: 10)
        #expect(next?.at == 342 && next?.actions == [.sendPing])
        #expect(run(&machine, from: 343, to: 359, receivedBytes: 27) == nil)
        #expect(run(&machine, from: 360, to: 462, receivedBytes: 27) == nil)
        #expect(machine.tick(nowNanos: 463 * second, receivedBytes: 27) == [.sendPing])
    }

    @Test("server pings off: never a ping, never a close")
    func serverPingsOff() {
        var off = policy
        off.pingIntervalNanos = 0
        var machine = ConnectionKeepalive(policy: off, startNanos: 0)
        #expect(run(&machine, from: 1, to: 10_000) == nil)
    }

    @Test("max age: notice and ping at the age, the final GOAWAY on the ACK, close after the grace")
    func maxAgeWithAck() {
        var aged = policy
        aged.pingIntervalNanos = 0
        aged.maxAgeNanos = 60 * second
        aged.maxAgeGraceNanos = 30 * second
        var machine = ConnectionKeepalive(policy: aged, startNanos: 0)
        let announce = run(&machine, from: 1, to: 100)
        #expect(announce?.at == 60 && announce?.actions == [.announceMaxAge])
        // A keepalive ACK is not the max-age one.
        #expect(machine.pingAcknowledged(.keepalive, nowNanos: 61 * second) == nil)
        #expect(machine.pingAcknowledged(.maxAge, nowNanos: 61 * second) == .goawayMaxAge)
        #expect(machine.pingAcknowledged(.maxAge, nowNanos: 62 * second) == nil)
        let grace = run(&machine, from: 62, to: 200)
        #expect(grace?.at == 90 && grace?.actions == [.closeAfterGrace])
        #expect(run(&machine, from: 91, to: 300) == nil)
    }

    @Test("max age: an unanswered ping still leads to the final GOAWAY after the ping timeout; no grace means no close")
    func maxAgeWithoutAck() {
        var aged = policy
        aged.pingIntervalNanos = 0
        aged.maxAgeNanos = 60 * second
        var machine = ConnectionKeepalive(policy: aged, startNanos: 0)
        #expect(run(&machine, from: 1, to: 100)?.actions == [.announceMaxAge])
        let final = run(&machine, from: 61, to: 200)
        #expect(final?.at == 80 && final?.actions == [.goawayMaxAge])
        #expect(run(&machine, from: 81, to: 5000) == nil)
    }

    @Test("max age jitter stays within 10% either way")
    func jitter() {
        let age = 1000 * second
        #expect(ConnectionKeepalive.jittered(age, jitter: -1) == 900 * second)
        #expect(ConnectionKeepalive.jittered(age, jitter: 1) == 1100 * second)
        #expect(ConnectionKeepalive.jittered(age, jitter: 0) == age)
        #expect(ConnectionKeepalive.jittered(age, jitter: 7) == 1100 * second)
        #expect(ConnectionKeepalive.jittered(0, jitter: 0.5) == 0)
    }
}
