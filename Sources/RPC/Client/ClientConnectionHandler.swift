import NIOCore
import Synchronization

/// Where a call's responses and result go.
enum ClientSink {
    /// A `ClientCall`: messages through a stream as they come, headers and result through promises.
    case streaming(responses: AsyncThrowingStream<ReceivedMessage, any Error>.Continuation,
                   headers: EventLoopPromise<Metadata>, result: EventLoopPromise<CallResult>, resultBox: CallResultBox)
    /// A unary call (`GRPCChannel.unary`): its one response is kept, and the caller resumed
    /// once, with the response and the result or with the error.
    case unary(UnsafeContinuation<(response: [UInt8], result: CallResult), any Error>)
}

/// One call's state on the client side, touched only on the connection's event loop.
final class ClientStream {
    let streamID: Int32
    var outbound = OutboundQueue(highWaterMarkBytes: 1 << 20)
    var deframer: MessageDeframer
    let sink: ClientSink
    /// A unary call's response, once received.
    var unaryResponse: [UInt8]?
    var initialMetadata = Metadata()
    var gotHeaders = false
    var httpStatus = ""
    var sendClosed = false
    var dataDeferred = false
    var done = false
    var deadlineTimer: Scheduled<Void>?
    /// Window updates follow what the application reads.
    var window: ReceiveWindow

    init(streamID: Int32, maxMessageBytes: Int, sink: ClientSink, receiveHighWaterMarkBytes: Int) {
        self.streamID = streamID
        self.window = ReceiveWindow(highWaterMarkBytes: receiveHighWaterMarkBytes)
        self.deframer = MessageDeframer(maxMessageBytes: maxMessageBytes)
        self.sink = sink
    }
}

/// The client end of one HTTP/2 connection: starts streams for calls, feeds responses
/// back, maps what the server sent to a `Status`.
final class ClientConnectionHandler: ChannelInboundHandler, HTTP2SessionDelegate {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let maxReceiveMessageBytes: Int
    private let scheme: String
    private let authority: String
    private let ready: EventLoopPromise<Void>
    private let receiveHighWaterMarkBytes = 4 << 20
    private var session: HTTP2Session?
    private var context: ChannelHandlerContext?
    private let pump = SessionPump()
    /// The request headers every call sends, `:path` to go in at index 2.
    private let fixedHeaders: [HTTP2Header]
    private var streams: [Int32: ClientStream] = [:]
    private var closedReason: String?
    /// Why the server said GOAWAY: no new calls here, but the calls it processed go on (their
    /// responses and the final GOAWAY are still read, their requests still written).
    private var goawayReason: String?
    /// Why the connection failed, when it can be told (TLS mismatch, certificate, refusal).
    private var failure: ConnectionFailure?
    /// The server's first SETTINGS frame arrived and no refusal came with it: the connection is usable.
    private var isReady = false
    private var serverSettingsReceived = false
    private var sawServerBytes = false
    /// Streams above this id were not processed by the server (its GOAWAY said so).
    private var goawayLastStreamID: Int32?
    private let health: ConnectionHealth
    private let handshakeTimeout: TimeAmount
    /// How request messages are compressed; nil sends them plain, with no `grpc-encoding`.
    private let requestCompression: CallCompression?
    private var handshakeTimer: Scheduled<Void>?

    /// `requestCompression`: the `grpc-encoding` every call announces; its request messages
    /// are compressed by the same rules as the server's responses (at least 1 KB, not mostly
    /// float bytes, smaller once compressed), the others sent with flag 0.
    init(maxReceiveMessageBytes: Int, scheme: String, authority: String, ready: EventLoopPromise<Void>,
         health: ConnectionHealth, handshakeTimeout: TimeAmount = .seconds(10), requestCompression: CompressionAlgorithm? = nil) {
        self.maxReceiveMessageBytes = maxReceiveMessageBytes
        self.requestCompression = requestCompression.map {
            CallCompression(requestEncoding: nil, acceptEncoding: $0.rawValue, configured: $0,
                            thresholdBytes: ServerConfiguration().responseCompressionThresholdBytes,
                            maxEntropyBitsPerByte: ServerConfiguration().responseCompressionMaxEntropyBitsPerByte)
        }
        self.scheme = scheme
        self.authority = authority
        self.ready = ready
        self.health = health
        self.handshakeTimeout = handshakeTimeout
        fixedHeaders = [
            HTTP2Header(name: ":method", value: "POST"), HTTP2Header(name: ":scheme", value: scheme),
            HTTP2Header(name: ":authority", value: authority),
            HTTP2Header(name: "content-type", value: "application/grpc"), HTTP2Header(name: "te", value: "trailers"),
            HTTP2Header(name: "user-agent", value: "ruvector-swift/0.1"),
        ] + (requestCompression.map { [HTTP2Header(name: "grpc-encoding", value: $0.rawValue)] } ?? [])
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        do {
            session = try HTTP2Session(role: .client, delegate: self, limits: HTTP2Limits())
        } catch {
            ready.fail(RPCError(.internal, "cannot create HTTP/2 session: \(error)"))
            context.close(promise: nil)
            return
        }
        let timeout = handshakeTimeout
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        handshakeTimer = context.eventLoop.scheduleTask(in: timeout) { bound.value.handshakeTimedOut(after: timeout) }
        if context.channel.isActive { flush() }
    }

    func channelActive(context: ChannelHandlerContext) {
        // Our preface and SETTINGS; with TLS they leave once the handshake is done.
        flush()
        context.fireChannelActive()
    }

    /// The server's SETTINGS arrived: it speaks HTTP/2. The connection is ready once the
    /// read that brought them is processed (a refusal sends SETTINGS and GOAWAY together).
    func http2ReceivedSettings() {
        serverSettingsReceived = true
    }

    private func becomeReadyIfSettled() {
        guard serverSettingsReceived, !isReady, closedReason == nil else { return }
        isReady = true
        handshakeTimer?.cancel()
        ready.succeed()
    }

    private func handshakeTimedOut(after timeout: TimeAmount) {
        guard !isReady, closedReason == nil else { return }
        fail(ConnectionFailure(.handshakeTimeout,
            "the server did not complete the \(scheme == "https" ? "TLS and " : "")HTTP/2 handshake within \(timeout.nanoseconds / 1_000_000) ms"))
        context?.close(promise: nil)
    }

    /// Ends the connection with a known cause: the caller of `connect` (or of each open
    /// call) learns it.
    private func fail(_ failure: ConnectionFailure) {
        if self.failure == nil { self.failure = failure }
        health.markUnusable()
        handshakeTimer?.cancel()
        ready.fail(RPCError(.unavailable, failure.message, cause: failure))
        shutdown(reason: failure.message)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session, closedReason == nil else { return }
        let buffer = unwrapInboundIn(data)
        if !sawServerBytes {
            sawServerBytes = true
            if let failure = Self.unexpectedGreeting(Array(buffer.readableBytesView.prefix(256))) {
                fail(failure)
                context.close(promise: nil)
                return
            }
        }
        if pump.receive(buffer, session: session, context: context) == .close {
            shutdown(reason: "the server closed the HTTP/2 connection")
            context.close(promise: nil)
            return
        }
        becomeReadyIfSettled()
    }

    /// A failure when the server's first bytes are not HTTP/2 (only seen on plaintext
    /// connections: with TLS, this handler reads decrypted bytes).
    private static func unexpectedGreeting(_ bytes: [UInt8]) -> ConnectionFailure? {
        switch ServerGreeting(bytes) {
        case .tls:
            return ConnectionFailure(.serverExpectsTLS, "the server answered with TLS: it expects TLS connections; connect with TLS")
        case .http1:
            return ConnectionFailure(.notHTTP2, "the server answered with HTTP/1.x, not HTTP/2: it is not a gRPC port")
        case .http2:
            // A GOAWAY before the server's SETTINGS: a refusal with its reason (nghttp2 would
            // only report a bad preface).
            return HTTP2GoawayText.leadingGoaway(bytes).map { goawayFailure(errorCode: $0.errorCode, debugData: $0.debugData) }
        case .other:
            return nil
        }
    }

    /// A GOAWAY before the connection was ready, as a failure saying why.
    private static func goawayFailure(errorCode: UInt32, debugData: String) -> ConnectionFailure {
        let code = HTTP2ErrorCode(rawValue: errorCode)
        let reason = "the server sent GOAWAY (\(code.map { "\($0)" } ?? "error \(errorCode)"))"
            + (debugData.isEmpty ? "" : ": \(debugData)")
        return ConnectionFailure(code == .inadequateSecurity ? .serverExpectsTLS : .refused, reason)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { flush() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !isReady, failure == nil {
            fail(ConnectionFailure(.closedBeforeReady, (closedReason ?? goawayReason).map { "the server closed the connection: \($0)" }
                ?? "the server closed the connection before the HTTP/2 handshake finished, without saying why (it may expect TLS, or be refusing connections)"))
        }
        handshakeTimer?.cancel()
        health.markUnusable()
        shutdown(reason: closedReason ?? "connection closed")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let failure = error as? ConnectionFailure {
            fail(failure)
        } else {
            shutdown(reason: "connection error: \(error)")
        }
        context.close(promise: nil)
    }

    private func flush() {
        guard let context, let session, closedReason == nil else { return }
        if pump.flush(session: session, context: context) == .close {
            shutdown(reason: "the HTTP/2 session ended")
            context.close(promise: nil)
        }
    }

    private func shutdown(reason: String) {
        if closedReason == nil { closedReason = goawayReason ?? reason }
        health.markUnusable()
        let open = streams
        streams = [:]
        for stream in open.values {
            // Streams the server's GOAWAY excluded never reached a handler.
            let unprocessed = goawayLastStreamID.map { stream.streamID > $0 } ?? false
            complete(stream, Status(code: .unavailable, message: reason), trailing: Metadata(), unprocessed: unprocessed)
        }
    }

    // MARK: Calls (on the event loop, through ClientConnectionRef)

    func startCall(path: String, metadata: Metadata, timeout: Duration?, ref: ClientConnectionRef) throws -> ClientCall {
        let (stream, continuation) = AsyncThrowingStream<ReceivedMessage, any Error>.makeStream()
        let eventLoop = ref.eventLoop
        let headers = eventLoop.makePromise(of: Metadata.self), result = eventLoop.makePromise(of: CallResult.self)
        let resultBox = CallResultBox()
        let state: ClientStream
        do {
            state = try open(path: path, metadata: metadata, timeout: timeout, ref: ref,
                             sink: .streaming(responses: continuation, headers: headers, result: result, resultBox: resultBox))
        } catch {
            // Nobody will wait on these: a promise dropped uncompleted traps in debug builds
            // (the connection had just been told GOAWAY, so the call never started).
            headers.fail(error)
            result.fail(error)
            continuation.finish(throwing: error)
            throw error
        }
        flush()
        let streamID = state.streamID
        let responses = ClientResponses(base: stream) { count in ref.consumed(streamID: streamID, count: count) }
        return ClientCall(connection: ref, streamID: streamID, responses: responses,
                          headersPromise: headers, resultPromise: result, resultBox: resultBox)
    }

    /// A unary call: opens the stream and queues its only message with the end of stream, in
    /// one event-loop turn. `continuation` is resumed once, when the call is over; the call's
    /// stream id goes to `cancellation`, so a cancel of the caller's task reaches it.
    func startUnary(path: String, metadata: Metadata, timeout: Duration?, message: [UInt8], ref: ClientConnectionRef,
                    cancellation: UnaryCancellation,
                    continuation: UnsafeContinuation<(response: [UInt8], result: CallResult), any Error>) {
        let stream: ClientStream
        do {
            stream = try open(path: path, metadata: metadata, timeout: timeout, ref: ref, sink: .unary(continuation))
        } catch {
            continuation.resume(throwing: error)
            return
        }
        let outbound = compressed(message)
        stream.outbound.appendFinal(outbound.bytes, compressed: outbound.compressed)
        stream.sendClosed = true
        if cancellation.started(stream.streamID, ref: ref) {
            cancel(streamID: stream.streamID)
        } else {
            flush()
        }
    }

    /// Opens a stream for a call: request headers submitted, state registered, deadline armed.
    private func open(path: String, metadata: Metadata, timeout: Duration?, ref: ClientConnectionRef,
                      sink: ClientSink) throws -> ClientStream {
        guard let session, closedReason == nil, goawayReason == nil else {
            throw RPCError(.unavailable, closedReason ?? goawayReason ?? "the connection is not open", cause: UnprocessedCall())
        }
        var headers = fixedHeaders
        headers.insert(HTTP2Header(name: ":path", value: path), at: 2)
        var timeoutNanos: Int64?
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            let nanos = max(1, seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue + attoseconds / 1_000_000_000)
            timeoutNanos = nanos
            headers.append(HTTP2Header(name: "grpc-timeout", value: GRPCTimeout.format(nanos: nanos)))
        }
        if !metadata.entries.isEmpty { headers += metadata.headerFields }
        guard let streamID = session.submitRequest(headers: headers) else {
            throw RPCError(.unavailable, "the connection cannot open more streams", cause: UnprocessedCall())
        }
        let state = ClientStream(streamID: streamID, maxMessageBytes: maxReceiveMessageBytes, sink: sink,
                                 receiveHighWaterMarkBytes: receiveHighWaterMarkBytes)
        streams[streamID] = state
        if let timeoutNanos {
            state.deadlineTimer = ref.eventLoop.scheduleTask(in: .nanoseconds(timeoutNanos)) {
                ref.handler.value.expire(streamID: streamID)
            }
        }
        return state
    }

    func enqueue(streamID: Int32, message: [UInt8], continuation: CheckedContinuation<Void, any Error>) {
        guard let stream = streams[streamID], !stream.done else {
            continuation.resume(throwing: RPCError(.cancelled, "the call has already ended"))
            return
        }
        guard !stream.sendClosed else {
            continuation.resume(throwing: RPCError(.failedPrecondition, "send after closeSend"))
            return
        }
        let outbound = compressed(message)
        stream.outbound.append(outbound.bytes, compressed: outbound.compressed, continuation: continuation)
        resume(stream)
    }

    /// A request message as the channel's compression sends it.
    private func compressed(_ message: [UInt8]) -> OutboundMessage {
        guard let requestCompression else { return OutboundMessage(message) }
        return requestCompression.outbound(message, .automatic, announced: requestCompression.policyEncoding)
    }

    func closeSend(streamID: Int32) {
        guard let stream = streams[streamID], !stream.sendClosed else { return }
        stream.sendClosed = true
        resume(stream)
    }

    func cancel(streamID: Int32) {
        guard let stream = streams[streamID], !stream.done else { return }
        session?.resetStream(streamID: streamID, code: .cancel)
        complete(stream, Status(code: .cancelled, message: "cancelled by the client"), trailing: Metadata())
        flush()
    }

    func expire(streamID: Int32) {
        guard let stream = streams[streamID], !stream.done else { return }
        session?.resetStream(streamID: streamID, code: .cancel)
        complete(stream, Status(code: .deadlineExceeded, message: "deadline exceeded"), trailing: Metadata())
        flush()
    }

    func consumed(streamID: Int32, count: Int) {
        guard let stream = streams[streamID] else { return }
        let released = stream.window.read(count)
        if released > 0 {
            session?.consume(streamID: streamID, count: released)
            flush()
        }
    }

    private func resume(_ stream: ClientStream) {
        if stream.dataDeferred {
            stream.dataDeferred = false
            session?.resumeData(streamID: stream.streamID)
        }
        flush()
    }

    /// Ends a call. `unprocessed`: the server never handled it (refused or excluded by
    /// GOAWAY), so it is safe to try again on another connection.
    private func complete(_ stream: ClientStream, _ status: Status, trailing: Metadata, unprocessed: Bool = false) {
        guard !stream.done else { return }
        stream.done = true
        stream.deadlineTimer?.cancel()
        stream.outbound.discard(error: RPCError(status.code == .ok ? .cancelled : status.code,
                                                status.code == .ok ? "the call has already ended" : status.message))
        let result = CallResult(status: status, initialMetadata: stream.initialMetadata, trailingMetadata: trailing)
        switch stream.sink {
        case .streaming(let responses, let headers, let resultPromise, let resultBox):
            // Set before the responses end, so a caller that saw the end reads the result at once.
            resultBox.set(result)
            if status.code == .ok {
                responses.finish()
            } else {
                responses.finish(throwing: RPCError(status.code, status.message, trailingMetadata: trailing))
            }
            headers.succeed(stream.initialMetadata)
            resultPromise.succeed(result)
        case .unary(let continuation):
            if status.code != .ok {
                continuation.resume(throwing: RPCError(status.code, status.message, trailingMetadata: trailing,
                                                       cause: unprocessed ? UnprocessedCall() : nil))
            } else if let response = stream.unaryResponse {
                continuation.resume(returning: (response, result))
            } else {
                continuation.resume(throwing: RPCError(.internal, "server sent no response to a unary call"))
            }
        }
    }

    // MARK: HTTP/2 events

    func http2ReceivedHeaders(streamID: Int32, headers: [HTTP2Header], endStream: Bool) {
        guard let stream = streams[streamID], !stream.done else { return }
        if !stream.gotHeaders {
            stream.gotHeaders = true
            stream.httpStatus = headers.first { $0.name == ":status" }?.value ?? ""
            if endStream {
                // Trailers-only: the status is in these headers.
                complete(stream, Self.status(from: headers, httpStatus: stream.httpStatus),
                         trailing: Metadata(receivedHeaders: headers))
                return
            }
            stream.initialMetadata = Metadata(receivedHeaders: headers)
            if case .streaming(_, let promise, _, _) = stream.sink { promise.succeed(stream.initialMetadata) }
            return
        }
        do {
            try stream.deframer.finish()
            complete(stream, Self.status(from: headers, httpStatus: stream.httpStatus),
                     trailing: Metadata(receivedHeaders: headers))
        } catch {
            complete(stream, Status(code: .internal, message: "response stream ended inside a message"), trailing: Metadata())
        }
    }

    /// The status in a trailer block, or one derived from the HTTP status when the server
    /// sent none (the mapping of grpc/doc/http-grpc-status-mapping.md).
    static func status(from headers: [HTTP2Header], httpStatus: String) -> Status {
        if let code = headers.first(where: { $0.name == "grpc-status" }).flatMap({ Int($0.value) }) {
            let message = headers.first { $0.name == "grpc-message" }.map { PercentEncoding.decode($0.value) } ?? ""
            return Status(code: StatusCode(rawValue: code), message: message)
        }
        let code: StatusCode
        switch httpStatus {
        case "400": code = .internal
        case "401": code = .unauthenticated
        case "403": code = .permissionDenied
        case "404": code = .unimplemented
        case "429", "502", "503", "504": code = .unavailable
        case "200": code = .internal
        default: code = .unknown
        }
        return Status(code: code, message: "server sent no grpc-status (HTTP status \(httpStatus.isEmpty ? "missing" : httpStatus))")
    }

    func http2HeadersTooLarge(streamID: Int32) {
        session?.resetStream(streamID: streamID, code: .cancel)
        if let stream = streams[streamID] {
            complete(stream, Status(code: .resourceExhausted, message: "response headers too large"), trailing: Metadata())
        }
        flush()
    }

    func http2ReceivedData(streamID: Int32, bytes: UnsafeRawBufferPointer) {
        guard let stream = streams[streamID], !stream.done else {
            session?.consume(streamID: streamID, count: bytes.count)
            return
        }
        do {
            let messages = try stream.deframer.append(bytes)
            switch stream.sink {
            case .streaming(let responses, _, _, _):
                for message in messages {
                    stream.window.delivered(messageBytes: message.bytes.count + MessageFraming.prefixBytes)
                    responses.yield(message)
                }
            case .unary:
                // The one response is bounded by the deframer's limit and kept whole, so its
                // bytes are given back at once.
                session?.consume(streamID: streamID, count: bytes.count)
                for message in messages {
                    guard stream.unaryResponse == nil else {
                        session?.resetStream(streamID: streamID, code: .cancel)
                        complete(stream, Status(code: .internal, message: "server sent more than one response to a unary call"),
                                 trailing: Metadata())
                        return
                    }
                    stream.unaryResponse = message.bytes
                }
                return
            }
        } catch {
            session?.consume(streamID: streamID, count: bytes.count)
            session?.resetStream(streamID: streamID, code: .cancel)
            let message: String
            switch error {
            case .tooLarge(let declared, let limit):
                message = "response message of \(declared) bytes exceeds the client's limit of \(limit) bytes"
                complete(stream, Status(code: .resourceExhausted, message: message), trailing: Metadata())
            case .compressedWithoutEncoding, .unknownFlag, .truncated:
                complete(stream, Status(code: .internal, message: "malformed response framing"), trailing: Metadata())
            }
            return
        }
        session?.consume(streamID: streamID, count: stream.window.received(bytes.count))
    }

    func http2ReceivedEndStream(streamID: Int32) {
        // END_STREAM on DATA without trailers: the server broke the protocol.
        if let stream = streams[streamID], !stream.done {
            complete(stream, Status(code: .internal, message: "server ended the stream without a grpc-status"),
                     trailing: Metadata())
        }
    }

    func http2StreamClosed(streamID: Int32, errorCode: UInt32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        if !stream.done {
            let status: Status
            switch HTTP2ErrorCode(rawValue: errorCode) {
            case .cancel?: status = Status(code: .cancelled, message: "the server cancelled the stream")
            case .refusedStream?:
                complete(stream, Status(code: .unavailable, message: "the server refused the stream"), trailing: Metadata(),
                         unprocessed: true)
                return
            case .enhanceYourCalm?: status = Status(code: .resourceExhausted, message: "the server asked to slow down")
            default: status = Status(code: .internal, message: "stream closed with HTTP/2 error \(errorCode) and no status")
            }
            complete(stream, status, trailing: Metadata())
        }
    }

    func http2ProvideData(streamID: Int32, into buffer: UnsafeMutableRawBufferPointer) -> HTTP2DataChunk {
        guard let stream = streams[streamID] else { return .data(count: 0, end: .endStream) }
        let written = stream.outbound.take(into: buffer)
        if stream.outbound.isEmpty, stream.sendClosed { return .data(count: written, end: .endStream) }
        if written == 0 {
            stream.dataDeferred = true
            return .deferred
        }
        return .data(count: written, end: nil)
    }

    /// The server's PINGs are answered by nghttp2; the client sends none of its own.
    func http2ReceivedPing(ack: Bool, payload: UInt64) {}

    func http2ReceivedGoaway(lastStreamID: Int32, errorCode: UInt32, debugData: String) {
        goawayLastStreamID = min(goawayLastStreamID ?? .max, lastStreamID)
        health.markUnusable()
        let failure = Self.goawayFailure(errorCode: errorCode, debugData: debugData)
        guard isReady else {
            // Refused before the first call, e.g. at the server's connection limit.
            fail(failure)
            return
        }
        if goawayReason == nil { goawayReason = failure.message }
    }
}

/// A `Sendable` handle calls use to reach their connection's event loop.
final class ClientConnectionRef: Sendable {
    let eventLoop: any EventLoop
    let handler: NIOLoopBound<ClientConnectionHandler>

    init(eventLoop: any EventLoop, handler: NIOLoopBound<ClientConnectionHandler>) {
        self.eventLoop = eventLoop
        self.handler = handler
    }

    func startCall(path: String, metadata: Metadata, timeout: Duration?) async throws -> ClientCall {
        try await eventLoop.submit {
            try self.handler.value.startCall(path: path, metadata: metadata, timeout: timeout, ref: self)
        }.get()
    }

    /// A whole unary call. From the caller's thread: one hop to the event loop and one back,
    /// when the status is in. From a task running on the loop (`GRPCChannel.executor`): none.
    /// Cancelling the caller's task cancels the call.
    func unary(path: String, metadata: Metadata, timeout: Duration?,
               message: [UInt8]) async throws -> (response: [UInt8], result: CallResult) {
        let cancellation = UnaryCancellation()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                let start: @Sendable () -> Void = {
                    self.handler.value.startUnary(path: path, metadata: metadata, timeout: timeout, message: message,
                                                  ref: self, cancellation: cancellation, continuation: continuation)
                }
                if eventLoop.inEventLoop { start() } else { eventLoop.execute(start) }
            }
        } onCancel: {
            cancellation.cancel()
        }
    }

    func send(streamID: Int32, message: [UInt8]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            eventLoop.execute { self.handler.value.enqueue(streamID: streamID, message: message, continuation: continuation) }
        }
    }

    func closeSend(streamID: Int32) { eventLoop.execute { self.handler.value.closeSend(streamID: streamID) } }
    func cancel(streamID: Int32) { eventLoop.execute { self.handler.value.cancel(streamID: streamID) } }
    func consumed(streamID: Int32, count: Int) { eventLoop.execute { self.handler.value.consumed(streamID: streamID, count: count) } }
}

/// Whether a connection can take new calls, readable from any thread (`GRPCChannel` checks
/// it before each call and reconnects when it cannot).
final class ConnectionHealth: Sendable {
    private let usable = Atomic<Bool>(true)

    var isUsable: Bool { usable.load(ordering: .relaxed) }

    func markUnusable() { usable.store(false, ordering: .relaxed) }
}

/// The `cause` of an error for a call the server never processed (refused stream, stream
/// above a GOAWAY's last stream id, connection already going away): retrying it elsewhere
/// cannot run it twice.
struct UnprocessedCall: Error {}
