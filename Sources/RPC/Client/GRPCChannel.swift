import NIOCore
import NIOPosix

/// A client connection to a gRPC server: one HTTP/2 connection (h2c with prior knowledge,
/// or TLS with ALPN `h2`) carrying many concurrent calls.
///
/// ```swift
/// let channel = try await GRPCChannel.connect(host: "127.0.0.1", port: 50051)
/// let reply = try await channel.unary("/grpc.health.v1.Health/Check", request: bytes)
/// await channel.close()
/// ```
public final class GRPCChannel: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let connection: ClientConnectionRef
    private let authority: String
    /// Runs task jobs on this connection's event loop thread. A task that prefers it
    /// (`withTaskExecutorPreference(channel.executor) { ... }`) makes its calls without
    /// crossing threads: the request is written and the caller resumed on the thread that
    /// reads the socket, which saves two thread wake-ups per call. Meant for callers that do
    /// little work between calls (all of them then share one thread).
    public let executor: any TaskExecutor

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel,
                 connection: ClientConnectionRef, authority: String) {
        self.group = group
        self.channel = channel
        self.connection = connection
        self.authority = authority
        self.executor = EventLoopTaskExecutor(connection.eventLoop)
    }

    /// Connects and waits until the connection is usable. With `tls`, verifies the server
    /// against `tls.trustRootsPath` (or the system CAs) and presents a client certificate
    /// when one is configured.
    public static func connect(host: String, port: Int, tls: TLSConfiguration? = nil,
                               maxReceiveMessageBytes: Int = 64 << 20) async throws -> GRPCChannel {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            var tlsSettings = tls
            if tlsSettings != nil, tlsSettings?.serverHostname == nil { tlsSettings?.serverHostname = host }
            let tlsContext = try tlsSettings.map { settings throws(TLSError) in
                try OpenSSLContext(settings, role: .client)
            }
            let authority = "\(host):\(port)"
            let ready = group.next().makePromise(of: Void.self)
            let refPromise = group.next().makePromise(of: ClientConnectionRef.self)
            let bootstrap = ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tlsContext {
                            try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tlsContext) { reason in
                                ready.fail(RPCError(.unavailable, reason))
                            })
                        }
                        let handler = ClientConnectionHandler(
                            maxReceiveMessageBytes: maxReceiveMessageBytes,
                            scheme: tlsContext == nil ? "http" : "https", authority: authority, ready: ready)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        refPromise.succeed(ClientConnectionRef(eventLoop: channel.eventLoop,
                                                               handler: NIOLoopBound(handler, eventLoop: channel.eventLoop)))
                    }
                }
            let channel = try await bootstrap.connect(host: host, port: port).get()
            try await ready.futureResult.get()
            let ref = try await refPromise.futureResult.get()
            return GRPCChannel(group: group, channel: channel, connection: ref, authority: authority)
        } catch let error as RPCError {
            try? await group.shutdownGracefully()
            throw error
        } catch {
            try? await group.shutdownGracefully()
            throw RPCError(.unavailable, "cannot connect to \(host):\(port): \(error)", cause: error)
        }
    }

    /// Starts a call. `timeout` becomes the `grpc-timeout` header and a local deadline.
    public func makeCall(path: String, metadata: Metadata = Metadata(), timeout: Duration? = nil) async throws -> ClientCall {
        try await connection.startCall(path: path, metadata: metadata, timeout: timeout)
    }

    /// A unary call: one request, one response. Throws `RPCError` on a non-OK status.
    public func unary(_ path: String, request: [UInt8], metadata: Metadata = Metadata(),
                      timeout: Duration? = nil) async throws -> (response: [UInt8], result: CallResult) {
        // Headers, the request and the end of stream leave in one event-loop turn; the caller
        // wakes once, when the call is over, with the response kept whole.
        try await connection.unary(path: path, metadata: metadata, timeout: timeout, message: request)
    }

    /// Closes the connection; calls still open fail with UNAVAILABLE.
    public func close() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}
