import Logging
import NIOCore
import Synchronization

/// One connection on the server: feeds socket bytes to its session (HTTP/2 through nghttp2,
/// or HTTP/1.1 for gRPC-Web, told apart by the first bytes), turns streams into calls, runs
/// handlers as tasks and writes what the session produces. Lives on one event loop.
final class ServerConnectionHandler: ChannelInboundHandler, HTTP2SessionDelegate {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let router: RPCRouter
    let configuration: ServerConfiguration
    let logger: Logger
    private let onClose: @Sendable () -> Void
    private(set) var session: (any ServerWireSession)?
    /// The connection speaks HTTP/1.1 (gRPC-Web only), not HTTP/2.
    private(set) var isHTTP1 = false
    /// The first bytes, kept until they tell HTTP/2's preface from an HTTP/1.1 request line.
    private var firstBytes: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var ref: ServerConnectionRef?
    private(set) var calls: [Int32: ServerCall] = [:]
    /// How many more calls keep off the event loop because the connection recently had calls
    /// open side by side (see `runInline`).
    private var multiplexingCallsLeft = 0
    private(set) var peer = "unknown"
    /// This connection's `ServerContext.connectionID`.
    private let connectionID = ServerConnectionHandler.nextConnectionID.add(1, ordering: .relaxed).newValue
    private static let nextConnectionID = Atomic<UInt64>(0)

    private let pump = SessionPump()
    /// Open, draining, closing, closed, torn down (`ConnectionLifecycle`).
    var lifecycle = ConnectionLifecycle()

    // Connection hygiene (see ConnectionTimeouts): counters the fast path bumps, read by a
    // periodic check on the event loop.
    private var timeouts: ConnectionTimeouts?
    /// Pings and ageing (see ServerConnectionHandler+Keepalive.swift).
    var keepalive: ConnectionKeepalive?
    private let sweeper: ConnectionSweeper?
    private var inputFrames = HTTP2FrameBoundary(expectsPreface: true)
    /// The connection's TLS handler, if any: a peer can also stop inside a TLS record.
    private var tls: OpenSSLHandler?
    /// What the client's certificate proves, computed at the first call.
    private var peerRoles: Set<String>?
    /// The names in the client's certificate, read once (for the authorizer).
    private var peerCertificateNames: [String]?
    private var prefaceReceived = false
    private(set) var receivedBytes: UInt64 = 0
    private var streamsOpened: UInt64 = 0
    private var outputProgress: UInt64 = 0
    /// Request bytes held across this connection's calls (`ServerCall.heldRequestBytes`).
    private var bufferedRequestBytes = 0

    /// `sweeper` runs this connection's timeout checks; nil runs none.
    init(router: RPCRouter, configuration: ServerConfiguration, logger: Logger, sweeper: ConnectionSweeper?,
         onClose: @escaping @Sendable () -> Void) {
        self.sweeper = sweeper
        self.router = router
        self.configuration = configuration
        self.logger = logger
        self.onClose = onClose
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        peer = context.channel.remoteAddress.map { "\($0)" } ?? "unknown"
        ref = ServerConnectionRef(eventLoop: context.eventLoop,
                                  handler: NIOLoopBound(self, eventLoop: context.eventLoop))
        tls = try? context.pipeline.syncOperations.handler(type: OpenSSLHandler.self)
        // The HTTP/2 session (about 20 KB, most of it nghttp2's frame buffer) is made when the
        // client's first bytes arrive: a connection that sends nothing costs little while
        // its handshake timeout runs.
        startTimeoutChecks(context: context)
    }

    /// The HTTP/2 client preface starts with these bytes; an HTTP/1.1 request line cannot.
    private static let prefaceStart = Array("PRI ".utf8)

    /// Makes the session once the first bytes tell the protocol: HTTP/1.1 when they start
    /// with an upper-case letter (a request line) other than the HTTP/2 preface's `PRI `,
    /// HTTP/2 otherwise, so that anything else (a TLS ClientHello on a plaintext port) still
    /// gets nghttp2's GOAWAY, which clients diagnose. An HTTP/2 session queues the server
    /// preface (SETTINGS), which leaves with the answer to the client's first bytes. Nil
    /// until enough bytes arrived.
    private func startSession(context: ChannelHandlerContext, first buffer: ByteBuffer) -> (any ServerWireSession)? {
        let seen = buffer.readableBytesView.prefix(Self.prefaceStart.count)
        let startsPreface = seen.elementsEqual(Self.prefaceStart.prefix(seen.count))
        if startsPreface, seen.count < Self.prefaceStart.count { return nil }
        let http2 = startsPreface || !(seen.first.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) } ?? false)
        guard http2 else {
            isHTTP1 = true
            let session = HTTP1Session(delegate: self, limits: configuration.http1Limits)
            self.session = session
            return session
        }
        do {
            let session = try HTTP2Session(role: .server, delegate: self, limits: configuration.http2Limits)
            self.session = session
            return session
        } catch {
            logger.error("cannot create HTTP/2 session", metadata: ["error": "\(error)"])
            closeWithoutGoaway()
            return nil
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        teardown(reason: "connection closed")
        self.context = nil
        // Breaks the handler <-> ref cycle; tasks still holding the ref finish on their own.
        ref = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        teardown(reason: "connection closed")
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard lifecycle.readsInput else { return }
        var buffer = unwrapInboundIn(data)
        receivedBytes &+= UInt64(buffer.readableBytes)
        if session == nil, var first = firstBytes.take() {
            first.writeBuffer(&buffer)
            buffer = first
        }
        guard let session = session ?? startSession(context: context, first: buffer) else {
            if lifecycle.readsInput { firstBytes = buffer }
            return
        }
        if !isHTTP1 { buffer.withUnsafeReadableBytes { inputFrames.advance($0) } }
        let sessionEnded = pump.receive(buffer, session: session, context: context) == .close
        if sessionEnded {
            logger.debug("closing connection after an HTTP/2 error or GOAWAY", metadata: ["peer": "\(peer)"])
        }
        if lifecycle.shouldClose(sessionEnded: sessionEnded, insideSession: false) { closeConnection() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            outputProgress &+= 1
            flush()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["peer": "\(peer)", "error": "\(error)"])
        closeConnection()
    }

    // MARK: Writing

    /// Flushes once the event loop has run the tasks already queued, so responses finished
    /// together (many streams of one connection) leave in one write.
    private func scheduleFlush() {
        guard let ref, lifecycle.scheduleFlush() else { return }
        ref.eventLoop.execute {
            let handler = ref.handler.value
            handler.lifecycle.scheduledFlushRan()
            handler.flush()
        }
    }

    /// Writes what nghttp2 has ready (see `SessionPump`).
    func flush() {
        guard let context, let session, lifecycle.readsInput else { return }
        let sessionEnded = pump.flush(session: session, context: context) == .close
        if lifecycle.shouldClose(sessionEnded: sessionEnded, insideSession: pump.isInsideSession) { closeConnection() }
    }

    /// Closes after everything already written has reached the socket (writes complete in
    /// order, so an empty write's completion marks that point).
    ///
    /// The close is a half-close, then `closeLinger` of reading (and dropping) until the client
    /// closes too: closing with requests unread would answer them with a TCP reset, which can
    /// reach the client before the GOAWAY that says those requests were not processed (and so
    /// are safe to send again on a new connection).
    private func closeConnection() {
        guard let context, lifecycle.channelClosing() else { return }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(mode: .output).whenComplete { result in
                guard case .success = result else {
                    channel.close(promise: nil)
                    return
                }
                channel.eventLoop.scheduleTask(in: Self.closeLinger) { channel.close(promise: nil) }
            }
        }
    }

    /// How long a closing connection waits for its client to close after the half-close.
    static let closeLinger = TimeAmount.seconds(1)

    /// Ends every call and unregisters the connection; runs once, however it closed.
    private func teardown(reason: String) {
        guard lifecycle.tearDown() else { return }
        sweeper?.remove(self)
        tls = nil
        bufferedRequestBytes = 0
        let open = calls
        calls = [:]
        for call in open.values {
            call.deadlineTimer?.cancel()
            call.task?.cancel()
            call.state.streamClosed().requests?.finish(throwing: CancellationError())
            call.outbound.discard(error: RPCError(.cancelled, reason))
        }
        onClose()
    }

    // MARK: HTTP/2 events

    func http2ReceivedHeaders(streamID: Int32, headers: [HTTP2Header], endStream: Bool) {
        if let call = calls[streamID] {
            // Trailers from the client end its side of the stream.
            if endStream { endRequests(call) }
            return
        }
        let call = openCall(streamID: streamID)
        if calls.count > 1 {
            multiplexingCallsLeft = Self.multiplexingMemoryCalls
        } else if multiplexingCallsLeft > 0 {
            multiplexingCallsLeft -= 1
        }
        start(call, headers: headers)
        if endStream { endRequests(call) }
    }

    func http2HeadersTooLarge(streamID: Int32) {
        logger.debug("request headers over the limit; call refused",
                     metadata: ["peer": "\(peer)", "limit": "\(configuration.maxHeaderListBytes)"])
        let status = Status(code: .resourceExhausted, message: """
            request metadata is larger than the server's limit of \(configuration.maxHeaderListBytes) bytes \
            (max_header_list_bytes, counted as HTTP/2 does: names, values and 32 bytes a field); send less metadata
            """)
        if let call = calls[streamID] {
            fail(call, status)   // trailers from the client
            return
        }
        respondWithoutCall(openCall(streamID: streamID), httpStatus: "200", status: status)
    }

    /// Registers the call of a new stream.
    private func openCall(streamID: Int32) -> ServerCall {
        let call = ServerCall(streamID: streamID, maxMessageBytes: configuration.maxReceiveMessageBytes,
                              sendHighWaterMarkBytes: configuration.sendHighWaterMarkBytes,
                              receiveHighWaterMarkBytes: configuration.receiveHighWaterMarkBytes)
        calls[streamID] = call
        streamsOpened &+= 1
        return call
    }

    func http2ReceivedData(streamID: Int32, bytes: UnsafeRawBufferPointer) {
        guard let call = calls[streamID], call.state.acceptsRequests else {
            session?.consume(streamID: streamID, count: bytes.count)
            return
        }
        call.receivedBytes &+= UInt64(bytes.count)
        defer { account(call) }
        guard bufferedRequestBytes + bytes.count <= configuration.maxConnectionBufferedRequestBytes else {
            session?.consume(streamID: streamID, count: bytes.count)
            failHoldingRequest(call, Status(code: .resourceExhausted, message: """
                this connection holds \(bufferedRequestBytes) bytes of request messages (unfinished or not yet read) \
                and may hold at most \(configuration.maxConnectionBufferedRequestBytes) (max_connection_buffered_request_bytes); \
                send fewer large messages at a time
                """))
            return
        }
        var messages: [ReceivedMessage]
        do throws(MessageDeframer.Failure) {
            if call.web == .text {
                guard let decoded = call.textDecoder.decode(bytes) else {
                    session?.consume(streamID: streamID, count: bytes.count)
                    failHoldingRequest(call, Status(code: .internal, message:
                        "application/grpc-web-text request body is not base64 (A-Z a-z 0-9 + / and = padding)"))
                    return
                }
                let result = decoded.withUnsafeBytes { decoded in
                    Result { () throws(MessageDeframer.Failure) in try call.deframer.append(decoded) }
                }
                messages = try result.get()
            } else {
                messages = try call.deframer.append(bytes)
            }
        } catch {
            session?.consume(streamID: streamID, count: bytes.count)
            switch error {
            case .tooLarge(let declared, let limit):
                fail(call, Status(code: .resourceExhausted, message:
                    "request message of \(declared) bytes exceeds the server's limit of \(limit) bytes (max_receive_message_bytes)"))
            case .compressedWithoutEncoding:
                fail(call, Status(code: .internal, message:
                    "compressed message received but the call negotiated no grpc-encoding"))
            case .unknownFlag(let flag):
                fail(call, Status(code: .internal, message: "message flag \(flag) is neither 0 (plain) nor 1 (compressed)"))
            case .truncated:
                fail(call, Status(code: .internal, message: "request stream ended inside a message"))
            }
            return
        }
        // Inflated bytes count against the connection's budget like received ones.
        let room = configuration.maxConnectionBufferedRequestBytes - (bufferedRequestBytes - call.bufferedRequestBytes + call.heldRequestBytes)
        if let status = call.inflate(&messages, maxMessageBytes: configuration.maxReceiveMessageBytes, roomBytes: room) {
            session?.consume(streamID: streamID, count: bytes.count)
            failHoldingRequest(call, status)
            return
        }
        if call.state.isInline {
            // The one request message of an inline call is bounded by the deframer's limit and
            // read as soon as it is whole, so its bytes are given back at once.
            session?.consume(streamID: streamID, count: bytes.count)
            if call.state.receiveInline(messages) > 1 {
                fail(call, Status(code: .internal, message: SingleRequest.several))
            }
            return
        }
        let requests = call.state.requestStream
        for message in messages {
            call.window.delivered(messageBytes: message.bytes.count + MessageFraming.prefixBytes)
            requests?.yield(message)
        }
        session?.consume(streamID: streamID, count: call.window.received(bytes.count))
    }

    func http2ReceivedEndStream(streamID: Int32) {
        if let call = calls[streamID] { endRequests(call) }
    }

    func http2StreamClosed(streamID: Int32, errorCode: UInt32) {
        guard let call = calls.removeValue(forKey: streamID) else { return }
        bufferedRequestBytes -= call.bufferedRequestBytes
        call.deadlineTimer?.cancel()
        let (cancelled, requests) = call.state.streamClosed()
        if cancelled {
            // The client reset the stream (cancelled) before the handler finished.
            call.task?.cancel()
            requests?.finish(throwing: CancellationError())
            call.outbound.discard(error: RPCError(.cancelled, "the client cancelled the call"))
        } else {
            requests?.finish()
            call.outbound.discard(error: RPCError(.cancelled, "the call has already ended"))
        }
        perform(lifecycle.callEnded(callsLeft: calls.count, hasSession: session != nil))
    }

    func http2ProvideData(streamID: Int32, into buffer: UnsafeMutableRawBufferPointer) -> HTTP2DataChunk {
        guard let call = calls[streamID] else { return .data(count: 0, end: .endStream) }
        let written = call.outbound.take(into: buffer)
        call.sentBytes &+= UInt64(written)
        outputProgress &+= UInt64(written)
        return call.state.provideData(written: written, queueEmpty: call.outbound.isEmpty)
    }

    func http2ReceivedSettings() {
        prefaceReceived = true
    }

    func http2ReceivedGoaway(lastStreamID: Int32, errorCode: UInt32, debugData: String) {}

    // MARK: Calls

    private func start(_ call: ServerCall, headers: [HTTP2Header]) {
        var method = "", path = "", contentType = "", encoding = "identity", timeout: String?, acceptEncoding: String?
        var origin: String?, requestedHeaders: String?
        for header in headers {
            switch RequestField(name: header.name) {
            case .method: method = header.value
            case .path: path = header.value
            case .contentType: contentType = header.value
            case .encoding: encoding = header.value
            case .acceptEncoding: acceptEncoding = header.value
            case .timeout: timeout = header.value
            case .origin: origin = header.value
            case .requestedHeaders: requestedHeaders = header.value
            case nil: break
            }
        }
        let cors = CORSPolicy(allowedOrigins: configuration.corsAllowedOrigins)
        if method == "OPTIONS" {
            // A browser's CORS preflight, before a cross-origin gRPC-Web call.
            call.state.answeredWithoutBody()
            session?.submitResponse(streamID: call.streamID,
                                    headers: cors.preflight(origin: origin, requestedHeaders: requestedHeaders), hasBody: false)
            flush()
            return
        }
        // A GET of a gRPC method's path is still told that gRPC needs POST (below).
        if method == "GET" || method == "HEAD", let site = configuration.staticSite, !router.knowsService(ofPath: path) {
            serveStatic(call, site.response(method: method, path: path, denial: { staticPageDenial(path: path, headers: headers) }))
            return
        }
        call.web = GRPCWebMode(contentType: contentType)
        if let web = call.web {
            call.outbound.encodesBase64 = web == .text
            call.corsHeaders = cors.responseHeaders(origin: origin)
        }
        guard method == "POST" else {
            respondWithoutCall(call, httpStatus: "405", status: Status(code: .unimplemented,
                message: "gRPC requires POST; received \(method.isEmpty ? "no method" : method)"))
            return
        }
        guard call.web != nil || (!isHTTP1 && (contentType == "application/grpc" || contentType.hasPrefix("application/grpc+")
                || contentType.hasPrefix("application/grpc;"))) else {
            respondWithoutCall(call, httpStatus: "415", status: Status(code: .internal, message: isHTTP1
                ? "HTTP/1.1 carries gRPC-Web only: content-type must be application/grpc-web(+proto) or application/grpc-web-text(+proto); received '\(contentType)'"
                : "content-type must be application/grpc or application/grpc-web...; received '\(contentType)'"))
            return
        }
        let requestEncoding = CompressionAlgorithm(encoding: encoding)
        guard requestEncoding != nil || encoding == "identity" else {
            respondWithoutCall(call, httpStatus: "200", status: Status(code: .unimplemented, message:
                "grpc-encoding '\(encoding)' is not supported; send \(CompressionAlgorithm.acceptEncodingHeaderValue)"))
            return
        }
        call.negotiate(configuration.callCompression(requestEncoding: requestEncoding, acceptEncoding: acceptEncoding))
        guard let route = router.handler(forPath: path) else {
            let message = router.knowsService(ofPath: path)
                ? "method not found: \(path)" : "service not found for path \(path)"
            respondWithoutCall(call, httpStatus: "200", status: Status(code: .unimplemented, message: message))
            return
        }
        if call.web != nil, let kind = router.kind(forPath: path), !kind.hasSingleRequest {
            respondWithoutCall(call, httpStatus: "200", status: Status(code: .unimplemented, message: """
                \(path) is a \(kind == .clientStreaming ? "client-streaming" : "bidirectional-streaming") method: gRPC-Web \
                (a browser) can call unary and server-streaming methods only; call it over gRPC (HTTP/2)
                """))
            return
        }
        // Credentials are checked before anything is armed or run for the call.
        if peerRoles == nil { peerRoles = tls?.peerRoles ?? [] }
        let requestMetadata = Metadata(receivedHeaders: headers)
        var grant: (any Sendable)?
        if let authorizer = configuration.authorizer {
            switch authorizer.authorize(path: path, metadata: requestMetadata, peer: peerCredentials()) {
            case .success(let granted):
                grant = granted
            case .failure(let error):
                respondWithoutCall(call, httpStatus: "200", status: Status(code: error.code, message: error.message))
                return
            }
        }
        var deadline: ContinuousClock.Instant?
        if let timeout {
            guard let nanos = GRPCTimeout.parseNanos(timeout) else {
                respondWithoutCall(call, httpStatus: "200", status: Status(code: .internal,
                    message: "malformed grpc-timeout '\(timeout)'"))
                return
            }
            deadline = ContinuousClock.now.advanced(by: .nanoseconds(nanos))
            guard let ref else { return }
            let streamID = call.streamID
            call.deadlineTimer = context?.eventLoop.scheduleTask(in: .nanoseconds(nanos)) {
                ref.handler.value.deadlineExceeded(streamID: streamID, timeout: timeout)
            }
        }
        let serverContext = ServerContext(path: path, requestMetadata: requestMetadata, deadline: deadline, peer: peer,
                                          connectionID: connectionID, peerRoles: peerRoles ?? [], grant: grant)
        switch route {
        case .inlineUnary(let handler, let cost):
            // Runs when the request is complete (`endRequests`): a unary handler has nothing
            // to do before.
            call.state.route(inline: PendingInlineCall(handler: handler, cost: cost, context: serverContext,
                                                       started: ContinuousClock.now))
        case .streaming(let handler, let placement):
            guard let ref else { return }
            var callContext = serverContext
            if placement == .connectionLoop, let loop = context?.eventLoop {
                callContext.taskExecutor = EventLoopTaskExecutor(loop)
            }
            let (stream, continuation) = AsyncThrowingStream<ReceivedMessage, any Error>.makeStream()
            call.state.route(streaming: continuation)
            let streamID = call.streamID
            let requests = RequestStream(base: stream) { count in ref.consumed(streamID: streamID, count: count) }
            launch(call, context: callContext, started: ContinuousClock.now) { [callContext] writer in
                try await handler(requests, writer, callContext)
            }
        }
    }

    /// Runs a call's handler as a task, on the concurrent pool unless its context names an
    /// executor (`HandlerPlacement.connectionLoop`); its return or error becomes the call's status.
    private func launch(_ call: ServerCall, context: ServerContext, started: ContinuousClock.Instant,
                        _ body: @escaping @Sendable (ResponseWriter) async throws -> Void) {
        guard let ref else { return }
        let writer = ResponseWriter(connection: ref, streamID: call.streamID, compression: call.compression)
        let logger = self.logger
        let observer = configuration.callObserver
        call.task = Task(executorPreference: context.taskExecutor) {
            let status: Status, trailers: Metadata
            do {
                try await body(writer)
                status = .ok
                trailers = Metadata()
            } catch {
                let failure = callStatus(of: error, path: context.path, logger: logger)
                status = failure.status
                trailers = failure.trailers
            }
            // Recorded before the status is sent, so a client that saw it also sees it counted.
            observer?(context.path, status.code, ContinuousClock.now - started)
            writer.finish(status, extraTrailers: trailers)
        }
    }

    /// Answers a complete inline unary request: in place when the call is the connection's
    /// only one and the connection has not multiplexed lately (`multiplexingMemoryCalls`), or
    /// when the method is cheaper than a trip through the pool (`InlineCost`); else on the
    /// concurrent pool.
    private func runInline(_ call: ServerCall, _ pending: PendingInlineCall) {
        guard pending.messages.count == 1, let request = pending.messages.first else {
            fail(call, Status(code: .internal, message: SingleRequest.none))
            return
        }
        let handler = pending.handler, cost = pending.cost
        var context = pending.context
        context.requestCompressed = pending.compressed
        guard calls.count == 1 && multiplexingCallsLeft == 0 || cost.isCheap else {
            launch(call, context: context, started: pending.started) { [context] writer in
                writer.setFinalReply(try await cost.measure { try handler(request, context) }.reply())
            }
            return
        }
        var (status, reply, message) = (Status.ok, UnaryReply([]), OutboundMessage?.none)
        var encoding: CompressionAlgorithm?
        do {
            let answer = try cost.measure { try handler(request, context) }
            switch answer {
            case .response(let bytes):
                reply.message = bytes
            case .reply(let answered):
                reply = answered
            case .offload, .offloadReply:
                launch(call, context: context, started: pending.started) { writer in writer.setFinalReply(try await answer.reply()) }
                return
            }
            // On the loop, like the handler: the threshold keeps small answers uncompressed.
            encoding = call.compression.announcedEncoding(firstMessage: reply.compression)
            message = call.compression.outbound(reply.message, reply.compression, announced: encoding)
        } catch {
            (status, reply.trailingMetadata) = callStatus(of: error, path: context.path, logger: logger)
        }
        // Recorded before the status is sent, as for a launched call.
        configuration.callObserver?(context.path, status.code, ContinuousClock.now - pending.started)
        finishCall(streamID: call.streamID, status: status, initialMetadata: reply.initialMetadata,
                   trailingMetadata: reply.trailingMetadata, finalMessage: message, encoding: encoding)
    }

    /// The credential check of a live page (`StaticSite.LivePage`): the same check, with the
    /// same metadata and peer, a call to `path` gets; nil when it passes.
    private func staticPageDenial(path: String, headers: [HTTP2Header]) -> RPCError? {
        guard let authorizer = configuration.authorizer else { return nil }
        if case .failure(let error) = authorizer.authorize(path: StaticSite.bare(path), metadata: Metadata(receivedHeaders: headers),
                                                           peer: peerCredentials()) {
            return error
        }
        return nil
    }

    /// What the peer's TLS session proves (roles and certificate names), read from it once per
    /// connection: the credential check of calls and of live pages.
    private func peerCredentials() -> PeerCredentials {
        if peerRoles == nil { peerRoles = tls?.peerRoles ?? [] }
        if peerCertificateNames == nil { peerCertificateNames = tls?.peerCertificateNames ?? [] }
        return PeerCredentials(roles: peerRoles ?? [], certificateNames: peerCertificateNames ?? [])
    }

    /// Answers a request for a static file: headers, then the body from the call's queue.
    private func serveStatic(_ call: ServerCall, _ response: (headers: [HTTP2Header], body: [UInt8])) {
        if response.body.isEmpty {
            call.state.answeredWithoutBody()
            session?.submitResponse(streamID: call.streamID, headers: response.headers, hasBody: false)
        } else {
            call.state.answeredWithBody()
            call.outbound.appendFramed(response.body)
            session?.submitResponse(streamID: call.streamID, headers: response.headers, hasBody: true)
        }
        flush()
    }

    /// Answers a stream that never becomes a call (bad method, unknown path...).
    private func respondWithoutCall(_ call: ServerCall, httpStatus: String, status: Status) {
        call.state.answeredWithoutBody()
        var headers = [HTTP2Header(name: ":status", value: httpStatus),
                       HTTP2Header(name: "content-type", value: call.web?.responseContentType ?? "application/grpc")]
        headers += call.corsHeaders
        headers += statusHeaders(status, trailing: Metadata())
        if status.code == .unimplemented, status.message.hasPrefix("grpc-encoding") {
            headers.append(HTTP2Header(name: "grpc-accept-encoding", value: CompressionAlgorithm.acceptEncodingHeaderValue))
        }
        session?.submitResponse(streamID: call.streamID, headers: headers, hasBody: false)
        flush()
    }

    /// The client's side of the call is over: an inline call is answered, a streaming
    /// handler's request stream ends. A message cut off by the end fails the call.
    private func endRequests(_ call: ServerCall) {
        let end = call.state.endOfRequests()
        if case .none = end { return }
        var failure: Status?
        if !call.textDecoder.finish() {
            failure = Status(code: .internal, message: "application/grpc-web-text request body ended inside a base64 group")
        } else if (try? call.deframer.finish()) == nil {
            failure = Status(code: .internal, message: "request stream ended inside a message")
        }
        switch end {
        case .none:
            return
        case .runInline(let pending):
            if let failure { fail(call, failure) } else { runInline(call, pending) }
        case .finishStream(let requests):
            if let failure {
                requests.finish(throwing: CancellationError())
                fail(call, failure)
            } else {
                requests.finish()
            }
        }
    }

    /// Ends a call from the server side (deadline, bad input): status now, handler cancelled.
    private func fail(_ call: ServerCall, _ status: Status) {
        guard !call.state.statusDecided else { return }
        call.task?.cancel()
        call.state.stopRequests()?.finish(throwing: CancellationError())
        // Queued responses are dropped: the status replaces them.
        call.outbound.discard(error: RPCError(status.code, status.message))
        finishCall(streamID: call.streamID, status: status, initialMetadata: Metadata(), trailingMetadata: Metadata())
    }

    /// Calls a connection keeps off its event loop after two of its calls were last open at
    /// once: a client that multiplexes finds a call alone now and then, and answering that
    /// one in place would stall the loop that reads and writes for the others.
    static let multiplexingMemoryCalls = 64

    private static let okTrailers = [HTTP2Header(name: "grpc-status", value: "0")]
    private static let plainResponseHeaders = [HTTP2Header(name: ":status", value: "200"),
                                               HTTP2Header(name: "content-type", value: "application/grpc"),
                                               HTTP2Header(name: "grpc-accept-encoding",
                                                           value: CompressionAlgorithm.acceptEncodingHeaderValue)]

    private func statusHeaders(_ status: Status, trailing: Metadata) -> [HTTP2Header] {
        if status.code == .ok, status.message.isEmpty, trailing.entries.isEmpty { return Self.okTrailers }
        var headers = [HTTP2Header(name: "grpc-status", value: "\(status.code.rawValue)")]
        if !status.message.isEmpty {
            headers.append(HTTP2Header(name: "grpc-message", value: PercentEncoding.encode(status.message)))
        }
        return headers + trailing.headerFields
    }

    /// Submits the response headers of a call with a body (messages, then trailers), once;
    /// `encoding` is announced as the call's `grpc-encoding`.
    private func startResponse(_ call: ServerCall, initialMetadata: Metadata, encoding: CompressionAlgorithm?) {
        guard call.state.startBody() else { return }
        var headers = responseHeaders(call, initialMetadata)
        if let encoding { headers.append(HTTP2Header(name: "grpc-encoding", value: encoding.rawValue)) }
        session?.submitResponse(streamID: call.streamID, headers: headers, hasBody: true)
    }

    private func responseHeaders(_ call: ServerCall, _ metadata: Metadata) -> [HTTP2Header] {
        if let web = call.web {
            return [HTTP2Header(name: ":status", value: "200"), HTTP2Header(name: "content-type", value: web.responseContentType),
                    HTTP2Header(name: "grpc-accept-encoding", value: CompressionAlgorithm.acceptEncodingHeaderValue)]
                + call.corsHeaders + metadata.headerFields
        }
        return metadata.entries.isEmpty ? Self.plainResponseHeaders : Self.plainResponseHeaders + metadata.headerFields
    }

    // MARK: Called from handler tasks (through ServerConnectionRef, on the event loop)

    func enqueue(streamID: Int32, message: OutboundMessage, initialMetadata: Metadata?, encoding: CompressionAlgorithm?,
                 continuation: CheckedContinuation<Void, any Error>) {
        guard let call = calls[streamID], !call.state.statusDecided else {
            continuation.resume(throwing: RPCError(.cancelled, "the call has already ended"))
            return
        }
        guard message.uncompressedBytes <= configuration.maxSendMessageBytes else {
            continuation.resume(throwing: RPCError(.resourceExhausted,
                "response message of \(message.uncompressedBytes) bytes exceeds the server's send limit of \(configuration.maxSendMessageBytes) bytes"))
            return
        }
        startResponse(call, initialMetadata: initialMetadata ?? Metadata(), encoding: encoding)
        call.outbound.append(message.bytes, compressed: message.compressed, continuation: continuation)
        if call.state.dataQueued() { session?.resumeData(streamID: streamID) }
        scheduleFlush()
    }

    /// `encoding` is the call's `grpc-encoding` when `finalMessage` starts the response.
    func finishCall(streamID: Int32, status: Status, initialMetadata: Metadata, trailingMetadata: Metadata,
                    finalMessage: OutboundMessage? = nil, encoding: CompressionAlgorithm? = nil) {
        guard let call = calls[streamID], !call.state.statusDecided else { return }
        var status = status
        if let message = finalMessage {
            if message.uncompressedBytes <= configuration.maxSendMessageBytes {
                startResponse(call, initialMetadata: initialMetadata, encoding: encoding)
                call.outbound.appendFinal(message.bytes, compressed: message.compressed)
            } else {
                status = Status(code: .resourceExhausted, message:
                    "response message of \(message.uncompressedBytes) bytes exceeds the server's send limit of \(configuration.maxSendMessageBytes) bytes")
            }
        }
        call.deadlineTimer?.cancel()
        if !call.state.clientEnded { session?.resetWhenEnded(streamID: streamID) }
        let trailers = statusHeaders(status, trailing: trailingMetadata)
        switch call.state.finish(trailers: trailers, web: call.web != nil) {
        case .alreadyDecided:
            return
        case .trailersOnly:
            // One HEADERS frame with END_STREAM.
            session?.submitResponse(streamID: streamID, headers: responseHeaders(call, initialMetadata) + trailers, hasBody: false)
        case .endBody(let resume):
            // gRPC-Web: the status is the body's last frame, flagged 0x80.
            if call.web != nil {
                call.outbound.appendFramed(MessageFraming.frame(GRPCWebTrailers.block(trailers), flag: GRPCWebTrailers.flag))
            }
            if resume { session?.resumeData(streamID: streamID) }
        }
        // Answered from inside nghttp2 (an inline call): the read that brought the request
        // writes the response on its way out. Else on the loop's next turn, with whatever
        // other calls finish meanwhile.
        if pump.isInsideSession { flush() } else { scheduleFlush() }
    }

    func deadlineExceeded(streamID: Int32, timeout: String) {
        guard let call = calls[streamID] else { return }
        fail(call, Status(code: .deadlineExceeded, message: "deadline exceeded (grpc-timeout \(timeout))"))
    }

    func consumed(streamID: Int32, count: Int) {
        guard let call = calls[streamID] else { return }
        let released = call.window.read(count)
        account(call)
        if released > 0 {
            session?.consume(streamID: streamID, count: released)
            scheduleFlush()
        }
    }

    // MARK: Connection hygiene (timeouts, stalls, buffered request bytes)

    private func startTimeoutChecks(context: ChannelHandlerContext) {
        guard let sweeper else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        timeouts = ConnectionTimeouts(limits: configuration.timeoutLimits, startNanos: now)
        keepalive = ConnectionKeepalive(policy: configuration.keepalivePolicy(maxAgeJitter: .random(in: -1...1)), startNanos: now)
        sweeper.add(self)
    }

    /// The periodic check (from the loop's `ConnectionSweeper`): reports the counters to
    /// `ConnectionTimeouts` and carries out what it decides.
    func checkTimeouts(nowNanos: UInt64) {
        guard lifecycle.readsInput, let context, var machine = timeouts else { return }
        var streams: [ConnectionTimeouts.StreamSnapshot] = []
        var responsesQueued = false
        // Calls exist only once the session does.
        for call in calls.values {
            guard let session else { break }
            // Not while this side holds the stream's window closed (its reader is behind, as when a
            // long write blocks an import): the client cannot send the rest until it reopens.
            let partialMessage = !call.state.statusDecided && call.deframer.bufferedBytes > 0 && !call.window.holdsBack
            let queued = !call.outbound.isEmpty || call.state.trailersQueued
            responsesQueued = responsesQueued || queued
            let waitsForWindow = queued && session.streamSendWindowBytes(streamID: call.streamID) <= 0
            if partialMessage || waitsForWindow {
                streams.append(.init(streamID: call.streamID, receivedBytes: call.receivedBytes, sentBytes: call.sentBytes,
                                     holdsPartialMessage: partialMessage, waitsForWindow: waitsForWindow))
            }
        }
        let outputBlocked = !context.channel.isWritable || (responsesQueued && (session?.connectionSendWindowBytes ?? 1) <= 0)
        let actions = machine.tick(.init(
            nowNanos: nowNanos, prefaceReceived: prefaceReceived, openStreams: calls.count,
            streamsOpened: streamsOpened, receivedBytes: receivedBytes &+ (tls?.receivedBytes ?? 0),
            holdsPartialFrame: holdsPartialInput || tls?.holdsPartialRecord == true,
            outputBlocked: outputBlocked, outputProgress: outputProgress, streams: streams))
        timeouts = machine
        for action in actions { apply(action, context: context) }
        // HTTP/1.1 has no PING: its idle and stall timeouts stand in for keepalive. Nor does a
        // connection whose client has sent nothing yet (no session: a GOAWAY or PING would be
        // lost, and max age would never be announced); the handshake timeout covers it.
        if lifecycle.readsInput, !isHTTP1, session != nil { checkKeepalive(nowNanos: nowNanos) }
        if !actions.isEmpty { flush() }
    }

    /// The client stopped inside an HTTP/2 frame, or inside an HTTP/1.1 request.
    private var holdsPartialInput: Bool {
        if let http1 = session as? HTTP1Session { return http1.holdsPartialInput }
        return firstBytes != nil || inputFrames.isInsideFrame
    }

    private func apply(_ action: ConnectionTimeouts.Action, context: ChannelHandlerContext) {
        let stall = Self.seconds(configuration.streamStallTimeout)
        switch action {
        case .closeBeforePreface:
            logger.debug("closing a connection that sent no HTTP/2 preface in time", metadata: ["peer": "\(peer)"])
            closeAfterGoaway(code: .enhanceYourCalm, debugData: isHTTP1
                ? "no complete HTTP/1.1 request head within \(Self.seconds(configuration.handshakeTimeout)) (handshake timeout)"
                : "no HTTP/2 preface within \(Self.seconds(configuration.handshakeTimeout)) (handshake timeout)")
        case .announceIdleShutdown:
            let reason = "idle for \(Self.seconds(configuration.idleTimeout)) without a call (idle timeout); reconnect to call again"
            if lifecycle.beginDrain(.idle(reason)) { session?.submitShutdownNotice() }
        case .closeIdle:
            logger.debug("closing an idle connection", metadata: ["peer": "\(peer)"])
            finishDrain()
        case .closeStalledInput:
            logger.info("closing a connection stopped in the middle of a frame", metadata: ["peer": "\(peer)"])
            closeAfterGoaway(code: .enhanceYourCalm, debugData:
                "no bytes for \(stall) in the middle of an HTTP/2 frame or TLS record (stream stall timeout)")
        case .closeStalledOutput:
            // The peer reads nothing: a GOAWAY would not reach it either. Closing frees
            // whatever is queued for it.
            logger.info("closing a connection that stopped reading", metadata: ["peer": "\(peer)"])
            closeWithoutGoaway()
        case .resetStalledStream(let streamID):
            guard let call = calls[streamID], let session else { return }
            logger.debug("resetting a stream whose client stopped reading", metadata: ["peer": "\(peer)", "stream": "\(streamID)"])
            call.deadlineTimer?.cancel()
            call.task?.cancel()
            call.state.streamClosed().requests?.finish(throwing: CancellationError())
            call.outbound.discard(error: RPCError(.cancelled,
                "the client read no response bytes for \(stall) (stream stall timeout); the stream was reset"))
            session.resetStream(streamID: streamID, code: .cancel)
        case .failStalledMessage(let streamID):
            guard let call = calls[streamID] else { return }
            failHoldingRequest(call, Status(code: .cancelled, message:
                "no request bytes for \(stall) in the middle of a message (stream stall timeout); send whole messages"))
            account(call)     // its status, then a reset (`finishCall`), stop the client's sending
        }
    }

    /// Closes at once, dropping whatever is queued: for a peer that reads nothing.
    func closeWithoutGoaway() {
        guard lifecycle.channelClosing() else { return }
        context?.close(promise: nil)
    }

    /// Ends a call from the server side and frees the request bytes it held.
    private func failHoldingRequest(_ call: ServerCall, _ status: Status) {
        fail(call, status)
        call.deframer.discardBuffered()
    }

    /// Brings the connection's count of buffered request bytes up to date with `call`'s.
    private func account(_ call: ServerCall) {
        let held = call.heldRequestBytes
        bufferedRequestBytes += held - call.bufferedRequestBytes
        call.bufferedRequestBytes = held
    }

    /// `12 s` or `0.5 s`, for messages.
    static func seconds(_ duration: Duration) -> String {
        let (whole, fraction) = duration.components
        guard fraction != 0 else { return "\(whole) s" }
        return "\(Double(whole) + Double(fraction) / 1e18) s"
    }

    // MARK: Graceful shutdown

    /// Announces shutdown (GOAWAY), lets open calls finish, then closes.
    func beginGracefulShutdown() {
        guard lifecycle.beginDrain(.shutdown) else { return }
        session?.submitShutdownNotice()
        flush()
        if calls.isEmpty { finishDrain() }
    }

    /// Cancels whatever is still running and closes now.
    func forceClose() {
        finishDrain()
    }

    /// Sends the final GOAWAY and closes once it is written. May run inside an nghttp2
    /// callback (the last stream closing), so the close waits for the outermost flush.
    func finishDrain() {
        perform(lifecycle.finishDrain(hasSession: session != nil))
    }

    /// Sends GOAWAY with `debugData` and closes once it is written; calls still open end with
    /// the connection.
    func closeAfterGoaway(code: HTTP2ErrorCode, debugData: String) {
        perform(lifecycle.close(code: code, debugData: debugData, hasSession: session != nil))
    }

    /// Carries out what `ConnectionLifecycle` decided.
    func perform(_ action: ConnectionLifecycle.Action) {
        switch action {
        case .none:
            return
        case .closeChannel:
            // No preface of ours went out (the client sent nothing yet, or not past the TLS
            // handshake), so no GOAWAY either, and nothing is waiting to be written.
            context?.close(promise: nil)
        case .sendGoaway(let code, let debugData), .sendGoawayThenClose(let code, let debugData):
            // The GOAWAY with the real last stream id: streams above it were not processed.
            session?.submitGoaway(code: code, debugData: debugData)
            flush()
        case .flushThenClose:
            flush()
        }
    }
}

/// A `Sendable` handle that handler tasks use to reach their connection: every call hops
/// onto the connection's event loop.
final class ServerConnectionRef: Sendable {
    let eventLoop: any EventLoop
    let handler: NIOLoopBound<ServerConnectionHandler>

    init(eventLoop: any EventLoop, handler: NIOLoopBound<ServerConnectionHandler>) {
        self.eventLoop = eventLoop
        self.handler = handler
    }

    func send(streamID: Int32, message: OutboundMessage, initialMetadata: Metadata?, encoding: CompressionAlgorithm?) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            onLoop {
                self.handler.value.enqueue(streamID: streamID, message: message, initialMetadata: initialMetadata,
                                           encoding: encoding, continuation: continuation)
            }
        }
    }

    /// Runs `body` on the connection's loop: right away when already there (a handler
    /// running on the loop), else as a loop task.
    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { body() } else { eventLoop.execute(body) }
    }

    func finish(streamID: Int32, status: Status, initialMetadata: Metadata, trailingMetadata: Metadata,
                finalMessage: OutboundMessage?, encoding: CompressionAlgorithm?) {
        onLoop {
            self.handler.value.finishCall(streamID: streamID, status: status, initialMetadata: initialMetadata,
                                          trailingMetadata: trailingMetadata, finalMessage: finalMessage, encoding: encoding)
        }
    }

    func consumed(streamID: Int32, count: Int) {
        onLoop { self.handler.value.consumed(streamID: streamID, count: count) }
    }

    func beginGracefulShutdown() {
        eventLoop.execute { self.handler.value.beginGracefulShutdown() }
    }

    func forceClose() {
        eventLoop.execute { self.handler.value.forceClose() }
    }
}

/// The status (and trailers) a handler's error ends its call with.
private func callStatus(of error: any Error, path: String, logger: Logger) -> (status: Status, trailers: Metadata) {
    switch error {
    case let error as RPCError:
        return (error.status, error.trailingMetadata)
    case is CancellationError:
        return (Status(code: .cancelled, message: "call cancelled"), Metadata())
    default:
        logger.error("handler failed with an unexpected error", metadata: ["path": "\(path)", "error": "\(error)"])
        return (Status(code: .unknown, message: "unexpected server error: \(error)"), Metadata())
    }
}

/// The request header fields a call's start reads.
enum RequestField: Equatable {
    case method, path, contentType, encoding, acceptEncoding, timeout, origin, requestedHeaders

    /// Nil for any other field. Called for every field of every call, so only the names of the
    /// field's length are compared.
    init?(name: String) {
        switch name.utf8.count {
        case 5 where name == ":path": self = .path
        case 6 where name == "origin": self = .origin
        case 7 where name == ":method": self = .method
        case 12 where name == "content-type": self = .contentType
        case 12 where name == "grpc-timeout": self = .timeout
        case 13 where name == "grpc-encoding": self = .encoding
        case 20 where name == "grpc-accept-encoding": self = .acceptEncoding
        case 30 where name == "access-control-request-headers": self = .requestedHeaders
        default: return nil
        }
    }
}
