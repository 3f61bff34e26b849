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

    /// Binds and starts accepting connections. Throws `TLSError` for a bad TLS setup and
    /// NIO's errors when the address cannot be bound.
    public func start() async throws {
        let tlsContext = try configuration.tls.map { configuration throws(TLSError) in
            try OpenSSLContext(configuration, role: .server)
        }
        let router = self.router
        let configuration = self.configuration
        let logger = self.logger
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [registry] channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = ObjectIdentifier(channel)
                    let handler = ServerConnectionHandler(router: router, configuration: configuration, logger: logger) {
                        registry.state.withLock { _ = $0.connections.removeValue(forKey: id) }
                    }
                    if let tlsContext {
                        let tls = try OpenSSLHandler(context: tlsContext) { reason in
                            logger.info("TLS connection refused", metadata: ["reason": "\(reason)"])
                        }
                        try channel.pipeline.syncOperations.addHandler(tls)
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                    let ref = ServerConnectionRef(eventLoop: channel.eventLoop,
                                                  handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    let accepted: Bool = registry.state.withLock { state in
                        guard !state.shuttingDown else { return false }
                        state.connections[id] = ref
                        return true
                    }
                    if !accepted { channel.close(promise: nil) }
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

/// The listening channel and the open connections, shared with channel initializers.
private final class ConnectionRegistry: Sendable {
    struct State {
        var channel: (any Channel)?
        var connections: [ObjectIdentifier: ServerConnectionRef] = [:]
        var shuttingDown = false
    }

    let state = Mutex(State())
}
