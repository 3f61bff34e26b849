import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A gRPC server over HTTP/2 (nghttp2), plain (h2c with prior knowledge) or TLS (OpenSSL,
/// ALPN `h2`), on SwiftNIO's event loops.
///
/// ```swift
/// var router = RPCRouter()
/// router.register(HealthService(...))
/// let server = GRPCServer(configuration: .init(port: 50051), router: router, logger: logger)
/// try await server.start()
/// try await server.waitUntilClosed()
/// ```
public final class GRPCServer: Sendable {
    private let configuration: ServerConfiguration
    private let router: RPCRouter
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let registry = ConnectionRegistry()

    public init(configuration: ServerConfiguration, router: RPCRouter, logger: Logger) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads:
            configuration.eventLoopThreads > 0 ? configuration.eventLoopThreads : System.coreCount)
    }

    /// The port the server listens on (useful with port 0), once started.
    public var localPort: Int? {
        registry.state.withLock { $0.channel?.localAddress?.port }
    }

    /// Connections open now and refused so far (`ServerConfiguration.maxConnections`).
    public var connectionCounts: ConnectionCounts { registry.counts }

    /// Binds and starts accepting connections. Throws `TLSError` for a bad TLS setup and
    /// NIO's errors when the address cannot be bound.
    public func start() async throws {
        let tlsContext = try configuration.tls.map { configuration throws(TLSError) in
            try OpenSSLContext(configuration, role: .server)
        }
        let router = self.router
        let configuration = self.configuration
        let logger = self.logger
        // Without a preface: grpcio then fails the call at once (UNAVAILABLE) instead of taking
        // the connection as made and trying again until its deadline.
        let requiresTLSAnswer = HTTP2Session.refusalBytes(code: .inadequateSecurity,
            debugData: "this server requires TLS: connect with TLS", withPreface: false)
        let limitAnswer = HTTP2Session.refusalBytes(code: .enhanceYourCalm,
            debugData: "server at its connection limit (\(configuration.maxConnections))", withPreface: true)
        let handshakeTimeout = TimeAmount.nanoseconds(Int64(clamping: configuration.timeoutLimits.handshakeNanos))
        var sweepers: [ObjectIdentifier: NIOLoopBound<ConnectionSweeper>] = [:]
        for eventLoop in group.makeIterator() {
            sweepers[ObjectIdentifier(eventLoop)] = try await eventLoop.submit {
                ConnectionSweeper.start(on: eventLoop, intervalNanos: configuration.timeoutCheckIntervalNanos)
            }.get()
        }
        let loopSweepers = sweepers
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [registry] channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = ObjectIdentifier(channel)
                    if let tlsContext {
                        let tls = try OpenSSLHandler(context: tlsContext, plaintextAnswer: requiresTLSAnswer) { reason in
                            logger.info("TLS connection refused", metadata: ["reason": "\(reason)"])
                        }
                        try channel.pipeline.syncOperations.addHandler(tls)
                    }
                    switch registry.admit(id, limit: configuration.maxConnections) {
                    case .shuttingDown:
                        channel.close(promise: nil)
                        return
                    case .refused(let report):
                        if let report {
                            logger.warning("refusing connections: the server is at its connection limit", metadata: [
                                "max_connections": "\(configuration.maxConnections)", "refused_since_last_report": "\(report)",
                            ])
                        }
                        try channel.pipeline.syncOperations.addHandler(ConnectionRefusalHandler(
                            answer: limitAnswer, waitsForTLS: tlsContext != nil, handshakeTimeout: handshakeTimeout))
                        return
                    case .admitted:
                        break
                    }
                    let handler = ServerConnectionHandler(
                        router: router, configuration: configuration, logger: logger,
                        sweeper: loopSweepers[ObjectIdentifier(channel.eventLoop)]?.value) {
                        registry.remove(id)
                    }
                    do {
                        try channel.pipeline.syncOperations.addHandler(handler)
                    } catch {
                        registry.remove(id)
                        throw error
                    }
                    let ref = ServerConnectionRef(eventLoop: channel.eventLoop,
                                                  handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    registry.state.withLock { $0.connections[id] = ref }
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        registry.state.withLock { $0.channel = channel }
        logger.info("listening", metadata: [
            "address": "\(configuration.host):\(channel.localAddress?.port ?? configuration.port)",
            "tls": "\(configuration.tls != nil)",
        ])
    }

    /// Stops accepting, sends GOAWAY to every connection, waits up to `gracePeriod` for
    /// open calls to finish, then closes whatever remains and stops the event loops.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        let (channel, connections) = registry.state.withLock { state in
            state.shuttingDown = true
            return (state.channel, Array(state.connections.values))
        }
        try? await channel?.close()
        for connection in connections { connection.beginGracefulShutdown() }
        let deadline = ContinuousClock.now.advanced(by: gracePeriod)
        while ContinuousClock.now < deadline {
            if registry.state.withLock({ $0.connections.isEmpty }) { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let remaining = registry.state.withLock { Array($0.connections.values) }
        if !remaining.isEmpty {
            logger.warning("closing connections that did not drain in time", metadata: ["count": "\(remaining.count)"])
            for connection in remaining { connection.forceClose() }
            try? await Task.sleep(for: .milliseconds(100))
        }
        try? await group.shutdownGracefully()
    }

    /// Returns when the listening socket has closed (after `shutdown`).
    public func waitUntilClosed() async throws {
        let channel = registry.state.withLock { $0.channel }
        try await channel?.closeFuture.get()
    }
}

/// Connections a server holds and has refused, for metrics.
public struct ConnectionCounts: Sendable, Equatable {
    /// Connections open now (refused ones not included).
    public var open: Int
    /// Connections refused at the connection limit since the server started.
    public var refusedTotal: Int
}

/// The listening channel and the open connections, shared with channel initializers.
private final class ConnectionRegistry: Sendable {
    struct State {
        var channel: (any Channel)?
        var connections: [ObjectIdentifier: ServerConnectionRef] = [:]
        /// Admitted connections, counted from admission (before their handler is registered).
        var admitted: Set<ObjectIdentifier> = []
        var shuttingDown = false
        var refusedTotal = 0
        var refusedSinceReport = 0
        var lastReport: ContinuousClock.Instant?
    }

    /// Whether a new connection is served.
    enum Admission {
        case admitted
        /// Past the limit; `report` is the count to log now (at most one line per
        /// `reportInterval`), nil when a line was logged recently.
        case refused(report: Int?)
        case shuttingDown
    }

    static let reportInterval = Duration.seconds(10)

    let state = Mutex(State())

    func admit(_ id: ObjectIdentifier, limit: Int) -> Admission {
        state.withLock { state in
            guard !state.shuttingDown else { return .shuttingDown }
            guard state.admitted.count >= limit else {
                state.admitted.insert(id)
                return .admitted
            }
            state.refusedTotal += 1
            state.refusedSinceReport += 1
            let now = ContinuousClock.now
            if let last = state.lastReport, now - last < Self.reportInterval { return .refused(report: nil) }
            state.lastReport = now
            defer { state.refusedSinceReport = 0 }
            return .refused(report: state.refusedSinceReport)
        }
    }

    func remove(_ id: ObjectIdentifier) {
        state.withLock { state in
            state.connections.removeValue(forKey: id)
            state.admitted.remove(id)
        }
    }

    var counts: ConnectionCounts {
        state.withLock { ConnectionCounts(open: $0.admitted.count, refusedTotal: $0.refusedTotal) }
    }
}
