#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RPC
import Wire

/// A connection to a RuVector server and the calls of its `VectorService`: collections,
/// points, search and snapshots. One HTTP/2 connection carries every call; the client is
/// safe to share between tasks.
///
/// ```swift
/// let db = try await RuVectorClient(host: "127.0.0.1", port: 50051)
/// try await db.createCollection(name: "docs", dimension: 3, metric: .cosine)
/// try await db.upsert([Point(id: 1, vector: [0.1, 0.9, 0.0], payload: ["lang": "swift"])], into: "docs")
/// let hits = try await db.search([0.2, 0.8, 0.0], in: "docs", k: 5, filter: .where("lang", equals: "swift"))
/// await db.close()
/// ```
public final class RuVectorClient: Sendable {
    /// TLS settings for `RuVectorClient(host:port:tls:)`: PEM files on disk. TLS 1.2+, ALPN `h2`.
    public struct TLSOptions: Sendable, Hashable {
        /// CA bundle (PEM) that the server's certificate must chain to; nil uses the system CAs.
        public var caFile: String?
        /// Client certificate chain (PEM), for servers that require mutual TLS.
        public var certificateFile: String?
        /// The client certificate's private key (PEM).
        public var privateKeyFile: String?
        /// The name expected in the server's certificate (and sent as SNI); nil uses the host.
        public var serverName: String?

        /// Makes TLS settings; all nil verifies the server against the system CAs by its host name.
        public init(caFile: String? = nil, certificateFile: String? = nil, privateKeyFile: String? = nil, serverName: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.serverName = serverName
        }
    }

    static let service = "/ruvector.v1.VectorService/"

    let channel: GRPCChannel
    /// The timeout given to every call (nil: none), unless a streaming call runs longer by design.
    public let callTimeout: Duration?
    /// `host:port` this client is connected to.
    public let address: String
    /// The TLS settings of the connection, reused to reach another cluster node (a leader hint).
    let tlsSettings: TLSConfiguration?
    /// The credentials every call carries, reused with the TLS settings.
    let credentials: Metadata

    /// Connects to a server (h2c, or TLS when `tls` is given) and waits for its HTTP/2
    /// handshake. Throws `RuVectorClientError` with code `.unavailable` when the server cannot
    /// be reached or refuses the connection (`connectionFailure` then says why when it is
    /// known: TLS on one side only, an untrusted or mismatched certificate...), `.invalidInput`
    /// when a TLS file cannot be read. A connection the server later closes (idle timeout,
    /// restart) is opened again by the next call. Call `close()` when done.
    ///
    /// - Parameters:
    ///   - callTimeout: deadline of each unary call (sent as `grpc-timeout`); nil for none.
    ///   - maxReceiveMessageBytes: largest response accepted (default 64 MiB, the server's limit).
    ///   - apiKey: an API key or token the server accepts, sent with every call as
    ///     `authorization: Bearer <key>`; nil reads `RUVECTOR_API_KEY` from the environment
    ///     (none when unset). The key appears in no error or description.
    public init(host: String = "127.0.0.1", port: Int = 50051, tls: TLSOptions? = nil, callTimeout: Duration? = nil,
                maxReceiveMessageBytes: Int = 64 << 20, apiKey: String? = nil) async throws(RuVectorClientError) {
        guard (1...65_535).contains(port) else {
            throw RuVectorClientError(.invalidInput, "port must be 1...65535, got \(port)")
        }
        if let tls, (tls.certificateFile == nil) != (tls.privateKeyFile == nil) {
            throw RuVectorClientError(.invalidInput, "mutual TLS needs both certificateFile and privateKeyFile")
        }
        for (option, path) in [("caFile", tls?.caFile), ("certificateFile", tls?.certificateFile), ("privateKeyFile", tls?.privateKeyFile)] {
            if let path, access(path, R_OK) != 0 {
                throw RuVectorClientError(.invalidInput, "TLS \(option) '\(path)' cannot be read")
            }
        }
        let settings = tls.map {
            TLSConfiguration(certificateChainPath: $0.certificateFile, privateKeyPath: $0.privateKeyFile,
                             trustRootsPath: $0.caFile, serverHostname: $0.serverName)
        }
        let key = apiKey ?? getenv("RUVECTOR_API_KEY").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        if let key, key.isEmpty || key.contains(where: { $0.isNewline || !$0.isASCII }) {
            throw RuVectorClientError(.invalidInput, "the API key must be printable ASCII on one line")
        }
        let credentials = key.map { Metadata([("authorization", "Bearer \($0)")]) } ?? Metadata()
        do {
            channel = try await GRPCChannel.connect(host: host, port: port, tls: settings, maxReceiveMessageBytes: maxReceiveMessageBytes,
                                                    metadata: credentials)
        } catch {
            throw RuVectorClientError.from(error)
        }
        self.callTimeout = callTimeout
        self.address = "\(host):\(port)"
        self.tlsSettings = settings
        self.credentials = credentials
    }

    /// The connection's own thread as a task executor. Calls made from a task that prefers it
    /// cross no thread (about 40 µs less per call on a 2-core VM); all such tasks share that
    /// one thread, so keep heavy work between calls elsewhere:
    ///
    /// ```swift
    /// let hits = try await withTaskExecutorPreference(client.executor) {
    ///     try await client.search(query, in: "docs", k: 10)
    /// }
    /// ```
    public var executor: any TaskExecutor { channel.executor }

    /// Closes the connection; calls still open fail with `.unavailable`.
    public func close() async {
        await channel.close()
    }

    // MARK: Calls

    /// One unary call of the VectorService (or of `service`), errors mapped to `RuVectorClientError`.
    func unary<Response: WireMessage>(_ method: String, _ request: some WireMessage, service: String = RuVectorClient.service,
                                      as _: Response.Type = Response.self) async throws(RuVectorClientError) -> Response {
        do {
            let (bytes, _) = try await channel.unary(service + method, request: request.encoded(), timeout: callTimeout)
            return try Response(decoding: bytes)
        } catch {
            throw RuVectorClientError.from(error)
        }
    }

    /// Starts a streaming call of the VectorService (or of `service`; no timeout: streams last
    /// as long as their data).
    func makeCall(_ method: String, service: String = RuVectorClient.service) async throws(RuVectorClientError) -> ClientCall {
        do {
            return try await channel.makeCall(path: service + method)
        } catch {
            throw RuVectorClientError.from(error)
        }
    }

    /// Half-closes a client-streaming call and returns its single response; cancelling the
    /// waiting task cancels the call.
    func finish<Response: WireMessage>(_ call: ClientCall, _ method: String,
                                       as _: Response.Type = Response.self) async throws(RuVectorClientError) -> Response {
        call.closeSend()
        do {
            let response = try await withTaskCancellationHandler {
                var last: [UInt8]?
                for try await message in call.responses { last = message }
                return last
            } onCancel: {
                call.cancel()
            }
            guard let response else { throw RuVectorClientError(.badResponse, "the server ended \(method) without a result") }
            return try Response(decoding: response)
        } catch {
            throw RuVectorClientError.from(error)
        }
    }

    // MARK: Collections

    /// Creates a collection. Throws `.alreadyExists` when the name is taken.
    ///
    /// On a cluster node the collection is created cluster-wide (through the Raft log) and
    /// sharded: `sharding` chooses how (nil: the server's defaults, one shard per member and
    /// min(3, members) copies of each). A single server ignores `sharding`.
    ///
    /// - Parameters:
    ///   - name: 1...200 characters of `[A-Za-z0-9_-]`.
    ///   - dimension: vector length, 1...65536.
    ///   - hnsw: index parameters; defaults when nil.
    ///   - quantization: compressed storage; none when nil.
    ///   - sharding: shards, copies and write mode on a cluster; the server's defaults when nil.
    ///   - onDisk: keep full vectors in a memory-mapped file instead of memory (a collection
    ///     larger than RAM; pair it with quantization, whose codes searches walk). Tiered
    ///     collections always do.
    ///   - onDiskGraph: the graph's level-0 links go to a mapped file too (implies `onDisk`;
    ///     walks then read links from the page cache or the disk).
    @discardableResult
    public func createCollection(name: String, dimension: Int, metric: Metric = .cosine, hnsw: HNSWConfig? = nil,
                                 quantization: Quantization? = nil, defaultWait: WriteWait = .collectionDefault,
                                 sharding: Sharding? = nil, onDisk: Bool = false,
                                 onDiskGraph: Bool = false) async throws(RuVectorClientError) -> CollectionInfo {
        var request = RuvectorV1.CreateCollectionRequest(name: name, dimension: try WireConversions.uint32(dimension, "dimension"),
                                                         metric: WireConversions.wire(metric),
                                                         defaultWait: WireConversions.wire(defaultWait))
        request.hnsw = try hnsw.map { config throws(RuVectorClientError) in try WireConversions.wire(config) }
        request.quantization = try quantization.map { config throws(RuVectorClientError) in try WireConversions.wire(config) }
        request.onDisk = onDisk
        request.onDiskGraph = onDiskGraph
        if let sharding {
            request.shards = try WireConversions.uint32(sharding.shards ?? 0, "shards")
            request.replicationFactor = try WireConversions.uint32(sharding.replicationFactor ?? 0, "replicationFactor")
            request.writeConsistency = WireConversions.wire(sharding.writeConsistency)
            request.minReplicas = try WireConversions.uint32(sharding.minReplicas ?? 0, "minReplicas")
        }
        return WireConversions.info(try await unary("CreateCollection", request, as: RuvectorV1.CollectionInfo.self))
    }

    /// Describes a collection: configuration, point count, index status. Throws `.notFound` when absent.
    public func collection(named name: String) async throws(RuVectorClientError) -> CollectionInfo {
        WireConversions.info(try await unary("GetCollection", RuvectorV1.GetCollectionRequest(name: name),
                                             as: RuvectorV1.CollectionInfo.self))
    }

    /// Every collection, by name.
    public func listCollections() async throws(RuVectorClientError) -> [CollectionInfo] {
        try await unary("ListCollections", RuvectorV1.ListCollectionsRequest(), as: RuvectorV1.ListCollectionsResponse.self)
            .collections.map(WireConversions.info)
    }

    /// Deletes a collection and its data; returns how many points it held. Throws `.notFound` when absent.
    @discardableResult
    public func deleteCollection(_ name: String) async throws(RuVectorClientError) -> UInt64 {
        try await unary("DeleteCollection", RuvectorV1.DeleteCollectionRequest(name: name),
                        as: RuvectorV1.DeleteCollectionResponse.self).pointsDeleted
    }
}
