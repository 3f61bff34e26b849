import NIOCore

/// PINGs and connection ageing: `ConnectionKeepalive` decides, this carries it out.
extension ServerConnectionHandler {
    func http2ReceivedPing(ack: Bool, payload: UInt64) {
        guard lifecycle.readsInput, var machine = keepalive else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        let action: ConnectionKeepalive.Action?
        if ack {
            action = ConnectionKeepalive.PingPurpose(rawValue: payload).flatMap { machine.pingAcknowledged($0, nowNanos: now) }
        } else {
            action = machine.pingReceived(nowNanos: now, openCalls: calls.count,
                                          responseFramesSent: session?.headersAndDataFramesSent ?? 0)
        }
        keepalive = machine
        if let action { apply(action) }
    }

    /// The keepalive part of the periodic check (`checkTimeouts`).
    func checkKeepalive(nowNanos: UInt64) {
        guard var machine = keepalive else { return }
        let actions = machine.tick(nowNanos: nowNanos, receivedBytes: receivedBytes)
        keepalive = machine
        guard !actions.isEmpty else { return }
        for action in actions where lifecycle.readsInput { apply(action) }
        flush()
    }

    private func apply(_ action: ConnectionKeepalive.Action) {
        switch action {
        case .sendPing:
            session?.submitPing(payload: ConnectionKeepalive.PingPurpose.keepalive.rawValue)
        case .closeDeadPeer:
            logger.info("closing a connection whose peer did not answer a keepalive PING", metadata: [
                "peer": "\(peer)", "keepalive_timeout": "\(Self.seconds(configuration.keepaliveTimeout))",
            ])
            closeWithoutGoaway()
        case .goawayTooManyPings:
            logger.info("client pings too often: GOAWAY too_many_pings", metadata: [
                "peer": "\(peer)", "keepalive_min_ping_interval": "\(Self.seconds(configuration.keepaliveMinPingInterval))",
            ])
            // The final GOAWAY now, with the text gRPC clients look for to back off; calls
            // already open finish, and nghttp2 ends the session when the last one does.
            perform(lifecycle.tooManyPings(callsOpen: !calls.isEmpty, hasSession: session != nil))
        case .closePingAbuser:
            logger.info("closing a connection that kept pinging after GOAWAY too_many_pings", metadata: ["peer": "\(peer)"])
            closeAfterGoaway(code: .enhanceYourCalm, debugData: ConnectionLifecycle.DrainReason.tooManyPings.debugData)
        case .announceMaxAge:
            // A connection already going away (idle, shutdown, pings) needs no second notice.
            guard lifecycle.beginDrain(.maxAge) else { return }
            logger.debug("connection at its max age: GOAWAY max_age", metadata: ["peer": "\(peer)"])
            session?.submitShutdownNotice()
            // nghttp2 sends a PING ahead of a GOAWAY queued before it: the notice leaves
            // first, so that a client that acknowledges the PING has seen it and sends no
            // stream after the ACK.
            flush()
            session?.submitPing(payload: ConnectionKeepalive.PingPurpose.maxAge.rawValue)
        case .goawayMaxAge:
            perform(lifecycle.finalGoaway(for: .maxAge, callsOpen: !calls.isEmpty, hasSession: session != nil))
        case .closeAfterGrace:
            let close = lifecycle.graceOver(for: .maxAge, hasSession: session != nil)
            if close != .none {
                logger.debug("closing a connection past its max age and grace", metadata: [
                    "peer": "\(peer)", "calls_cancelled": "\(calls.count)",
                ])
            }
            perform(close)
        }
    }
}
