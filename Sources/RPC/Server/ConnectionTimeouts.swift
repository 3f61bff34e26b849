/// Decides when a server connection has waited too long for its peer: no HTTP/2 preface
/// after the handshake timeout, no call for the idle timeout, or no progress for the stall
/// timeout while holding part of a frame, part of a request message, or response bytes
/// the peer will not take.
///
/// A value type fed by coarse periodic ticks (about one a second): the connection counts
/// bytes and streams on its fast path with plain integer adds and hands the totals over at
/// each tick, so no timer or clock read costs anything per frame. It reads no clock itself:
/// every snapshot carries the time. A condition fires only once it has held, unchanged, for
/// at least the whole timeout, counted from the first tick that saw it (never early; late
/// by at most one tick).
struct ConnectionTimeouts {
    /// The three timeouts, in nanoseconds.
    struct Limits: Equatable, Sendable {
        /// From accept to the client's preface and first SETTINGS (TLS handshake included).
        var handshakeNanos: UInt64
        /// Without an open stream, counted from the first tick that saw the preface; 0 turns
        /// the idle close off.
        var idleNanos: UInt64
        /// Without progress while the connection or a stream waits in the middle of something.
        var stallNanos: UInt64
    }

    /// What the connection reports about one stream that is waiting on its peer.
    struct StreamSnapshot: Equatable {
        var streamID: Int32
        /// Request body bytes received on the stream so far.
        var receivedBytes: UInt64
        /// Response body bytes nghttp2 took from the stream so far.
        var sentBytes: UInt64
        /// The stream holds the first bytes of a request message and waits for the rest.
        var holdsPartialMessage: Bool
        /// Response bytes are queued and the stream's send window is closed.
        var waitsForWindow: Bool
    }

    /// What the connection reports at a tick. Counters are totals since the connection
    /// started; only their changes matter.
    struct Snapshot {
        var nowNanos: UInt64
        /// The client's preface and first SETTINGS frame have arrived.
        var prefaceReceived: Bool
        var openStreams: Int
        var streamsOpened: UInt64
        var receivedBytes: UInt64
        /// The bytes received so far end inside an HTTP/2 frame (or inside the preface).
        var holdsPartialFrame: Bool
        /// Output cannot leave: the socket is not writable, or the connection's send
        /// window is closed while a stream has bytes to send.
        var outputBlocked: Bool
        /// Grows whenever output moves (bytes sent, socket writable again).
        var outputProgress: UInt64
        /// Only the streams that wait on the peer (a partial message or a closed window).
        var streams: [StreamSnapshot] = []
    }

    /// What the connection must do.
    enum Action: Equatable {
        /// No preface within the handshake timeout: close.
        case closeBeforePreface
        /// Idle for the idle timeout: announce shutdown (GOAWAY) so clients stop opening streams.
        case announceIdleShutdown
        /// Still idle a tick after the announcement: final GOAWAY, then close.
        case closeIdle
        /// Stopped in the middle of a frame for the stall timeout: close.
        case closeStalledInput
        /// Output blocked without progress for the stall timeout: close.
        case closeStalledOutput
        /// This stream's queued response made no progress for the stall timeout: reset it.
        case resetStalledStream(Int32)
        /// This stream's partial request message got no byte for the stall timeout: fail the call.
        case failStalledMessage(Int32)
    }

    private struct StreamWatch {
        var receivedBytes: UInt64
        var sentBytes: UInt64
        var messageStalledSince: UInt64?
        var windowStalledSince: UInt64?
    }

    private enum IdlePhase {
        case open
        case announced
        case done
    }

    let limits: Limits
    private let startNanos: UInt64
    private var lastReceivedBytes: UInt64 = 0
    private var receiveProgressAt: UInt64
    private var lastStreamsOpened: UInt64 = 0
    /// Last tick with a stream open or opened; the idle clock starts with the preface.
    private var activeAt: UInt64?
    private var idlePhase = IdlePhase.open
    private var lastOutputProgress: UInt64 = 0
    private var outputBlockedSince: UInt64?
    private var streams: [Int32: StreamWatch] = [:]
    private var finished = false

    init(limits: Limits, startNanos: UInt64) {
        self.limits = limits
        self.startNanos = startNanos
        self.receiveProgressAt = startNanos
    }

    /// Takes one tick's snapshot and returns what to do now. After a closing action, later
    /// ticks return nothing.
    mutating func tick(_ snapshot: Snapshot) -> [Action] {
        guard !finished else { return [] }
        let now = snapshot.nowNanos
        if snapshot.receivedBytes != lastReceivedBytes {
            lastReceivedBytes = snapshot.receivedBytes
            receiveProgressAt = now
        }
        guard snapshot.prefaceReceived else {
            if now &- startNanos >= limits.handshakeNanos { return finish(.closeBeforePreface) }
            return []
        }
        if snapshot.holdsPartialFrame, now &- receiveProgressAt >= limits.stallNanos {
            return finish(.closeStalledInput)
        }
        if outputStalled(snapshot) { return finish(.closeStalledOutput) }
        var actions = streamActions(snapshot)
        if let idle = idleAction(snapshot) { actions.append(idle) }
        if actions.last == .closeIdle { finished = true }
        return actions
    }

    private mutating func finish(_ action: Action) -> [Action] {
        finished = true
        return [action]
    }

    private mutating func outputStalled(_ snapshot: Snapshot) -> Bool {
        let moved = snapshot.outputProgress != lastOutputProgress
        lastOutputProgress = snapshot.outputProgress
        guard snapshot.outputBlocked else {
            outputBlockedSince = nil
            return false
        }
        if moved || outputBlockedSince == nil { outputBlockedSince = snapshot.nowNanos }
        return snapshot.nowNanos &- (outputBlockedSince ?? snapshot.nowNanos) >= limits.stallNanos
    }

    private mutating func streamActions(_ snapshot: Snapshot) -> [Action] {
        let now = snapshot.nowNanos
        var watched: [Int32: StreamWatch] = [:]
        var actions: [Action] = []
        for stream in snapshot.streams {
            var watch = streams[stream.streamID]
                ?? StreamWatch(receivedBytes: stream.receivedBytes, sentBytes: stream.sentBytes)
            let received = stream.receivedBytes != watch.receivedBytes
            let sent = stream.sentBytes != watch.sentBytes
            watch.receivedBytes = stream.receivedBytes
            watch.sentBytes = stream.sentBytes
            watch.messageStalledSince = stream.holdsPartialMessage
                ? (received ? now : watch.messageStalledSince ?? now) : nil
            watch.windowStalledSince = stream.waitsForWindow
                ? (sent ? now : watch.windowStalledSince ?? now) : nil
            if let since = watch.messageStalledSince, now &- since >= limits.stallNanos {
                actions.append(.failStalledMessage(stream.streamID))
            } else if let since = watch.windowStalledSince, now &- since >= limits.stallNanos {
                actions.append(.resetStalledStream(stream.streamID))
            } else {
                watched[stream.streamID] = watch
            }
        }
        // Streams no longer reported stopped waiting; a stream acted on starts over if it
        // is ever reported again.
        streams = watched
        return actions
    }

    private mutating func idleAction(_ snapshot: Snapshot) -> Action? {
        let now = snapshot.nowNanos
        if activeAt == nil || snapshot.openStreams > 0 || snapshot.streamsOpened != lastStreamsOpened {
            lastStreamsOpened = snapshot.streamsOpened
            activeAt = now
        }
        switch idlePhase {
        case .open:
            guard limits.idleNanos > 0, snapshot.openStreams == 0, now &- (activeAt ?? now) >= limits.idleNanos else { return nil }
            idlePhase = .announced
            return .announceIdleShutdown
        case .announced:
            // Calls opened after the announcement are served; the connection closes when
            // they end (it is draining), or here if none is left.
            guard snapshot.openStreams == 0 else { return nil }
            idlePhase = .done
            return .closeIdle
        case .done:
            return nil
        }
    }
}
