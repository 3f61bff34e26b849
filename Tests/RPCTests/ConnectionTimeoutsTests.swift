import Testing
@testable import RPC

private let second: UInt64 = 1_000_000_000
private let limits = ConnectionTimeouts.Limits(handshakeNanos: 10 * second, idleNanos: 300 * second, stallNanos: 60 * second)

/// A connection's counters as a test scripts them, one tick a second.
private struct Script {
    var machine = ConnectionTimeouts(limits: limits, startNanos: 0)
    var snapshot = ConnectionTimeouts.Snapshot(nowNanos: 0, prefaceReceived: true, openStreams: 0, streamsOpened: 0,
                                               receivedBytes: 0, holdsPartialFrame: false, outputBlocked: false,
                                               outputProgress: 0)

    init(limits: ConnectionTimeouts.Limits = limits, prefaceReceived: Bool = true) {
        machine = ConnectionTimeouts(limits: limits, startNanos: 0)
        snapshot.prefaceReceived = prefaceReceived
    }

    /// Ticks at `seconds` and returns the actions.
    mutating func tick(at seconds: UInt64) -> [ConnectionTimeouts.Action] {
        snapshot.nowNanos = seconds * second
        return machine.tick(snapshot)
    }

    /// Ticks every second from `from` to `to` (inclusive); returns the first tick with an
    /// action and its actions, or nil.
    mutating func run(from: UInt64, to: UInt64) -> (at: UInt64, actions: [ConnectionTimeouts.Action])? {
        for seconds in from...to {
            let actions = tick(at: seconds)
            if !actions.isEmpty { return (seconds, actions) }
        }
        return nil
    }
}

@Suite("Connection timeouts (state machine, scripted ticks)")
struct ConnectionTimeoutsTests {
    @Test("no preface within the handshake timeout closes, exactly at the timeout and once")
    func handshakeTimeout() {
        var script = Script(prefaceReceived: false)
        script.snapshot.receivedBytes = 10   // half a preface: bytes do not extend the handshake
        #expect(script.run(from: 1, to: 9) == nil)
        #expect(script.tick(at: 10) == [.closeBeforePreface])
        #expect(script.tick(at: 11) == [])
    }

    @Test("a preface in time stops the handshake clock")
    func prefaceInTime() {
        var script = Script(prefaceReceived: false)
        #expect(script.run(from: 1, to: 9) == nil)
        script.snapshot.prefaceReceived = true
        script.snapshot.streamsOpened = 1
        script.snapshot.openStreams = 1
        #expect(script.run(from: 10, to: 200) == nil)
    }

    @Test("idle: shutdown announced after the idle timeout without a stream (counted from the preface), closed a tick later")
    func idle() {
        var script = Script(prefaceReceived: false)
        #expect(script.run(from: 1, to: 4) == nil)
        script.snapshot.prefaceReceived = true
        let first = script.run(from: 5, to: 400)
        #expect(first?.at == 305 && first?.actions == [.announceIdleShutdown])
        #expect(script.tick(at: 306) == [.closeIdle])
        #expect(script.run(from: 307, to: 320) == nil)
    }

    @Test("idle: an open stream, or a stream opened and closed between ticks, restarts the idle clock")
    func idleActivity() {
        var script = Script()
        #expect(script.run(from: 1, to: 100) == nil)
        script.snapshot.openStreams = 2
        #expect(script.run(from: 101, to: 500) == nil)
        script.snapshot.openStreams = 0
        #expect(script.run(from: 501, to: 700) == nil)
        script.snapshot.streamsOpened = 7   // a short call came and went
        #expect(script.run(from: 701, to: 1000) == nil)
        #expect(script.run(from: 1001, to: 1001)?.actions == [.announceIdleShutdown])
    }

    @Test("idle: a call opened after the announcement keeps the connection until it ends")
    func idleAnnouncedThenCall() {
        var script = Script()
        #expect(script.run(from: 1, to: 301)?.actions == [.announceIdleShutdown])
        script.snapshot.openStreams = 1
        script.snapshot.streamsOpened = 1
        #expect(script.run(from: 301, to: 400) == nil)
        script.snapshot.openStreams = 0
        #expect(script.tick(at: 401) == [.closeIdle])
    }

    @Test("idle timeout 0 never closes")
    func idleOff() {
        var script = Script(limits: .init(handshakeNanos: 10 * second, idleNanos: 0, stallNanos: 60 * second))
        #expect(script.run(from: 1, to: 5000) == nil)
    }

    @Test("input stopped inside a frame closes after the stall timeout; bytes that keep coming do not")
    func partialFrame() {
        var script = Script()
        script.snapshot.openStreams = 1
        script.snapshot.holdsPartialFrame = true
        for seconds in UInt64(1)...120 {
            script.snapshot.receivedBytes += 1   // a trickle, but progress
            #expect(script.tick(at: seconds) == [])
        }
        // The last byte came before tick 120: the stall counts from there.
        #expect(script.run(from: 121, to: 179) == nil)
        #expect(script.tick(at: 180) == [.closeStalledInput])
    }

    @Test("a stopped connection between frames is not a stall (an idle stream waiting for events)")
    func betweenFrames() {
        var script = Script()
        script.snapshot.openStreams = 1
        #expect(script.run(from: 1, to: 1000) == nil)
    }

    @Test("blocked output closes after the stall timeout without progress, counted from when it was first seen")
    func outputStall() {
        var script = Script()
        script.snapshot.openStreams = 1
        #expect(script.run(from: 1, to: 50) == nil)
        script.snapshot.outputBlocked = true
        for seconds in UInt64(51)...100 {
            script.snapshot.outputProgress += 1
            #expect(script.tick(at: seconds) == [])
        }
        #expect(script.run(from: 101, to: 159) == nil)
        #expect(script.tick(at: 160) == [.closeStalledOutput])
    }

    @Test("output unblocked in between restarts the count")
    func outputUnblocked() {
        var script = Script()
        script.snapshot.openStreams = 1
        script.snapshot.outputBlocked = true
        #expect(script.run(from: 1, to: 59) == nil)
        script.snapshot.outputBlocked = false
        #expect(script.tick(at: 60) == [])
        script.snapshot.outputBlocked = true
        #expect(script.run(from: 61, to: 120) == nil)
        #expect(script.tick(at: 121) == [.closeStalledOutput])
    }

    @Test("a stream holding part of a message fails after the stall timeout; progress restarts it")
    func partialMessage() {
        var script = Script()
        script.snapshot.openStreams = 2
        var stream = ConnectionTimeouts.StreamSnapshot(streamID: 3, receivedBytes: 100, sentBytes: 0,
                                                       holdsPartialMessage: true, waitsForWindow: false)
        script.snapshot.streams = [stream]
        #expect(script.run(from: 1, to: 30) == nil)
        stream.receivedBytes = 200
        script.snapshot.streams = [stream]
        #expect(script.run(from: 31, to: 90) == nil)
        #expect(script.tick(at: 91) == [.failStalledMessage(3)])
        // Reported again later (e.g. not yet gone): watched afresh, no repeat at once.
        #expect(script.tick(at: 92) == [])
    }

    @Test("a stream whose response waits on a closed window is reset after the stall timeout; only that stream")
    func windowStall() {
        var script = Script()
        script.snapshot.openStreams = 3
        let stalled = ConnectionTimeouts.StreamSnapshot(streamID: 5, receivedBytes: 0, sentBytes: 1000,
                                                        holdsPartialMessage: false, waitsForWindow: true)
        var moving = ConnectionTimeouts.StreamSnapshot(streamID: 7, receivedBytes: 0, sentBytes: 0,
                                                       holdsPartialMessage: false, waitsForWindow: true)
        // First seen at tick 1: the stall counts from there.
        for seconds in UInt64(1)...60 {
            moving.sentBytes += 100
            script.snapshot.streams = [stalled, moving]
            #expect(script.tick(at: seconds) == [])
        }
        moving.sentBytes += 100
        script.snapshot.streams = [stalled, moving]
        #expect(script.tick(at: 61) == [.resetStalledStream(5)])
    }

    @Test("a stream that stops waiting is forgotten: waiting again starts a new count")
    func streamForgotten() {
        var script = Script()
        script.snapshot.openStreams = 1
        let waiting = ConnectionTimeouts.StreamSnapshot(streamID: 1, receivedBytes: 0, sentBytes: 0,
                                                        holdsPartialMessage: false, waitsForWindow: true)
        script.snapshot.streams = [waiting]
        #expect(script.run(from: 1, to: 59) == nil)
        script.snapshot.streams = []
        #expect(script.tick(at: 60) == [])
        script.snapshot.streams = [waiting]
        #expect(script.run(from: 61, to: 120) == nil)
        #expect(script.tick(at: 121) == [.resetStalledStream(1)])
    }
}

@Suite("HTTP/2 frame boundaries")
struct HTTP2FrameBoundaryTests {
    private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private static func frame(length: Int, type: UInt8) -> [UInt8] {
        [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, 0, 0, 0, 0, 1]
            + [UInt8](repeating: 0xAB, count: length)
    }

    @Test("inside the preface, a header, a payload; outside between frames, fed in any split", arguments: [1, 2, 5, 9, 64])
    func boundaries(chunk: Int) {
        var tracker = HTTP2FrameBoundary(expectsPreface: true)
        #expect(!tracker.isInsideFrame)
        let stream = Self.preface + Self.frame(length: 0, type: 4) + Self.frame(length: 30, type: 0) + Self.frame(length: 6, type: 8)
        let ends: Set<Int> = [24, 33, 33 + 39, 33 + 39 + 15]
        var fed = 0
        while fed < stream.count {
            let next = min(fed + chunk, stream.count)
            stream[fed..<next].withUnsafeBytes { tracker.advance($0) }
            fed = next
            #expect(tracker.isInsideFrame == !ends.contains(fed), "after \(fed) bytes")
        }
    }
}
