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
}

/// The handler every method is reduced to: a stream of request messages in, response
/// messages out through the writer. Returning ends the call with OK; throwing an
/// `RPCError` ends it with that status.
public typealias StreamingHandler = @Sendable (RequestStream, ResponseWriter, ServerContext) async throws -> Void

/// Maps method paths to handlers. Built once before the server starts.
public struct RPCRouter: Sendable {
    private var handlers: [String: (handler: StreamingHandler, execution: HandlerExecution)] = [:]
    private var fallbacks: [String: StreamingHandler] = [:]
    private var services: Set<String> = []

    public init() {}

    /// Registers a handler for `/service/method`, run where `execution` says. Registering a
    /// path twice is a programmer error.
    public mutating func register(service: String, method: String, execution: HandlerExecution = .concurrentPool,
                                  handler: @escaping StreamingHandler) {
        let path = "/\(service)/\(method)"
        precondition(handlers[path] == nil, "method \(path) registered twice")
        handlers[path] = (handler, execution)
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

    func handler(forPath path: String) -> (handler: StreamingHandler, execution: HandlerExecution)? {
        if let entry = handlers[path] { return entry }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        return fallbacks[String(parts[0])].map { ($0, .concurrentPool) }
    }

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
        service: String, method: String, execution: HandlerExecution = .concurrentPool,
        _ body: @escaping @Sendable ([UInt8], ServerContext, ResponseWriter) async throws -> [UInt8]
    ) {
        register(service: service, method: method, execution: execution) { requests, writer, context in
            let request = try await requests.single()
            writer.setFinalMessage(try await body(request, context, writer))
        }
    }

    /// Registers a server-streaming method: one request, responses sent through the writer.
    public mutating func registerServerStreaming(
        service: String, method: String,
        _ body: @escaping @Sendable ([UInt8], ResponseWriter, ServerContext) async throws -> Void
    ) {
        register(service: service, method: method) { requests, writer, context in
            let request = try await requests.single()
            try await body(request, writer, context)
        }
    }

    /// Registers a client-streaming method: many requests, one response.
    public mutating func registerClientStreaming(
        service: String, method: String,
        _ body: @escaping @Sendable (RequestStream, ServerContext, ResponseWriter) async throws -> [UInt8]
    ) {
        register(service: service, method: method) { requests, writer, context in
            writer.setFinalMessage(try await body(requests, context, writer))
        }
    }
}
