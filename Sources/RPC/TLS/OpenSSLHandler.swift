internal import COpenSSL
import NIOCore

/// TLS for one connection, through OpenSSL memory BIOs: ciphertext from the socket goes
/// into the read BIO, plaintext comes out of `SSL_read`; plaintext written by the HTTP/2
/// layer goes through `SSL_write` and the write BIO's ciphertext goes to the socket.
///
/// On the client, a failure reaches the next handler as a `ConnectionFailure` (through
/// `errorCaught`) that says why: plaintext server, untrusted certificate, name mismatch...
/// On the server, a plaintext HTTP/2 client gets `plaintextAnswer` (a GOAWAY saying that
/// TLS is required) instead of a silent close.
final class OpenSSLHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let connection: OpenSSLConnection
    private var handshakeDone = false
    private var failed = false
    /// Plaintext written before the handshake finished, with the writers' promises.
    private var pendingWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    /// The first bytes the peer sent, kept to tell which protocol it speaks if the handshake fails.
    private var greeting: [UInt8] = []
    private let plaintextAnswer: [UInt8]?
    private let onError: (String) -> Void
    /// Ciphertext bytes received, for stall checks (a record trickling in is progress).
    private(set) var receivedBytes: UInt64 = 0

    /// After the handshake, the peer stopped inside a TLS record (OpenSSL holds part of it).
    var holdsPartialRecord: Bool { handshakeDone && connection.holdsPartialRecord }
    /// The roles the client's certificate proves, once the handshake is done (server side).
    var peerRoles: Set<String> { handshakeDone ? connection.peerRoles : [] }
    /// The names in the client's certificate (`OpenSSLConnection.peerCertificateNames`).
    var peerCertificateNames: [String] { handshakeDone ? connection.peerCertificateNames : [] }

    /// - Parameters:
    ///   - plaintextAnswer: server only: bytes sent in the clear to a client that opened with
    ///     the plaintext HTTP/2 preface, before closing.
    ///   - onError: told why the connection failed (for logs).
    init(context: OpenSSLContext, plaintextAnswer: [UInt8]? = nil, onError: @escaping (String) -> Void) throws(TLSError) {
        self.connection = try OpenSSLConnection(context)
        self.plaintextAnswer = plaintextAnswer
        self.onError = onError
    }

    func channelActive(context: ChannelHandlerContext) {
        if connection.role == .client { advanceHandshake(context: context) }
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive, connection.role == .client { advanceHandshake(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !handshakeDone, !failed, connection.role == .client {
            failed = true
            let failure = ConnectionFailure(.closedBeforeReady, greeting.isEmpty
                ? "the server closed the connection without answering the TLS handshake: it may not serve TLS on this port, or it refused the connection"
                : "the server closed the connection during the TLS handshake")
            onError(failure.message)
            context.fireErrorCaught(failure)
        }
        failPendingWrites()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let buffer = unwrapInboundIn(data)
        receivedBytes &+= UInt64(buffer.readableBytes)
        if !handshakeDone, greeting.count < Self.greetingBytes {
            greeting += buffer.readableBytesView.prefix(Self.greetingBytes - greeting.count)
        }
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
            pendingWrites.append((buffer, promise))
            return
        }
        encrypt(buffer, promise: promise, context: context)
    }

    func flush(context: ChannelHandlerContext) {
        writeCiphertext(context: context, flush: true)
    }

    private static let greetingBytes = 16

    private func advanceHandshake(context: ChannelHandlerContext) {
        switch connection.handshake() {
        case .done:
            if connection.role == .client, connection.selectedALPN != "h2" {
                fail(context: context, failure: ConnectionFailure(.noHTTP2OverTLS,
                    "the TLS server did not agree to HTTP/2 (ALPN h2): it is not a gRPC server, or serves only HTTP/1.1 on this port"))
                return
            }
            handshakeDone = true
            writeCiphertext(context: context, flush: true)
            let writes = pendingWrites
            pendingWrites = []
            for (buffer, promise) in writes { encrypt(buffer, promise: promise, context: context) }
            writeCiphertext(context: context, flush: true)
            context.fireUserInboundEventTriggered(TLSHandshakeCompleted())
        case .wantMore:
            writeCiphertext(context: context, flush: true)
        case .failed(let error):
            if connection.role == .server, let plaintextAnswer, greeting.starts(with: Self.http2Preface) {
                answerPlaintextClient(plaintextAnswer, context: context)
                return
            }
            fail(context: context, failure: connection.diagnose(error, greeting: greeting, during: .handshake))
        }
    }

    /// `PRI * HTTP/2.0`: how a plaintext (h2c) client's preface begins.
    private static let http2Preface = Array("PRI * HTTP/2.0".utf8)

    private func answerPlaintextClient(_ answer: [UInt8], context: ChannelHandlerContext) {
        failed = true
        onError("a client spoke plaintext HTTP/2 to the TLS port")
        failPendingWrites()
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(bytes: answer))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private func readPlaintext(context: ChannelHandlerContext) {
        var produced = false
        while true {
            var buffer = context.channel.allocator.buffer(capacity: 16 * 1024)
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 * 1024) { bytes in
                connection.readPlaintext(into: bytes)
            }
            switch connection.lastReadOutcome {
            case .data:
                produced = true
                context.fireChannelRead(wrapInboundOut(buffer))
                continue
            case .wantMore:
                break
            case .closed:
                writeCiphertext(context: context, flush: true)
                context.close(promise: nil)
            case .failed(let error):
                fail(context: context, failure: connection.diagnose(error, greeting: greeting, during: .read))
            }
            break
        }
        // Alerts and session tickets produced while reading.
        writeCiphertext(context: context, flush: true)
        if produced { context.fireChannelReadComplete() }
    }

    private func encrypt(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        let ok = buffer.withUnsafeReadableBytes { connection.writePlaintext($0) }
        if !ok {
            promise?.fail(ChannelError.ioOnClosedChannel)
            fail(context: context, failure: ConnectionFailure(.tlsHandshakeFailed, "TLS write failed: \(OpenSSLContext.lastError())"))
            return
        }
        writeCiphertext(context: context, flush: false, promise: promise)
    }

    /// Passes the ciphertext OpenSSL produced to the socket; `promise` completes when it has
    /// been written there (so "close after this write" waits for the bytes to leave).
    private func writeCiphertext(context: ChannelHandlerContext, flush: Bool, promise: EventLoopPromise<Void>? = nil) {
        let pending = connection.pendingCiphertextBytes
        if pending > 0 {
            var buffer = context.channel.allocator.buffer(capacity: pending)
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { connection.takeCiphertext(into: $0) }
            context.write(wrapOutboundOut(buffer), promise: promise)
        } else if let promise {
            // Nothing new to send: an empty write completes once earlier writes are out.
            context.write(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        }
        if flush { context.flush() }
    }

    private func failPendingWrites() {
        let writes = pendingWrites
        pendingWrites = []
        for (_, promise) in writes { promise?.fail(ChannelError.ioOnClosedChannel) }
    }

    private func fail(context: ChannelHandlerContext, failure: ConnectionFailure) {
        guard !failed else { return }
        failed = true
        onError(failure.message)
        failPendingWrites()
        writeCiphertext(context: context, flush: true)
        if connection.role == .client { context.fireErrorCaught(failure) }
        context.close(promise: nil)
    }
}

/// One `SSL` object with its two memory BIOs. The only type that touches them.
final class OpenSSLConnection {
    enum HandshakeResult { case done, wantMore, failed(OpenSSLFailure) }
    enum ReadOutcome { case data, wantMore, closed, failed(OpenSSLFailure) }

    let role: OpenSSLContext.Role
    let ssl: OpaquePointer
    /// The server asked for a client certificate and this client has none.
    var clientCertificateRequested = false
    /// A client certificate is configured.
    var hasCertificate: Bool { context.hasCertificate }
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    private(set) var lastReadOutcome = ReadOutcome.wantMore
    let context: OpenSSLContext

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
        // For `noteClientCertificateRequest`; the SSL object never outlives self.
        _ = SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
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

    /// The roles the peer's certificate proves (server side, after the handshake).
    var peerRoles: Set<String> {
        Set(context.roleStores.filter { COpenSSL_peer_chains_to(ssl, $0.store) == 1 }.map(\.role))
    }

    /// The peer certificate's common name and subject alternative names, as `CN=...`,
    /// `DNS:...`, `URI:...`, `email:...`, `IP:...` (server side, after the handshake; the
    /// handshake verified the certificate when the server asks for one).
    var peerCertificateNames: [String] {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = COpenSSL_peer_names(ssl, &buffer, Int32(buffer.count))
        guard length > 0 else { return [] }
        let bytes = buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    func handshake() -> HandshakeResult {
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .done }
        let error = SSL_get_error(ssl, rc)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return .wantMore }
        return .failed(OpenSSLFailure.take())
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
        default: lastReadOutcome = .failed(OpenSSLFailure.take())
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

    /// OpenSSL holds received bytes it could not decrypt yet: part of a record.
    var holdsPartialRecord: Bool { SSL_has_pending(ssl) == 1 || COpenSSL_BIO_pending(readBIO) > 0 }

    func takeCiphertext(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let rc = BIO_read(writeBIO, buffer.baseAddress, Int32(buffer.count))
        return rc > 0 ? Int(rc) : 0
    }
}
