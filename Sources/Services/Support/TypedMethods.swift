import RPC
import Wire
import WorkControl

/// Typed registration on top of the raw-bytes router: requests are decoded with the
/// generated Wire types (bounded, validated), responses encoded.
extension RPCRouter {
    /// A unary method with typed request and response, run on the concurrent pool.
    mutating func unary<Request: WireMessage, Response: WireMessage>(
        _ service: String, _ method: String, _ request: Request.Type = Request.self,
        _ body: @escaping @Sendable (Request, ServerContext, ResponseWriter) async throws -> Response
    ) {
        registerUnary(service: service, method: method) { bytes, context, writer in
            try await body(try decodeRequest(bytes, context), context, writer).encoded()
        }
    }

    /// A short unary method answered where its request arrived (`InlineUnaryHandler`: on the
    /// connection's event loop when the call is alone there). Only for methods that are always
    /// cheap (a lookup, a status); others use the `prepare:heavy:` form.
    mutating func inlineUnary<Request: WireMessage, Response: WireMessage>(
        _ service: String, _ method: String, _ request: Request.Type = Request.self,
        _ body: @escaping @Sendable (Request, ServerContext) throws -> Response
    ) {
        registerInlineUnary(service: service, method: method) { bytes, context in
            .response(try body(try decodeRequest(bytes, context), context).encoded())
        }
    }

    /// A unary method answered in place when `prepare` calls the request light (judged on
    /// something the body needs too, such as the collection a search runs in, found once), and
    /// otherwise handed to `heavy`, which runs the body on a work pool with the call's bounds
    /// (``ServerWork/run(_:_:work:memoryLimitBytes:map:_:)``). A light call runs with no bounds
    /// (`nil`): it is short and small by the test that made it light.
    mutating func inlineUnary<Request: WireMessage, Prepared: Sendable, Response: WireMessage>(
        _ service: String, _ method: String, _ request: Request.Type = Request.self,
        prepare: @escaping @Sendable (Request) throws -> (Prepared, light: Bool),
        heavy: @escaping @Sendable (ServerContext, @escaping @Sendable (WorkBounds) throws -> [UInt8]) async throws -> [UInt8],
        _ body: @escaping @Sendable (Request, Prepared, ServerContext, WorkBounds?) throws -> Response
    ) {
        registerInlineUnary(service: service, method: method) { bytes, context in
            let request: Request = try decodeRequest(bytes, context)
            let (prepared, light) = try prepare(request)
            guard light else {
                return .offload { try await heavy(context) { bounds in try body(request, prepared, context, bounds).encoded() } }
            }
            return .response(try body(request, prepared, context, nil).encoded())
        }
    }

    /// A server-streaming method: one typed request, typed responses through `send`.
    mutating func serverStreaming<Request: WireMessage, Response: WireMessage>(
        _ service: String, _ method: String, _ request: Request.Type = Request.self, _ response: Response.Type,
        _ body: @escaping @Sendable (Request, TypedWriter<Response>, ServerContext) async throws -> Void
    ) {
        registerServerStreaming(service: service, method: method) { bytes, writer, context in
            try await body(try decodeRequest(bytes, context), TypedWriter(writer), context)
        }
    }

    /// A client-streaming method: typed requests in, one typed response.
    mutating func clientStreaming<Request: WireMessage, Response: WireMessage>(
        _ service: String, _ method: String, _ request: Request.Type, _ response: Response.Type, placement: HandlerPlacement = .pool,
        _ body: @escaping @Sendable (TypedRequests<Request>, ServerContext, ResponseWriter) async throws -> Response
    ) {
        registerClientStreaming(service: service, method: method, placement: placement) { requests, context, writer in
            try await body(TypedRequests(requests, context: context), context, writer).encoded()
        }
    }

    /// A bidirectional-streaming method.
    mutating func bidirectional<Request: WireMessage, Response: WireMessage>(
        _ service: String, _ method: String, _ request: Request.Type, _ response: Response.Type,
        _ body: @escaping @Sendable (TypedRequests<Request>, TypedWriter<Response>, ServerContext) async throws -> Void
    ) {
        register(service: service, method: method) { requests, writer, context in
            try await body(TypedRequests(requests, context: context), TypedWriter(writer), context)
        }
    }
}

/// Decodes a request message, turning a decoding failure into the status a client should
/// see: INTERNAL for bytes that are not the message (as gRPC servers do), INVALID_ARGUMENT
/// for a well-formed message whose values we refuse (NUL in a string, nesting too deep).
func decodeRequest<Request: WireMessage>(_ bytes: [UInt8]) throws -> Request {
    do {
        return try Request(decoding: bytes)
    } catch {
        let code: StatusCode = error.code == .malformed ? .internal : .invalidArgument
        throw RPCError(code, "cannot decode \(Request.protoFullName): \(error.message)", cause: error)
    }
}

/// Decodes a request message of a call and checks the collections it names against what
/// the call was granted (`ServerContext.checkCollectionAccess`): every request a typed
/// method reads passes here, streamed ones included.
func decodeRequest<Request: WireMessage>(_ bytes: [UInt8], _ context: ServerContext) throws -> Request {
    let request: Request = try decodeRequest(bytes)
    try context.checkCollectionAccess(request)
    return request
}

/// Sends typed response messages.
struct TypedWriter<Response: WireMessage>: Sendable {
    let raw: ResponseWriter
    init(_ raw: ResponseWriter) { self.raw = raw }
    /// Sends one response; `compression` as in `ResponseWriter.send(_:compression:)`.
    func send(_ response: Response, compression: MessageCompression = .automatic) async throws {
        try await raw.send(response.encoded(), compression: compression)
    }
    func setInitialMetadata(_ metadata: Metadata) { raw.setInitialMetadata(metadata) }
    func setTrailingMetadata(_ metadata: Metadata) { raw.setTrailingMetadata(metadata) }
}

/// Typed request messages, decoded as they are read.
struct TypedRequests<Request: WireMessage>: AsyncSequence, Sendable {
    typealias Element = Request
    let raw: RequestStream
    let context: ServerContext
    init(_ raw: RequestStream, context: ServerContext) {
        self.raw = raw
        self.context = context
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestStream.AsyncIterator
        let context: ServerContext
        mutating func next() async throws -> Request? {
            guard let bytes = try await base.next() else { return nil }
            return try decodeRequest(bytes, context)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: raw.makeAsyncIterator(), context: context) }
}
