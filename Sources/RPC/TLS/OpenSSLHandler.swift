internal import COpenSSL
import NIOCore

/// TLS for one connection, through OpenSSL memory BIOs: ciphertext from the socket goes
/// into the read BIO, plaintext comes out of `SSL_read`; plaintext written by the HTTP/2
/// layer goes through `SSL_write` and the write BIO's ciphertext goes to the socket.
final class OpenSSLHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let connection: OpenSSLConnection
    private var handshakeDone = false
    private var failed = false
    /// Plaintext written before the handshake finished.
    private var pendingWrites: [ByteBuffer] = []
    private let onError: (String) -> Void

    init(context: OpenSSLContext, onError: @escaping (String) -> Void) throws(TLSError) {
        self.connection = try OpenSSLConnection(context)
        self.onError = onError
    }

    func channelActive(context: ChannelHandlerContext) {
        if connection.role == .client { advanceHandshake(context: context) }
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive, connection.role == .client { advanceHandshake(context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { connection.feedCiphertext($0) }
        if !handshakeDone {
            advanceHandshake(context: context)
            guard handshakeDone else { return }
        }
        readPlaintext(context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !failed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        let buffer = unwrapOutboundIn(data)
        guard handshakeDone else {
            pendingWrites.append(buffer)
            promise?.succeed()
            return
        }
        encrypt(buffer, context: context)
        promise?.succeed()
    }

    func flush(context: ChannelHandlerContext) {
        writeCiphertext(context: context, flush: true)
    }

    private func advanceHandshake(context: ChannelHandlerContext) {
        switch connection.handshake() {
        case .done:
            handshakeDone = true
            writeCiphertext(context: context, flush: true)
            let writes = pendingWrites
            pendingWrites = []
            for buffer in writes { encrypt(buffer, context: context) }
            writeCiphertext(context: context, flush: true)
        case .wantMore:
            writeCiphertext(context: context, flush: true)
        case .failed(let reason):
            fail(context: context, reason: "TLS handshake failed: \(reason)")
        }
    }

    private func readPlaintext(context: ChannelHandlerContext) {
        var produced = false
        while true {
            var buffer = context.channel.allocator.buffer(capacity: 16 * 1024)
            let result = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 * 1024) { bytes in
                connection.readPlaintext(into: bytes)
            }
            switch connection.lastReadOutcome {
            case .data:
                produced = true
                context.fireChannelRead(wrapInboundOut(buffer))
                _ = result
                continue
            case .wantMore:
                break
            case .closed:
                writeCiphertext(context: context, flush: true)
                context.close(promise: nil)
            case .failed(let reason):
                fail(context: context, reason: "TLS read failed: \(reason)")
            }
            break
        }
        // Alerts and session tickets produced while reading.
        writeCiphertext(context: context, flush: true)
        if produced { context.fireChannelReadComplete() }
    }

    private func encrypt(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        let ok = buffer.withUnsafeReadableBytes { connection.writePlaintext($0) }
        if !ok {
            fail(context: context, reason: "TLS write failed: \(OpenSSLContext.lastError())")
            return
        }
        writeCiphertext(context: context, flush: false)
    }

    private func writeCiphertext(context: ChannelHandlerContext, flush: Bool) {
        let pending = connection.pendingCiphertextBytes
        if pending > 0 {
            var buffer = context.channel.allocator.buffer(capacity: pending)
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { connection.takeCiphertext(into: $0) }
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
        if flush { context.flush() }
    }

    private func fail(context: ChannelHandlerContext, reason: String) {
        guard !failed else { return }
        failed = true
        onError(reason)
        writeCiphertext(context: context, flush: true)
        context.close(promise: nil)
    }
}

/// One `SSL` object with its two memory BIOs. The only type that touches them.
final class OpenSSLConnection {
    enum HandshakeResult { case done, wantMore, failed(String) }
    enum ReadOutcome { case data, wantMore, closed, failed(String) }

    let role: OpenSSLContext.Role
    private let ssl: OpaquePointer
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    private(set) var lastReadOutcome = ReadOutcome.wantMore
    private let context: OpenSSLContext

    init(_ context: OpenSSLContext) throws(TLSError) {
        guard let ssl = SSL_new(context.context),
              let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(BIO_s_mem()) else {
            throw TLSError(message: "cannot create TLS connection: \(OpenSSLContext.lastError())")
        }
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
        self.role = context.role
        self.context = context
        SSL_set_bio(ssl, readBIO, writeBIO)
        switch context.role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client:
            SSL_set_connect_state(ssl)
            if let host = context.serverHostname {
                _ = COpenSSL_SSL_set_tlsext_host_name(ssl, host)
                _ = SSL_set1_host(ssl, host)
            }
        }
    }

    deinit { SSL_free(ssl) }  // frees both BIOs too

    func feedCiphertext(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let written = BIO_write(readBIO, bytes.baseAddress! + offset, Int32(min(bytes.count - offset, Int(Int32.max))))
            if written <= 0 { return }
            offset += Int(written)
        }
    }

    func handshake() -> HandshakeResult {
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .done }
        let error = SSL_get_error(ssl, rc)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return .wantMore }
        return .failed(OpenSSLContext.lastError())
    }

    /// Reads decrypted bytes; the outcome of the last call is in `lastReadOutcome`.
    func readPlaintext(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let rc = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
        if rc > 0 {
            lastReadOutcome = .data
            return Int(rc)
        }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: lastReadOutcome = .wantMore
        case SSL_ERROR_ZERO_RETURN: lastReadOutcome = .closed
        default: lastReadOutcome = .failed(OpenSSLContext.lastError())
        }
        return 0
    }

    func writePlaintext(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let rc = SSL_write(ssl, bytes.baseAddress! + offset, Int32(min(bytes.count - offset, 1 << 20)))
            if rc <= 0 { return false }
            offset += Int(rc)
        }
        return true
    }

    var pendingCiphertextBytes: Int { Int(COpenSSL_BIO_pending(writeBIO)) }

    func takeCiphertext(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let rc = BIO_read(writeBIO, buffer.baseAddress, Int32(buffer.count))
        return rc > 0 ? Int(rc) : 0
    }
}
