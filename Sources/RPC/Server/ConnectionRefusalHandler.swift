import NIOCore

/// Turns away a connection the server will not serve (past its connection limit): sends the
/// server preface and a GOAWAY saying why, once the TLS handshake is done when there is
/// TLS, then stops writing, drops whatever the client sends and closes when the client
/// does. Closing at once would make the kernel answer the client's unread preface with a
/// reset, which can destroy the GOAWAY before the client reads it.
///
/// Bounded in time: closed at `handshakeTimeout` after accept if it could not answer, and
/// `lingerTimeout` after answering.
final class ConnectionRefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let answer: [UInt8]
    private let waitsForTLS: Bool
    private let handshakeTimeout: TimeAmount
    private let lingerTimeout: TimeAmount
    private var answered = false
    private var closeTimer: Scheduled<Void>?

    /// - Parameters:
    ///   - answer: the bytes to send (`HTTP2Session.refusalBytes`).
    ///   - waitsForTLS: a TLS handler sits before this one; answer when it reports the handshake done.
    init(answer: [UInt8], waitsForTLS: Bool, handshakeTimeout: TimeAmount, lingerTimeout: TimeAmount = .seconds(1)) {
        self.answer = answer
        self.waitsForTLS = waitsForTLS
        self.handshakeTimeout = handshakeTimeout
        self.lingerTimeout = lingerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        closeAfter(handshakeTimeout, context: context)
        if context.channel.isActive, !waitsForTLS { sendAnswer(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closeTimer?.cancel()
    }

    func channelActive(context: ChannelHandlerContext) {
        if !waitsForTLS { sendAnswer(context: context) }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted { sendAnswer(context: context) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The client's preface and whatever follows: not served, dropped.
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func sendAnswer(context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        closeAfter(min(lingerTimeout, handshakeTimeout), context: context)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(bytes: answer))).whenComplete { _ in
            // The client's close then ends the channel (remote half-closure is not allowed).
            channel.close(mode: .output, promise: nil)
        }
    }

    private func closeAfter(_ delay: TimeAmount, context: ChannelHandlerContext) {
        closeTimer?.cancel()
        let channel = context.channel
        closeTimer = context.eventLoop.scheduleTask(in: delay) { channel.close(promise: nil) }
    }
}

/// Fired (as a user inbound event) by `OpenSSLHandler` when its handshake completes.
struct TLSHandshakeCompleted: Sendable {}
