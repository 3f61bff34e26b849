/// HTTP/2 keepalive and connection ageing for one server connection, the way grpc servers do
/// them (grpc doc/keepalive.md; grpc-go `keepalive.ServerParameters` and `EnforcementPolicy`):
///
/// - Enforcement: a client PING that comes sooner than `minPingIntervalNanos` after the last
///   one (or sooner than two hours when no call is open and pings without calls are not
///   permitted) is a strike; a PING after the server sent HEADERS or DATA clears the strikes
///   (gRPC clients send BDP pings as data arrives). Past `maxPingStrikes` the client gets a
///   GOAWAY ENHANCE_YOUR_CALM "too_many_pings" (gRPC clients then double their keepalive
///   time), open calls finish, and a client that strikes again is disconnected at once.
/// - Server keepalive: after `pingIntervalNanos` without a received byte the server sends a
///   PING; nothing received within `pingTimeoutNanos` after it closes the connection (a
///   dead peer, or half-open TCP behind a NAT).
/// - Ageing: at `maxAgeNanos` (jittered by the caller) a graceful GOAWAY, gRPC's two-step
///   one: a GOAWAY with the last stream id 2^31-1 and a PING; on its ACK (or after
///   `pingTimeoutNanos`) the final GOAWAY with the real last stream id, so streams that
///   crossed the first GOAWAY are served. Calls still open `maxAgeGraceNanos` after the
///   first GOAWAY are cancelled with the connection.
///
/// A value type fed with the time by its connection (ticks from `ConnectionSweeper`, and the
/// PING events): it reads no clock and draws no random number.
struct ConnectionKeepalive {
    /// The policy, in nanoseconds; 0 turns a clock off where noted.
    struct Policy: Equatable, Sendable {
        /// Without received bytes for this long the server sends a PING; 0 = never.
        var pingIntervalNanos: UInt64
        /// A server PING unanswered (no byte received) for this long closes the connection.
        var pingTimeoutNanos: UInt64
        /// Client PINGs closer than this, with calls open, are strikes; 0 = no minimum.
        var minPingIntervalNanos: UInt64
        /// Client PINGs without an open call are held to `minPingIntervalNanos` too; when
        /// false, to two hours (gRPC's rule).
        var permitWithoutCalls: Bool
        /// Strikes tolerated; one more is "too_many_pings" (2 in grpc core and grpc-go).
        var maxPingStrikes: Int = 2
        /// The connection's age limit (the caller applies the jitter); 0 = no limit.
        var maxAgeNanos: UInt64
        /// Time calls get after the first max-age GOAWAY; 0 = no limit.
        var maxAgeGraceNanos: UInt64
    }

    /// gRPC's minimum interval between pings on a connection without calls, unless permitted.
    static let pingIntervalWithoutCallsNanos: UInt64 = 2 * 3600 * 1_000_000_000

    /// The PING payloads the server sends, to tell their ACKs apart.
    enum PingPurpose: UInt64 {
        case keepalive = 0x6b65_6570_616c_6976   // "keepaliv"
        case maxAge = 0x6d61_785f_6167_6521      // "max_age!"
    }

    /// What the connection must do.
    enum Action: Equatable {
        /// Send a keepalive PING (`PingPurpose.keepalive`).
        case sendPing
        /// The keepalive PING went unanswered: close without further ado.
        case closeDeadPeer
        /// Too many pings: GOAWAY ENHANCE_YOUR_CALM "too_many_pings"; open calls may finish.
        case goawayTooManyPings
        /// Struck again after that GOAWAY: close now.
        case closePingAbuser
        /// Max age reached: GOAWAY (last stream id 2^31-1, NO_ERROR) and a `PingPurpose.maxAge` PING.
        case announceMaxAge
        /// The max-age PING was answered (or timed out): the final GOAWAY (NO_ERROR, "max_age");
        /// the connection closes when its last call ends.
        case goawayMaxAge
        /// The grace after max age is over: cancel what is left and close.
        case closeAfterGrace
    }

    private enum AgePhase: Equatable {
        case young
        case announced(atNanos: UInt64)
        case goneAway(announcedAtNanos: UInt64)
        case done
    }

    let policy: Policy
    private let startNanos: UInt64
    // Enforcement.
    private var lastPingReceivedAt: UInt64?
    private var strikes = 0
    private var responseFramesSeen: UInt64 = 0
    private var toldTooManyPings = false
    // Server pings.
    private var lastReceivedBytes: UInt64 = 0
    private var receivedAt: UInt64
    private var pingSentAt: UInt64?
    private var age = AgePhase.young
    private var finished = false

    init(policy: Policy, startNanos: UInt64) {
        self.policy = policy
        self.startNanos = startNanos
        self.receivedAt = startNanos
    }

    /// The client sent a PING (not an ACK). `responseFramesSent` counts the HEADERS and DATA
    /// frames the server has sent so far; `openCalls` the calls open now.
    mutating func pingReceived(nowNanos now: UInt64, openCalls: Int, responseFramesSent: UInt64) -> Action? {
        guard !finished else { return nil }
        defer { lastPingReceivedAt = now }
        if responseFramesSent != responseFramesSeen {
            responseFramesSeen = responseFramesSent
            strikes = 0
            return nil
        }
        guard let last = lastPingReceivedAt else { return nil }
        let minimum = openCalls == 0 && !policy.permitWithoutCalls
            ? max(policy.minPingIntervalNanos, Self.pingIntervalWithoutCallsNanos) : policy.minPingIntervalNanos
        guard now &- last < minimum else { return nil }
        strikes += 1
        guard strikes > policy.maxPingStrikes else { return nil }
        if toldTooManyPings {
            finished = true
            return .closePingAbuser
        }
        toldTooManyPings = true
        strikes = 0
        return .goawayTooManyPings
    }

    /// The peer acknowledged one of the server's PINGs.
    mutating func pingAcknowledged(_ purpose: PingPurpose, nowNanos now: UInt64) -> Action? {
        guard !finished else { return nil }
        switch purpose {
        case .keepalive:
            pingSentAt = nil
            receivedAt = now
            return nil
        case .maxAge:
            guard case .announced(let at) = age else { return nil }
            age = .goneAway(announcedAtNanos: at)
            return .goawayMaxAge
        }
    }

    /// The periodic check: `receivedBytes` is the total received so far (only its changes matter).
    mutating func tick(nowNanos now: UInt64, receivedBytes: UInt64) -> [Action] {
        guard !finished else { return [] }
        if receivedBytes != lastReceivedBytes {
            lastReceivedBytes = receivedBytes
            receivedAt = now
            // Any byte proves the peer alive, as an ACK would (grpc-go reads it so too).
            pingSentAt = nil
        }
        if let sent = pingSentAt, now &- sent >= policy.pingTimeoutNanos {
            finished = true
            return [.closeDeadPeer]
        }
        var actions: [Action] = []
        if pingSentAt == nil, policy.pingIntervalNanos > 0, now &- receivedAt >= policy.pingIntervalNanos {
            pingSentAt = now
            actions.append(.sendPing)
        }
        if let action = ageAction(now) { actions.append(action) }
        if actions.last == .closeAfterGrace { finished = true }
        return actions
    }

    private mutating func ageAction(_ now: UInt64) -> Action? {
        switch age {
        case .young:
            guard policy.maxAgeNanos > 0, now &- startNanos >= policy.maxAgeNanos else { return nil }
            age = .announced(atNanos: now)
            return .announceMaxAge
        case .announced(let at):
            if graceOver(since: at, now) { return closeAfterGrace() }
            guard now &- at >= policy.pingTimeoutNanos else { return nil }
            age = .goneAway(announcedAtNanos: at)
            return .goawayMaxAge
        case .goneAway(let at):
            return graceOver(since: at, now) ? closeAfterGrace() : nil
        case .done:
            return nil
        }
    }

    private func graceOver(since announced: UInt64, _ now: UInt64) -> Bool {
        policy.maxAgeGraceNanos > 0 && now &- announced >= policy.maxAgeGraceNanos
    }

    private mutating func closeAfterGrace() -> Action {
        age = .done
        return .closeAfterGrace
    }

    /// `nanos` moved by `jitter` (from -1 to 1) times a tenth of itself: connections made
    /// together (a deploy, a load balancer's burst) then age out spread over a fifth of the age.
    static func jittered(_ nanos: UInt64, jitter: Double) -> UInt64 {
        guard nanos > 0 else { return 0 }
        let factor = 1 + 0.1 * min(max(jitter, -1), 1)
        return UInt64(min(Double(nanos) * factor, Double(UInt64.max / 2)))
    }
}
