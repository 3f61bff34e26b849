/// What a server knows about the call in progress.
public struct ServerContext: Sendable {
    /// The full method path, e.g. `/ruvector.v1.VectorService/Search`.
    public let path: String
    /// Custom metadata the client sent (`-bin` values decoded).
    public let requestMetadata: Metadata
    /// When the client stops waiting, from `grpc-timeout`; nil when it set none.
    public let deadline: ContinuousClock.Instant?
    /// The remote address, for logs.
    public let peer: String
    /// Names the connection the call came on (unique for the life of the process): work
    /// queues share their room fairly between connections by it.
    public let connectionID: UInt64
    /// An inline unary call's request message came compressed (its message flag); false for
    /// other calls, which read it from each `ReceivedMessage`.
    public internal(set) var requestCompressed = false
    /// Roles the client's TLS certificate proves (`TLSConfiguration.peerRoles`); empty without TLS.
    public var peerRoles: Set<String> = []
    /// What the server's `CallAuthorizer` granted this call (nil when the server has none):
    /// services read it to check what a call may touch beyond its method (a collection).
    public var grant: (any Sendable)?
    /// The executor the handler's task prefers: its connection's event loop for a method
    /// registered with `HandlerPlacement.connectionLoop`, nil (the concurrent pool) otherwise.
    public internal(set) var taskExecutor: (any TaskExecutor)?

    public init(path: String, requestMetadata: Metadata, deadline: ContinuousClock.Instant?, peer: String, connectionID: UInt64,
                peerRoles: Set<String> = [], grant: (any Sendable)? = nil) {
        self.path = path
        self.requestMetadata = requestMetadata
        self.deadline = deadline
        self.peer = peer
        self.connectionID = connectionID
        self.peerRoles = peerRoles
        self.grant = grant
    }
}

/// The handler every method is reduced to: a stream of request messages in, response
/// messages out through the writer. Returning ends the call with OK; throwing an
/// `RPCError` ends it with that status.
public typealias StreamingHandler = @Sendable (RequestStream, ResponseWriter, ServerContext) async throws -> Void

/// What an inline unary handler decided, on the connection's event loop.
public enum UnaryAnswer: Sendable {
    /// The response, sent at once from the loop.
    case response([UInt8])
    /// The response with metadata or a compression choice of its own, sent at once.
    case reply(UnaryReply)
    /// Too long for an event loop: the server runs this in a task (which may hand the work
    /// to a thread pool of its own) and answers with what it returns (or the status it throws).
    case offload(@Sendable () async throws -> [UInt8])
    /// `offload` for a reply with metadata or a compression choice of its own.
    case offloadReply(@Sendable () async throws -> UnaryReply)

    /// The reply, computing an offloaded one here (in the call's task, where it is called).
    func reply() async throws -> UnaryReply {
        switch self {
        case .response(let bytes): return UnaryReply(bytes)
        case .reply(let reply): return reply
        case .offload(let work): return UnaryReply(try await work())
        case .offloadReply(let work): return try await work()
        }
    }
}

/// An inline unary handler's response with what else goes with it. A handler that throws
/// instead ends the call with the error's status and trailing metadata.
public struct UnaryReply: Sendable {
    public var message: [UInt8]
    /// Overrides the server's compression policy for the message (`MessageCompression`).
    public var compression: MessageCompression
    /// Custom metadata sent with the response headers.
    public var initialMetadata: Metadata
    /// Custom metadata sent with the status.
    public var trailingMetadata: Metadata

    public init(_ message: [UInt8], compression: MessageCompression = .automatic, initialMetadata: Metadata = Metadata(),
                trailingMetadata: Metadata = Metadata()) {
        self.message = message
        self.compression = compression
        self.initialMetadata = initialMetadata
        self.trailingMetadata = trailingMetadata
    }
}

/// A unary handler that runs synchronously where the request arrived: on the connection's
/// event loop when the call is the connection's only one, with no task, no request stream
/// and no thread crossed between the request's bytes and the response's. Beside other calls
/// of the connection, and for the next 64 calls after two were open at once, it runs on the
/// concurrent pool instead, so a multiplexing client still gets every core and its loop is
/// never stalled by a search, unless the method answers on average faster than that trip
/// (`InlineCost`: under 10 µs, measured). Throwing an `RPCError` ends the call with that status.
public typealias InlineUnaryHandler = @Sendable (_ request: [UInt8], _ context: ServerContext) throws -> UnaryAnswer

/// Where a streaming method's handler task runs.
public enum HandlerPlacement: Sendable {
    /// On Swift's shared concurrent pool, beside every other call's work (the default).
    case pool
    /// On the event loop of the call's connection (a task preferring it): for methods whose
    /// every step is short and must not queue behind the pool's jobs, such as node-to-node
    /// heartbeats while client work fills the pool. The handler must never block
    /// (no waiting on locks held across I/O, no long computation): it would stall the
    /// connection's other calls. Tasks it starts should prefer `ServerContext.taskExecutor`.
    case connectionLoop
}

/// How a registered method is served.
enum RouteHandler: Sendable {
    case streaming(StreamingHandler, HandlerPlacement)
    /// `cost`: how long the handler takes lately (shared by every connection).
    case inlineUnary(InlineUnaryHandler, cost: InlineCost)
}

/// How many messages each side of a method sends (gRPC-Web serves the first two only: a
/// browser sends its whole request before it reads a response).
public enum RPCMethodKind: Sendable, Equatable {
    case unary
    case serverStreaming
    case clientStreaming
    case bidirectionalStreaming

    /// True when the client sends one request message.
    var hasSingleRequest: Bool { self == .unary || self == .serverStreaming }
}

/// Maps method paths to handlers. Built once before the server starts.
public struct RPCRouter: Sendable {
    private var handlers: [String: RouteHandler] = [:]
    private var kinds: [String: RPCMethodKind] = [:]
    private var fallbacks: [String: StreamingHandler] = [:]
    private var services: Set<String> = []

    public init() {}

    /// Registers a handler for `/service/method`, run where `placement` says (Swift's
    /// concurrent pool unless asked). Registering a path twice is a programmer error. `kind`
    /// says how many messages each side sends (gRPC-Web refuses client and bidirectional streaming).
    public mutating func register(service: String, method: String, kind: RPCMethodKind = .bidirectionalStreaming,
                                  placement: HandlerPlacement = .pool, handler: @escaping StreamingHandler) {
        add(.streaming(handler, placement), kind: kind, service: service, method: method)
    }

    /// Registers a unary method answered in place when it can be (see `InlineUnaryHandler`):
    /// for short handlers, where a task and two thread hops would cost more than the work.
    public mutating func registerInlineUnary(service: String, method: String,
                                             handler: @escaping InlineUnaryHandler) {
        add(.inlineUnary(handler, cost: InlineCost()), kind: .unary, service: service, method: method)
    }

    private mutating func add(_ handler: RouteHandler, kind: RPCMethodKind, service: String, method: String) {
        let path = "/\(service)/\(method)"
        precondition(handlers[path] == nil, "method \(path) registered twice")
        handlers[path] = handler
        kinds[path] = kind
        services.insert(service)
    }

    /// Registers a handler for every method of `service` that has no handler of its own
    /// (used to answer UNIMPLEMENTED with a precise message for services not wired yet).
    public mutating func registerFallback(service: String, handler: @escaping StreamingHandler) {
        precondition(fallbacks[service] == nil, "fallback for \(service) registered twice")
        fallbacks[service] = handler
        services.insert(service)
    }

    /// Registers every method of a service.
    public mutating func register(_ service: some RPCService) {
        service.register(into: &self)
    }

    /// The fully-qualified names of the registered services.
    public var serviceNames: [String] { services.sorted() }

    func handler(forPath path: String) -> RouteHandler? {
        if let entry = handlers[path] { return entry }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        return fallbacks[String(parts[0])].map { .streaming($0, .pool) }
    }

    /// The kind of a registered method; nil for a path answered by a fallback or unknown.
    func kind(forPath path: String) -> RPCMethodKind? { kinds[path] }

    /// The service part of a `/service/method` path, when it is one of ours.
    func knowsService(ofPath path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return parts.count == 2 && services.contains(String(parts[0]))
    }
}

/// A set of methods served together under one service name.
public protocol RPCService: Sendable {
    /// Adds the service's methods to the router.
    func register(into router: inout RPCRouter)
}

extension RPCRouter {
    /// Registers a unary method: exactly one request, exactly one response.
    public mutating func registerUnary(
        service: String, method: String,
        _ body: @escaping @Sendable ([UInt8], ServerContext, ResponseWriter) async throws -> [UInt8]
    ) {
        register(service: service, method: method, kind: .unary) { requests, writer, context in
            let request = try await requests.single()
            writer.setFinalMessage(try await body(request, context, writer))
        }
    }

    /// Registers a server-streaming method: one request, responses sent through the writer.
    public mutating func registerServerStreaming(
        service: String, method: String,
        _ body: @escaping @Sendable ([UInt8], ResponseWriter, ServerContext) async throws -> Void
    ) {
        register(service: service, method: method, kind: .serverStreaming) { requests, writer, context in
            let request = try await requests.single()
            try await body(request, writer, context)
        }
    }

    /// Registers a client-streaming method: many requests, one response.
    public mutating func registerClientStreaming(
        service: String, method: String, placement: HandlerPlacement = .pool,
        _ body: @escaping @Sendable (RequestStream, ServerContext, ResponseWriter) async throws -> [UInt8]
    ) {
        register(service: service, method: method, kind: .clientStreaming, placement: placement) { requests, writer, context in
            writer.setFinalMessage(try await body(requests, context, writer))
        }
    }
}
