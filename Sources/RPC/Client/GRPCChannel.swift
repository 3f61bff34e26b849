import NIOCore
import NIOPosix
import Synchronization

/// A client connection to a gRPC server: one HTTP/2 connection (h2c with prior knowledge,
/// or TLS with ALPN `h2`) carrying many concurrent calls. When the server closes it (idle
/// timeout, graceful shutdown: GOAWAY), the next call opens a new one; a call the server
/// never processed (refused by that GOAWAY) is sent again on the new connection.
///
/// ```swift
/// let channel = try await GRPCChannel.connect(host: "127.0.0.1", port: 50051)
/// let reply = try await channel.unary("/grpc.health.v1.Health/Check", request: bytes)
/// await channel.close()
/// ```
public final class GRPCChannel: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let target: Target
    private let state: Mutex<State>
    /// Runs task jobs on this channel's event loop thread. A task that prefers it
    /// (`withTaskExecutorPreference(channel.executor) { ... }`) makes its calls without
    /// crossing threads: the request is written and the caller resumed on the thread that
    /// reads the socket, which saves two thread wake-ups per call. Meant for callers that do
    /// little work between calls (all of them then share one thread).
    public let executor: any TaskExecutor

    /// Where and how to connect, kept for reconnecting.
    private struct Target: Sendable {
        let host: String
        let port: Int
        let tlsContext: OpenSSLContext?
        let maxReceiveMessageBytes: Int
        /// Sent first on every call (credentials).
        let callMetadata: Metadata
        let requestCompression: CompressionAlgorithm?
    }

    private struct Connection: Sendable {
        let channel: any Channel
        let ref: ClientConnectionRef
        let health: ConnectionHealth
    }

    private struct State {
        var current: Connection
        var reconnecting: Task<Connection, any Error>?
        var closed = false
    }

    private init(group: MultiThreadedEventLoopGroup, target: Target, connection: Connection) {
        self.group = group
        self.target = target
        self.state = Mutex(State(current: connection))
        // One event loop in the group: every connection of this channel lives on it.
        self.executor = EventLoopTaskExecutor(connection.ref.eventLoop)
    }

    /// Connects and waits until the connection is usable (TCP, TLS handshake, the server's
    /// HTTP/2 SETTINGS). With `tls`, verifies the server against `tls.trustRootsPath` (or the
    /// system CAs) and presents a client certificate when one is configured. Throws
    /// `RPCError` (UNAVAILABLE) whose `cause` is a `ConnectionFailure` when the reason is
    /// known: TLS on one side only, an untrusted or mismatched certificate, a refusal...
    /// `metadata` is sent with every call, before the call's own (credentials such as
    /// `authorization: Bearer <api key>`). With `requestCompression`, every call announces that
    /// `grpc-encoding` and its request messages of 1 KB or more are compressed when that shrinks
    /// them (float-heavy ones are sent plain); responses always come uncompressed (the channel
    /// accepts no encoding).
    public static func connect(host: String, port: Int, tls: TLSConfiguration? = nil,
                               maxReceiveMessageBytes: Int = 64 << 20, metadata: Metadata = Metadata(),
                               requestCompression: CompressionAlgorithm? = nil) async throws -> GRPCChannel {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            var tlsSettings = tls
            if tlsSettings != nil, tlsSettings?.serverHostname == nil { tlsSettings?.serverHostname = host }
            let tlsContext = try tlsSettings.map { settings throws(TLSError) in
                try OpenSSLContext(settings, role: .client)
            }
            let target = Target(host: host, port: port, tlsContext: tlsContext, maxReceiveMessageBytes: maxReceiveMessageBytes,
                                callMetadata: metadata, requestCompression: requestCompression)
            let connection = try await open(target, on: group)
            return GRPCChannel(group: group, target: target, connection: connection)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Opens one HTTP/2 connection and waits until it is usable.
    private static func open(_ target: Target, on group: MultiThreadedEventLoopGroup) async throws -> Connection {
        let (host, port, tlsContext) = (target.host, target.port, target.tlsContext)
        let maxReceiveMessageBytes = target.maxReceiveMessageBytes, requestCompression = target.requestCompression
        let authority = "\(host):\(port)"
        let ready = group.next().makePromise(of: Void.self)
        let refPromise = group.next().makePromise(of: ClientConnectionRef.self)
        let health = ConnectionHealth()
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        // Failures reach the connection handler as a ConnectionFailure.
                        try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tlsContext) { _ in })
                    }
                    let handler = ClientConnectionHandler(
                        maxReceiveMessageBytes: maxReceiveMessageBytes,
                        scheme: tlsContext == nil ? "http" : "https", authority: authority, ready: ready, health: health,
                        requestCompression: requestCompression)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    refPromise.succeed(ClientConnectionRef(eventLoop: channel.eventLoop,
                                                           handler: NIOLoopBound(handler, eventLoop: channel.eventLoop)))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            ready.fail(error)
            refPromise.fail(error)
            throw RPCError(.unavailable, "cannot connect to \(authority): \(describe(connectError: error))", cause: error)
        }
        do {
            try await ready.futureResult.get()
        } catch {
            try? await channel.close()
            if let error = error as? RPCError { throw error }
            throw RPCError(.unavailable, "cannot connect to \(authority): \(error)", cause: error)
        }
        return Connection(channel: channel, ref: try await refPromise.futureResult.get(), health: health)
    }

    /// The connection to use now: the current one while it takes calls, else a new one
    /// (one reconnection at a time, shared by the callers that need it).
    private func usableConnection() async throws -> ClientConnectionRef {
        enum Next { case ready(ClientConnectionRef), wait(Task<Connection, any Error>) }
        let (target, group) = (self.target, self.group)
        let next = try state.withLock { state throws(RPCError) -> Next in
            guard !state.closed else { throw RPCError(.unavailable, "the channel is closed") }
            if state.current.health.isUsable { return .ready(state.current.ref) }
            if let task = state.reconnecting { return .wait(task) }
            let task = Task { try await Self.open(target, on: group) }
            state.reconnecting = task
            return .wait(task)
        }
        switch next {
        case .ready(let ref):
            return ref
        case .wait(let task):
            let result = await task.result
            let stale: (any Channel)? = state.withLock { state in
                guard state.reconnecting == task else { return nil }
                state.reconnecting = nil
                guard case .success(let connection) = result else { return nil }
                if state.closed { return connection.channel }
                state.current = connection
                return nil
            }
            try? await stale?.close()
            return try result.get().ref
        }
    }

    /// Calls the server never processed (refused by a GOAWAY, or never sent because one had
    /// come) are made again on the next usable connection, up to this many attempts in all:
    /// more than two, since a reconnect slowed down by a busy machine can itself outlive a short
    /// `maxConnectionAge` before its first call.
    static let unprocessedAttempts = 4

    /// `attempt` on a usable connection, again on the next one while the server did not process it.
    private func onUsableConnection<T>(_ attempt: (ClientConnectionRef) async throws -> T) async throws -> T {
        var attempts = 1
        while true {
            do {
                return try await attempt(try await usableConnection())
            } catch let error as RPCError where error.cause is UnprocessedCall && attempts < Self.unprocessedAttempts {
                attempts += 1
            }
        }
    }

    /// Starts a call. `timeout` becomes the `grpc-timeout` header and a local deadline.
    public func makeCall(path: String, metadata: Metadata = Metadata(), timeout: Duration? = nil) async throws -> ClientCall {
        let metadata = target.callMetadata.appending(metadata)
        return try await onUsableConnection { try await $0.startCall(path: path, metadata: metadata, timeout: timeout) }
    }

    /// A unary call: one request, one response. Throws `RPCError` on a non-OK status.
    public func unary(_ path: String, request: [UInt8], metadata: Metadata = Metadata(),
                      timeout: Duration? = nil) async throws -> (response: [UInt8], result: CallResult) {
        // Headers, the request and the end of stream leave in one event-loop turn; the caller
        // wakes once, when the call is over, with the response kept whole.
        let metadata = target.callMetadata.appending(metadata)
        return try await onUsableConnection { try await $0.unary(path: path, metadata: metadata, timeout: timeout, message: request) }
    }

    /// Closes the connection; calls still open fail with UNAVAILABLE.
    public func close() async {
        let (current, reconnecting) = state.withLock { state in
            state.closed = true
            return (state.current.channel, state.reconnecting)
        }
        reconnecting?.cancel()
        try? await current.close()
        try? await group.shutdownGracefully()
    }
}

/// A TCP connect failure in a few words, e.g. "connection refused (nothing listens on that
/// port: is the server running?)".
private func describe(connectError error: any Error) -> String {
    var underlying: any Error = error
    if let failure = (error as? NIOConnectionError)?.connectionErrors.first { underlying = failure.error }
    if let io = underlying as? IOError {
        switch io.errnoCode {
        case ECONNREFUSED: return "connection refused (nothing listens on that port: is the server running?)"
        case ETIMEDOUT: return "timed out"
        case EHOSTUNREACH, ENETUNREACH: return "no route to the host"
        default: return "\(io)"
        }
    }
    if case ChannelError.connectTimeout = underlying { return "timed out after 10 s" }
    return "\(error)"
}
