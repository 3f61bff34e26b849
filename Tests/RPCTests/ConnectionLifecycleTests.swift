import Testing
@testable import RPC

@Suite("Server connection lifecycle (state machine, no channel)")
struct ConnectionLifecycleTests {
    @Test("a graceful shutdown: notice once, the final GOAWAY when the last call ends, then closed and torn down")
    func gracefulShutdown() {
        var lifecycle = ConnectionLifecycle()
        #expect(lifecycle.beginDrain(.shutdown) == true)
        #expect(lifecycle.phase == .draining(.shutdown, finalGoawaySent: false))
        // A second reason to go away sends no second notice and keeps the first reason.
        #expect(lifecycle.beginDrain(.maxAge) == false)
        #expect(lifecycle.drainReason == .shutdown)
        // Calls still open: nothing yet.
        #expect(lifecycle.callEnded(callsLeft: 2, hasSession: true) == .none)
        #expect(lifecycle.callEnded(callsLeft: 0, hasSession: true)
            == .sendGoawayThenClose(.noError, debugData: "the server is shutting down"))
        #expect(lifecycle.phase == .closing)
        // Close once the GOAWAY is written, from the outermost flush only.
        #expect(!lifecycle.shouldClose(sessionEnded: false, insideSession: true))
        #expect(lifecycle.shouldClose(sessionEnded: false, insideSession: false))
        #expect(lifecycle.channelClosing() == true)
        #expect(lifecycle.channelClosing() == false)
        #expect(!lifecycle.readsInput)
        #expect(!lifecycle.shouldClose(sessionEnded: true, insideSession: false))
        #expect(lifecycle.tearDown() == true)
        #expect(lifecycle.tearDown() == false)
    }

    @Test("an open connection does not close on its own, only when nghttp2 ends the session")
    func openStaysOpen() {
        var lifecycle = ConnectionLifecycle()
        #expect(lifecycle.callEnded(callsLeft: 0, hasSession: true) == .none)
        #expect(!lifecycle.shouldClose(sessionEnded: false, insideSession: false))
        #expect(lifecycle.shouldClose(sessionEnded: true, insideSession: true))
        #expect(lifecycle.readsInput && !lifecycle.isDraining)
    }

    @Test("closing before the client sent a byte: no session, no GOAWAY, the channel closes at once")
    func closeWithoutSession() {
        var lifecycle = ConnectionLifecycle()
        #expect(lifecycle.close(code: .enhanceYourCalm, debugData: "handshake timeout", hasSession: false) == .closeChannel)
        #expect(lifecycle.phase == .closed)
        #expect(lifecycle.close(code: .noError, debugData: "", hasSession: false) == .none)
        #expect(lifecycle.beginDrain(.shutdown) == false)
    }

    @Test("a close with a GOAWAY of its own, then a forced close: the GOAWAY goes out once")
    func closeOnce() {
        var lifecycle = ConnectionLifecycle()
        #expect(lifecycle.close(code: .enhanceYourCalm, debugData: "stall", hasSession: true)
            == .sendGoawayThenClose(.enhanceYourCalm, debugData: "stall"))
        #expect(lifecycle.finishDrain(hasSession: true) == .none)
        // A drain cannot start on a closing connection.
        #expect(lifecycle.beginDrain(.maxAge) == false)
        #expect(lifecycle.tooManyPings(callsOpen: false, hasSession: true) == .none)
    }

    @Test("too many pings with calls open: the final GOAWAY now (ENHANCE_YOUR_CALM, too_many_pings), the close when they end")
    func tooManyPingsWithCalls() {
        var lifecycle = ConnectionLifecycle()
        #expect(lifecycle.beginDrain(.idle("idle")) == true)
        // It overrides a drain whose final GOAWAY is not out yet.
        #expect(lifecycle.tooManyPings(callsOpen: true, hasSession: true)
            == .sendGoaway(.enhanceYourCalm, debugData: "too_many_pings"))
        #expect(lifecycle.phase == .draining(.tooManyPings, finalGoawaySent: true))
        #expect(lifecycle.tooManyPings(callsOpen: true, hasSession: true) == .none)
        // The last call's end closes without a second GOAWAY.
        #expect(lifecycle.callEnded(callsLeft: 0, hasSession: true) == .flushThenClose)
        #expect(lifecycle.phase == .closing)
    }

    @Test("too many pings without calls: GOAWAY and close")
    func tooManyPingsIdle() {
        var lifecycle = ConnectionLifecycle()
        #expect(lifecycle.tooManyPings(callsOpen: false, hasSession: true)
            == .sendGoawayThenClose(.enhanceYourCalm, debugData: "too_many_pings"))
    }

    @Test("max age: notice, final GOAWAY when the PING returns, close after the grace; other drains ignore max-age steps")
    func maxAge() {
        var lifecycle = ConnectionLifecycle()
        #expect(lifecycle.beginDrain(.maxAge) == true)
        #expect(lifecycle.finalGoaway(for: .maxAge, callsOpen: true, hasSession: true)
            == .sendGoaway(.noError, debugData: "max_age"))
        #expect(lifecycle.finalGoaway(for: .maxAge, callsOpen: true, hasSession: true) == .none)
        #expect(lifecycle.graceOver(for: .maxAge, hasSession: true) == .flushThenClose)

        var shuttingDown = ConnectionLifecycle()
        #expect(shuttingDown.beginDrain(.shutdown) == true)
        #expect(shuttingDown.finalGoaway(for: .maxAge, callsOpen: false, hasSession: true) == .none)
        #expect(shuttingDown.graceOver(for: .maxAge, hasSession: true) == .none)
        #expect(shuttingDown.phase == .draining(.shutdown, finalGoawaySent: false))

        var idleAtMaxAge = ConnectionLifecycle()
        #expect(idleAtMaxAge.beginDrain(.maxAge) == true)
        #expect(idleAtMaxAge.finalGoaway(for: .maxAge, callsOpen: false, hasSession: true)
            == .sendGoawayThenClose(.noError, debugData: "max_age"))
    }

    @Test("a peer that reads nothing is closed at once from any live phase; teardown follows from anywhere")
    func closeAtOnce() {
        for start in 0..<3 {
            var lifecycle = ConnectionLifecycle()
            if start >= 1 { _ = lifecycle.beginDrain(.shutdown) }
            if start >= 2 { _ = lifecycle.finishDrain(hasSession: true) }
            #expect(lifecycle.channelClosing() == true)
            #expect(lifecycle.phase == .closed)
            #expect(lifecycle.tearDown() == true)
            #expect(lifecycle.phase == .tornDown)
        }
    }

    @Test("one flush is queued at a time, and none after teardown")
    func flushScheduling() {
        var lifecycle = ConnectionLifecycle()
        #expect(lifecycle.scheduleFlush() == true)
        #expect(lifecycle.scheduleFlush() == false)
        lifecycle.scheduledFlushRan()
        #expect(lifecycle.scheduleFlush() == true)
        _ = lifecycle.tearDown()
        lifecycle.scheduledFlushRan()
        #expect(lifecycle.scheduleFlush() == false)
    }
}
