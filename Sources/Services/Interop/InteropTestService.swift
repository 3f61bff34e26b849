import RPC
import Wire

/// `grpc.testing.TestService`, served only with `--enable-interop-test-service`: the
/// server side of the gRPC interoperability cases (grpc/doc/interop-test-descriptions.md).
/// `UnimplementedCall` is deliberately left out: the `unimplemented_method` case expects
/// UNIMPLEMENTED for it. The compression features are honoured: `expect_compressed` checks
/// the request's message flag (CompressedRequest), `response_compressed` and
/// `ResponseParameters.compressed` set the response's (CompressedResponse).
struct InteropTestService: RPCService {
    static let name = "grpc.testing.TestService"
    /// Largest payload a request may ask for; bounds memory per call.
    static let maxPayloadBytes = 16 << 20
    /// Larger UnaryCall responses are made on the concurrent pool, not on the event loop.
    static let inlinePayloadBytes: Int32 = 64 << 10
    static let echoInitialKey = "x-grpc-test-echo-initial"
    static let echoTrailingKey = "x-grpc-test-echo-trailing-bin"

    func register(into router: inout RPCRouter) {
        router.unary(Self.name, "EmptyCall", GrpcTesting.Empty.self) { _, context, writer in
            Self.echoMetadata(context, writer)
            return GrpcTesting.Empty()
        }
        // Inline, like the RuVector services' short unary methods (the unary benchmark's path).
        for method in ["UnaryCall", "CacheableUnaryCall"] {
            router.registerInlineUnary(service: Self.name, method: method) { bytes, context in
                let request: GrpcTesting.SimpleRequest = try decodeRequest(bytes)
                try Self.checkCompressed(context.requestCompressed, expected: request.expectCompressed)
                let (initial, trailing) = Self.echoedMetadata(context)
                try Self.checkEchoStatus(request.responseStatus, trailingMetadata: trailing)
                let size = request.responseSize, compression = Self.compression(request.responseCompressed)
                let reply = { @Sendable () throws -> UnaryReply in
                    UnaryReply(GrpcTesting.SimpleResponse(payload: try Self.payload(size: size)).encoded(), compression: compression,
                               initialMetadata: initial, trailingMetadata: trailing)
                }
                // A large payload is built and encoded off the event loop.
                return size > Self.inlinePayloadBytes ? .offloadReply(reply) : .reply(try reply())
            }
        }
        router.serverStreaming(Self.name, "StreamingOutputCall", GrpcTesting.StreamingOutputCallRequest.self,
                               GrpcTesting.StreamingOutputCallResponse.self) { request, writer, context in
            Self.echoMetadata(context, writer.raw)
            try await Self.respond(to: request, writer: writer)
        }
        router.registerClientStreaming(service: Self.name, method: "StreamingInputCall") { requests, context, writer in
            Self.echoMetadata(context, writer)
            var total = 0
            var messages = requests.makeAsyncIterator()
            while let message = try await messages.nextMessage() {
                let request: GrpcTesting.StreamingInputCallRequest = try decodeRequest(message.bytes)
                try Self.checkCompressed(message, expected: request.expectCompressed)
                total += request.payload?.body.count ?? 0
            }
            var response = GrpcTesting.StreamingInputCallResponse()
            response.aggregatedPayloadSize = Int32(clamping: total)
            return response.encoded()
        }
        router.bidirectional(Self.name, "FullDuplexCall", GrpcTesting.StreamingOutputCallRequest.self,
                             GrpcTesting.StreamingOutputCallResponse.self) { requests, writer, context in
            Self.echoMetadata(context, writer.raw)
            for try await request in requests { try await Self.respond(to: request, writer: writer) }
        }
        router.bidirectional(Self.name, "HalfDuplexCall", GrpcTesting.StreamingOutputCallRequest.self,
                             GrpcTesting.StreamingOutputCallResponse.self) { requests, writer, context in
            Self.echoMetadata(context, writer.raw)
            var buffered: [GrpcTesting.StreamingOutputCallRequest] = []
            for try await request in requests {
                guard buffered.count < 10_000 else {
                    throw RPCError(.resourceExhausted, "HalfDuplexCall buffers at most 10000 requests")
                }
                buffered.append(request)
            }
            for request in buffered { try await Self.respond(to: request, writer: writer) }
        }
    }

    /// Sends the responses one streaming request asks for, then applies its echo status.
    private static func respond(to request: GrpcTesting.StreamingOutputCallRequest,
                                writer: TypedWriter<GrpcTesting.StreamingOutputCallResponse>) async throws {
        try checkEchoStatus(request.responseStatus)
        for parameters in request.responseParameters {
            if parameters.intervalUs > 0 {
                try await Task.sleep(for: .microseconds(min(Int(parameters.intervalUs), 10_000_000)))
            }
            var response = GrpcTesting.StreamingOutputCallResponse()
            response.payload = try payload(size: parameters.size)
            try await writer.send(response, compression: compression(parameters.compressed))
        }
    }

    /// CompressedRequest: a request that says it was compressed must have come with the flag.
    private static func checkCompressed(_ message: ReceivedMessage, expected: GrpcTesting.BoolValue?) throws {
        try checkCompressed(message.wasCompressed, expected: expected)
    }

    private static func checkCompressed(_ wasCompressed: Bool, expected: GrpcTesting.BoolValue?) throws {
        guard expected?.value == true, !wasCompressed else { return }
        throw RPCError(.invalidArgument, "expect_compressed is set but the request message was not compressed")
    }

    /// CompressedResponse: true compresses the response whatever its size, false sends it
    /// plain, absent follows the server's policy.
    private static func compression(_ asked: GrpcTesting.BoolValue?) -> MessageCompression {
        guard let asked else { return .automatic }
        return asked.value ? .compressed : .uncompressed
    }

    private static func payload(size: Int32) throws -> GrpcTesting.Payload {
        guard size >= 0, Int(size) <= maxPayloadBytes else {
            throw RPCError(.invalidArgument, "response size \(size) must be between 0 and \(maxPayloadBytes) bytes")
        }
        var payload = GrpcTesting.Payload()
        payload.body = [UInt8](repeating: 0, count: Int(size))
        return payload
    }

    /// Ends the call with the status the request asks for, if any; `trailingMetadata` goes
    /// with it (the echoed trailers of an inline call, which has no writer to hold them).
    private static func checkEchoStatus(_ status: GrpcTesting.EchoStatus?, trailingMetadata: Metadata = Metadata()) throws {
        guard let status, status.code != 0 else { return }
        throw RPCError(StatusCode(rawValue: Int(status.code)), status.message, trailingMetadata: trailingMetadata)
    }

    /// Echoes the interop metadata keys: one into the response headers, one into the trailers.
    private static func echoMetadata(_ context: ServerContext, _ writer: ResponseWriter) {
        let (initial, trailing) = echoedMetadata(context)
        if !initial.entries.isEmpty { writer.setInitialMetadata(initial) }
        if !trailing.entries.isEmpty { writer.setTrailingMetadata(trailing) }
    }

    /// The metadata echoed into the response headers and into the trailers.
    private static func echoedMetadata(_ context: ServerContext) -> (initial: Metadata, trailing: Metadata) {
        var initial = Metadata(), trailing = Metadata()
        if let value = context.requestMetadata[echoInitialKey] { initial.add(echoInitialKey, value) }
        for value in context.requestMetadata.binaryValues(forKey: echoTrailingKey) { trailing.add(echoTrailingKey, bytes: value) }
        return (initial, trailing)
    }
}
