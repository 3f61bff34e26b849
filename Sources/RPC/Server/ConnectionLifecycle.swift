/// The life of a server connection, from open to torn down: which phase it is in and what each
/// event asks its handler to do. Pure (no channel): the handler reports events and carries out
/// the actions returned, and each transition is unit-tested (`ConnectionLifecycleTests`).
///
/// ```
/// open --drain--> draining --last call ends / idle / grace over--> closing --written--> closed --> tornDown
///   \------------------------ close (GOAWAY now) ---------------------^            ^
///    \---------------------- a dead peer, a session error -------------------------/
/// ```
/// Any phase goes to `tornDown` when the channel goes away.
struct ConnectionLifecycle {
    /// Why a connection goes away; its GOAWAY's error code and debug data.
    enum DrainReason: Equatable {
        /// The server shuts down.
        case shutdown
        /// No call for the idle timeout (`detail` names it).
        case idle(String)
        /// The connection reached its maximum age.
        case maxAge
        /// The client pinged more often than the policy allows.
        case tooManyPings

        var code: HTTP2ErrorCode { self == .tooManyPings ? .enhanceYourCalm : .noError }

        /// The final GOAWAY's debug data: gRPC clients look for `too_many_pings` to back off.
        var debugData: String {
            switch self {
            case .shutdown: "the server is shutting down"
            case .idle(let detail): detail
            case .maxAge: "max_age"
            case .tooManyPings: "too_many_pings"
            }
        }
    }

    enum Phase: Equatable {
        /// Serving calls.
        case open
        /// Going away: the client was told (a GOAWAY notice, or the final GOAWAY when
        /// `finalGoawaySent`); calls already open finish, then the connection closes.
        case draining(DrainReason, finalGoawaySent: Bool)
        /// The final GOAWAY is queued: close once what nghttp2 holds is written.
        case closing
        /// The channel is closing: input is dropped, nothing more is written.
        case closed
        /// Calls ended and the connection unregistered; nothing happens any more.
        case tornDown
    }

    private(set) var phase = Phase.open
    /// A flush is queued on the event loop (responses finished together leave in one write).
    private var flushScheduled = false

    /// What going away asks of the handler.
    enum Action: Equatable {
        /// Nothing: the connection is already that far.
        case none
        /// No session, so no GOAWAY to send: close the channel now.
        case closeChannel
        /// Submit the final GOAWAY (`code`, `debugData`) and flush; the calls still open finish.
        case sendGoaway(HTTP2ErrorCode, debugData: String)
        /// Submit the final GOAWAY, flush, and close once it is written.
        case sendGoawayThenClose(HTTP2ErrorCode, debugData: String)
        /// The final GOAWAY is already out: flush, and close once it is written.
        case flushThenClose
    }

    /// Input is still read (not closed, not torn down).
    var readsInput: Bool {
        switch phase {
        case .open, .draining, .closing: true
        case .closed, .tornDown: false
        }
    }

    var isDraining: Bool {
        if case .draining = phase { return true }
        return false
    }

    /// Why the connection drains, if it does.
    var drainReason: DrainReason? {
        if case .draining(let reason, _) = phase { return reason }
        return nil
    }

    // MARK: Going away

    /// Starts a graceful drain (shutdown, idle timeout, max age) of an open connection. Returns
    /// true when the handler should send the GOAWAY notice (a connection already going away
    /// needs no second one).
    mutating func beginDrain(_ reason: DrainReason) -> Bool {
        guard phase == .open else { return false }
        phase = .draining(reason, finalGoawaySent: false)
        return true
    }

    /// The client pinged too often: its GOAWAY is final at once, whatever drain was under way.
    /// With calls open it goes out now (they finish); without, the connection closes.
    mutating func tooManyPings(callsOpen: Bool, hasSession: Bool) -> Action {
        switch phase {
        case .open, .draining(_, finalGoawaySent: false):
            phase = .draining(.tooManyPings, finalGoawaySent: false)
            return finalGoaway(callsOpen: callsOpen, hasSession: hasSession)
        case .draining, .closing, .closed, .tornDown:
            return .none
        }
    }

    /// A drain for `reason` reached its final GOAWAY (max age: the notice's PING came back):
    /// with calls open it goes out now and they finish; without, the connection closes.
    /// Nothing when the connection does not drain for `reason`.
    mutating func finalGoaway(for reason: DrainReason, callsOpen: Bool, hasSession: Bool) -> Action {
        guard drainReason == reason else { return .none }
        return finalGoaway(callsOpen: callsOpen, hasSession: hasSession)
    }

    private mutating func finalGoaway(callsOpen: Bool, hasSession: Bool) -> Action {
        guard callsOpen else { return finishDrain(hasSession: hasSession) }
        guard case .draining(let reason, finalGoawaySent: false) = phase else { return .none }
        phase = .draining(reason, finalGoawaySent: true)
        return .sendGoaway(reason.code, debugData: reason.debugData)
    }

    /// A drain for `reason` is out of grace: the connection closes, ending the calls still
    /// open. Nothing when the connection does not drain for `reason`.
    mutating func graceOver(for reason: DrainReason, hasSession: Bool) -> Action {
        guard drainReason == reason else { return .none }
        return finishDrain(hasSession: hasSession)
    }

    /// Sends the final GOAWAY (the drain's, or a plain NO_ERROR one) and closes once it is
    /// written: the last call of a draining connection ended, the idle close, a forced close.
    mutating func finishDrain(hasSession: Bool) -> Action {
        let reason = drainReason
        return close(code: reason?.code ?? .noError, debugData: reason?.debugData ?? "", hasSession: hasSession)
    }

    /// A call ended: a draining connection with none left closes.
    mutating func callEnded(callsLeft: Int, hasSession: Bool) -> Action {
        guard isDraining, callsLeft == 0 else { return .none }
        return finishDrain(hasSession: hasSession)
    }

    /// Closes after a GOAWAY with `code` and `debugData` (unless the final one is out already);
    /// calls still open end with the connection. Without a session (no bytes from the client
    /// yet) there is nothing to say: the channel closes at once.
    mutating func close(code: HTTP2ErrorCode, debugData: String, hasSession: Bool) -> Action {
        switch phase {
        case .closing, .closed, .tornDown:
            return .none
        case .open, .draining:
            guard hasSession else {
                phase = .closed
                return .closeChannel
            }
            var goawayOut = false
            if case .draining(_, finalGoawaySent: true) = phase { goawayOut = true }
            phase = .closing
            return goawayOut ? .flushThenClose : .sendGoawayThenClose(code, debugData: debugData)
        }
    }

    /// After a flush or a read: true when the channel should close now. `sessionEnded`: nghttp2
    /// wants the connection closed (a protocol error, the GOAWAY exchange is over);
    /// `insideSession`: the flush runs inside an nghttp2 callback, so the outermost one closes.
    func shouldClose(sessionEnded: Bool, insideSession: Bool) -> Bool {
        guard readsInput else { return false }
        return sessionEnded || (phase == .closing && !insideSession)
    }

    /// The channel starts closing (after its GOAWAY was written, or at once for a peer that
    /// reads nothing). Returns false when it already was.
    mutating func channelClosing() -> Bool {
        guard readsInput else { return false }
        phase = .closed
        return true
    }

    /// The channel went away: returns true once, when the handler must end its calls and
    /// unregister.
    mutating func tearDown() -> Bool {
        guard phase != .tornDown else { return false }
        phase = .tornDown
        flushScheduled = false
        return true
    }

    // MARK: Flushing

    /// Returns true when the handler should queue a flush on the event loop (none is queued).
    mutating func scheduleFlush() -> Bool {
        guard !flushScheduled, phase != .tornDown else { return false }
        flushScheduled = true
        return true
    }

    /// The queued flush runs.
    mutating func scheduledFlushRan() {
        flushScheduled = false
    }
}
