import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import ClusterNode
import RPC
import Services
import Storage
import VectorDatabase
import WorkControl

/// Everything the server can be told, from a JSON config file, environment variables and
/// flags (flags win over the environment, which wins over the file).
struct ServerSettings: Codable, Equatable {
    /// `HOST:PORT` to listen on.
    var listen: String = "127.0.0.1:50051"
    /// Directory for collections, WAL and snapshots (created if missing).
    var dataDir: String = "./data"
    /// PEM certificate chain; with `tlsKey` turns on TLS.
    var tlsCert: String?
    /// PEM private key for `tlsCert`.
    var tlsKey: String?
    /// PEM CA bundle; when set, clients must present a certificate it signed (mTLS).
    var tlsClientCA: String?
    /// Largest request message accepted, in bytes.
    var maxReceiveMessageBytes: Int = 64 << 20
    /// Largest response message sent, in bytes.
    var maxSendMessageBytes: Int = 64 << 20
    /// trace, debug, info, notice, warning, error or critical.
    var logLevel: String = "info"
    /// Seconds open calls get to finish after SIGTERM.
    var shutdownGraceSeconds: Int = 10
    /// Serves grpc.testing.TestService (for interoperability tests only).
    var enableInteropTestService: Bool = false
    /// When a write is acknowledged: `always` (fsync per write, group-committed), `batch`
    /// (fsync within 1 ms, shared by the writes of that window) or `never` (the OS decides;
    /// a power loss can lose acknowledged writes).
    var walSync: String = "always"
    /// A collection snapshots itself after this many bytes of write-ahead log (0 = only on request).
    var autoSnapshotWALBytes: Int = 256 << 20
    /// Overrides of VectorService limits, by name (see `VectorServiceLimits`).
    var vectorLimits: [String: Int] = [:]
    /// `HOST:PORT` for the Prometheus endpoint (`GET /metrics`, plain HTTP); nil = off.
    var metricsListen: String?

    // MARK: Work pools and memory (ServerWork)
    /// Most memory the server should hold, data and running calls together, e.g. "8GiB";
    /// new call work is refused past it. Default: 3/4 of the machine's (or cgroup's) memory.
    var memoryLimit: String?
    /// Most memory one call may hold (results, rows, decoded requests), e.g. "512MiB".
    /// Default: 1 GiB, at most half of memoryLimit.
    var callMemoryLimit: String?
    /// Threads of the search, write, Cypher and background pools (0 = the default for the machine).
    var searchThreads: Int = 0
    var writeThreads: Int = 0
    var cypherThreads: Int = 0
    var backgroundThreads: Int = 0
    /// Calls that may wait for a pool's thread (all connections), and per connection.
    var workQueueLimit: Int = 0
    var connectionQueueLimit: Int = 0
    // MARK: Restart time (automatic snapshots, see `DurabilityOptions`)
    /// A collection or the graph snapshots itself once this many points or graph elements
    /// were written since its last snapshot (0 = off).
    var autoSnapshotChanges: Int = DurabilityOptions.defaultAutoSnapshotChanges
    /// ... or once applying its writes since the last snapshot took this many milliseconds
    /// (replay at restart redoes that work; 0 = off).
    var autoSnapshotReplayMillis: Int = DurabilityOptions.defaultAutoSnapshotReplayMillis
    /// ... or once its oldest write not in a snapshot is this many seconds old (0 = off).
    var autoSnapshotIntervalSeconds: Int = Int(DurabilityOptions.defaultAutoSnapshotInterval.components.seconds)
    // Connection hygiene: how long and how much one client's connection may hold.
    /// Connections served at once; past it a new one gets a GOAWAY saying so and is closed.
    var maxConnections: Int = 4096
    /// Seconds a new connection has to finish its TLS handshake and send the HTTP/2 preface.
    var handshakeTimeoutSeconds: Double = 10
    /// Seconds a connection may stay without a call before a graceful GOAWAY closes it; 0 = never.
    var idleTimeoutSeconds: Double = 300
    /// Seconds without progress before a stalled stream is reset or a stalled connection closed.
    var streamStallTimeoutSeconds: Double = 60
    /// Request bytes one connection may buffer across its calls; nil = 4 x maxReceiveMessageBytes.
    var maxConnectionBufferedRequestBytes: Int?
    // Keepalive, connection ageing and HTTP/2 limits (what a mesh and a load balancer need).
    /// Seconds without a received byte before the server PINGs the client; 0 = never.
    var keepaliveTimeSeconds: Double = 120
    /// Seconds a server PING may go unanswered before the connection is closed.
    var keepaliveTimeoutSeconds: Double = 20
    /// Least seconds between client PINGs; closer ones are strikes, and past two strikes
    /// the client gets GOAWAY ENHANCE_YOUR_CALM "too_many_pings"; 0 = no minimum.
    var keepaliveMinPingIntervalSeconds: Double = 10
    /// Whether clients may PING at that rate on a connection without calls (else once per 2 hours).
    var keepalivePermitWithoutCalls: Bool = false
    /// Seconds (+-10% jitter) after which a connection gets a graceful GOAWAY; 0 = no limit.
    var maxConnectionAgeSeconds: Double = 0
    /// Seconds calls get after the max-age GOAWAY before they are cancelled; 0 = no limit.
    var maxConnectionAgeGraceSeconds: Double = 0
    /// Streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
    var maxConcurrentStreams: Int = 1024
    /// Largest request header block (metadata) in bytes, as HTTP/2 counts it (SETTINGS_MAX_HEADER_LIST_SIZE).
    var maxHeaderListBytes: Int = 16 << 10
    // MARK: Response compression (requests in gzip or deflate are always accepted)
    /// `gzip`, `deflate` or `off`: what responses are compressed with when the client accepts it.
    var responseCompression: String = "off"
    /// Smallest response message compressed, in bytes.
    var responseCompressionThresholdBytes: Int = ServerConfiguration().responseCompressionThresholdBytes
    /// Responses whose sampled bytes measure more bits per byte are sent plain (mostly float
    /// vectors); 8 compresses them too.
    var responseCompressionMaxEntropyBitsPerByte: Double = ServerConfiguration().responseCompressionMaxEntropyBitsPerByte
    // MARK: Bulk import (UpsertStream)
    /// Threads that link the points of one large UpsertStream message at once (0 = one per
    /// core; 1 = one point at a time, so replay rebuilds exactly the live graph).
    var importThreads: Int = 0

    // MARK: Cluster (Raft-coordinated metadata; see docs/cluster.md)
    /// This node's id in a cluster (non-zero); nil: the embedded single-node default.
    var nodeId: UInt64?
    /// The founding members, `ID=HOST:PORT,...` (the same on every founding node).
    var cluster: String?
    /// Where this node dials some peers instead of their advertised address, `ID=HOST:PORT,...`
    /// (a proxy or tunnel).
    var peerRoutes: String?
    /// A member's address to ask for admission (a node joining a running cluster).
    var join: String?
    /// The address other nodes and clients reach this node at (default: its entry in `cluster`,
    /// else `listen`).
    var advertiseAddress: String?
    /// Applied metadata entries between two compactions of the Raft log.
    var raftSnapshotEntries: Int = 10_000
    /// Whether the shard failover may take a refused connect to a silent primary's advertised
    /// address as proof that its process is gone (and replace it without the 1.5 s silence).
    var failoverOnRefusedConnect = true
    /// PEM CA bundle that signs the cluster's node certificates: with TLS on, nodes talk over
    /// mutual TLS and only certificates of this CA may call RaftService.
    var clusterCA: String?

    // MARK: Authentication (docs/security.md; see SecuritySettings.swift)
    /// The API key that may do everything. Prefer `apiKeyFile` or RUVECTOR_API_KEY: a value
    /// here or on the command line is visible to anyone who can read the file or `ps`.
    var apiKey: String?
    /// A file holding the admin API key (re-read on SIGHUP).
    var apiKeyFile: String?
    /// The API key that may read everything (RUVECTOR_READ_ONLY_API_KEY).
    var readOnlyApiKey: String?
    /// A file holding the read-only API key (re-read on SIGHUP).
    var readOnlyApiKeyFile: String?
    /// A file holding the HS256 secret of JSON Web Tokens, at least 32 bytes (RUVECTOR_JWT_SECRET).
    var jwtSecretFile: String?
    /// A PEM public key (RSA 2048+ for RS256, EC P-256 for ES256) that verifies JSON Web Tokens.
    var jwtPublicKeyFile: String?
    /// A file holding the key cluster nodes present to each other when they do not use mutual
    /// TLS (RUVECTOR_CLUSTER_KEY); the same on every node.
    var clusterKeyFile: String?
    /// Client certificate names (`CN=...`, `DNS:...`, `URI:...`, `email:...`, `IP:...`) and the
    /// access (`read`, `write`, `admin`) a verified certificate carrying one gets.
    var certificateRoles: [String: String] = [:]
    /// Lets reflection be called without credentials (for tools such as grpcurl).
    var publicReflection: Bool = false
    /// Browser origins allowed to call with gRPC-Web (CORS); empty: none.
    var corsAllowedOrigins: [String] = []
    /// Serves the web console's files on the main port (`GET /`); false: `--no-console`.
    var console: Bool = true
    /// `HOST:PORT` of a listener of its own for the console (its files and its gRPC-Web
    /// calls); the main port then serves no console. nil: the console is on the main port.
    var consoleListen: String?

    /// The peer role a node certificate proves (`TLSConfiguration.peerRoles`).
    static let clusterNodeRole = "cluster-node"

    init() {}

    /// Every key is optional in the file; missing ones keep their defaults, unknown ones
    /// are refused (a typo should not be silently ignored).
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ServerSettings()
        // Paths in a config file are relative to its folder (see `load(configFile:)`).
        let folder = decoder.userInfo[Self.configFolderKey] as? String
        func path(_ key: CodingKeys) throws -> String? {
            try container.decodeIfPresent(String.self, forKey: key).map { value in
                guard let folder, !value.hasPrefix("/") else { return value }
                return folder + "/" + value
            }
        }
        listen = try container.decodeIfPresent(String.self, forKey: .listen) ?? defaults.listen
        dataDir = try path(.dataDir) ?? defaults.dataDir
        tlsCert = try path(.tlsCert)
        tlsKey = try path(.tlsKey)
        tlsClientCA = try path(.tlsClientCA)
        maxReceiveMessageBytes = try container.decodeIfPresent(Int.self, forKey: .maxReceiveMessageBytes)
            ?? defaults.maxReceiveMessageBytes
        maxSendMessageBytes = try container.decodeIfPresent(Int.self, forKey: .maxSendMessageBytes)
            ?? defaults.maxSendMessageBytes
        logLevel = try container.decodeIfPresent(String.self, forKey: .logLevel) ?? defaults.logLevel
        shutdownGraceSeconds = try container.decodeIfPresent(Int.self, forKey: .shutdownGraceSeconds)
            ?? defaults.shutdownGraceSeconds
        enableInteropTestService = try container.decodeIfPresent(Bool.self, forKey: .enableInteropTestService)
            ?? defaults.enableInteropTestService
        walSync = try container.decodeIfPresent(String.self, forKey: .walSync) ?? defaults.walSync
        autoSnapshotWALBytes = try container.decodeIfPresent(Int.self, forKey: .autoSnapshotWALBytes) ?? defaults.autoSnapshotWALBytes
        vectorLimits = try container.decodeIfPresent([String: Int].self, forKey: .vectorLimits) ?? defaults.vectorLimits
        metricsListen = try container.decodeIfPresent(String.self, forKey: .metricsListen)
        memoryLimit = try container.decodeIfPresent(String.self, forKey: .memoryLimit)
        callMemoryLimit = try container.decodeIfPresent(String.self, forKey: .callMemoryLimit)
        searchThreads = try container.decodeIfPresent(Int.self, forKey: .searchThreads) ?? 0
        writeThreads = try container.decodeIfPresent(Int.self, forKey: .writeThreads) ?? 0
        cypherThreads = try container.decodeIfPresent(Int.self, forKey: .cypherThreads) ?? 0
        backgroundThreads = try container.decodeIfPresent(Int.self, forKey: .backgroundThreads) ?? 0
        workQueueLimit = try container.decodeIfPresent(Int.self, forKey: .workQueueLimit) ?? 0
        connectionQueueLimit = try container.decodeIfPresent(Int.self, forKey: .connectionQueueLimit) ?? 0
        autoSnapshotChanges = try container.decodeIfPresent(Int.self, forKey: .autoSnapshotChanges) ?? defaults.autoSnapshotChanges
        autoSnapshotReplayMillis = try container.decodeIfPresent(Int.self, forKey: .autoSnapshotReplayMillis)
            ?? defaults.autoSnapshotReplayMillis
        autoSnapshotIntervalSeconds = try container.decodeIfPresent(Int.self, forKey: .autoSnapshotIntervalSeconds)
            ?? defaults.autoSnapshotIntervalSeconds
        maxConnections = try container.decodeIfPresent(Int.self, forKey: .maxConnections) ?? defaults.maxConnections
        handshakeTimeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .handshakeTimeoutSeconds)
            ?? defaults.handshakeTimeoutSeconds
        idleTimeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .idleTimeoutSeconds) ?? defaults.idleTimeoutSeconds
        streamStallTimeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .streamStallTimeoutSeconds)
            ?? defaults.streamStallTimeoutSeconds
        maxConnectionBufferedRequestBytes = try container.decodeIfPresent(Int.self, forKey: .maxConnectionBufferedRequestBytes)
        try decodeKeepalive(from: container, defaults: defaults)
        importThreads = try container.decodeIfPresent(Int.self, forKey: .importThreads) ?? defaults.importThreads
        responseCompression = try container.decodeIfPresent(String.self, forKey: .responseCompression) ?? defaults.responseCompression
        responseCompressionThresholdBytes = try container.decodeIfPresent(Int.self, forKey: .responseCompressionThresholdBytes)
            ?? defaults.responseCompressionThresholdBytes
        responseCompressionMaxEntropyBitsPerByte = try container.decodeIfPresent(
            Double.self, forKey: .responseCompressionMaxEntropyBitsPerByte) ?? defaults.responseCompressionMaxEntropyBitsPerByte
        nodeId = try container.decodeIfPresent(UInt64.self, forKey: .nodeId)
        cluster = try container.decodeIfPresent(String.self, forKey: .cluster)
        peerRoutes = try container.decodeIfPresent(String.self, forKey: .peerRoutes)
        join = try container.decodeIfPresent(String.self, forKey: .join)
        advertiseAddress = try container.decodeIfPresent(String.self, forKey: .advertiseAddress)
        raftSnapshotEntries = try container.decodeIfPresent(Int.self, forKey: .raftSnapshotEntries) ?? defaults.raftSnapshotEntries
        failoverOnRefusedConnect = try container.decodeIfPresent(Bool.self, forKey: .failoverOnRefusedConnect) ?? defaults.failoverOnRefusedConnect
        clusterCA = try path(.clusterCA)
        apiKey = try container.decodeIfPresent(String.self, forKey: .apiKey)
        apiKeyFile = try path(.apiKeyFile)
        readOnlyApiKey = try container.decodeIfPresent(String.self, forKey: .readOnlyApiKey)
        readOnlyApiKeyFile = try path(.readOnlyApiKeyFile)
        jwtSecretFile = try path(.jwtSecretFile)
        jwtPublicKeyFile = try path(.jwtPublicKeyFile)
        clusterKeyFile = try path(.clusterKeyFile)
        certificateRoles = try container.decodeIfPresent([String: String].self, forKey: .certificateRoles) ?? [:]
        publicReflection = try container.decodeIfPresent(Bool.self, forKey: .publicReflection) ?? false
        corsAllowedOrigins = try container.decodeIfPresent([String].self, forKey: .corsAllowedOrigins) ?? []
        console = try container.decodeIfPresent(Bool.self, forKey: .console) ?? true
        consoleListen = try container.decodeIfPresent(String.self, forKey: .consoleListen)
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).filter { !known.contains($0) }
        if !unknown.isEmpty {
            throw Invalid(description: "unknown setting(s) \(unknown.sorted()); known: \(known.sorted())")
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, dataDir, tlsCert, tlsKey, tlsClientCA, maxReceiveMessageBytes, maxSendMessageBytes
        case logLevel, shutdownGraceSeconds, enableInteropTestService, walSync, autoSnapshotWALBytes, vectorLimits
        case metricsListen
        case memoryLimit, callMemoryLimit, searchThreads, writeThreads, cypherThreads, backgroundThreads
        case workQueueLimit, connectionQueueLimit
        case autoSnapshotChanges, autoSnapshotReplayMillis, autoSnapshotIntervalSeconds
        case maxConnections, handshakeTimeoutSeconds, idleTimeoutSeconds, streamStallTimeoutSeconds
        case maxConnectionBufferedRequestBytes
        case keepaliveTimeSeconds, keepaliveTimeoutSeconds, keepaliveMinPingIntervalSeconds, keepalivePermitWithoutCalls
        case maxConnectionAgeSeconds, maxConnectionAgeGraceSeconds, maxConcurrentStreams, maxHeaderListBytes
        case importThreads
        case responseCompression, responseCompressionThresholdBytes, responseCompressionMaxEntropyBitsPerByte
        case nodeId, cluster, peerRoutes, join, advertiseAddress, raftSnapshotEntries, failoverOnRefusedConnect, clusterCA
        case apiKey, apiKeyFile, readOnlyApiKey, readOnlyApiKeyFile, jwtSecretFile, jwtPublicKeyFile, clusterKeyFile
        case certificateRoles, publicReflection, corsAllowedOrigins, console, consoleListen
    }

    /// The config file's folder, for the decoder (relative paths).
    private static let configFolderKey = CodingUserInfoKey(rawValue: "ruvector.configFolder")!

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// A settings problem the operator must fix before the server can start.
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads a JSON config file whose keys are the property names above. Relative paths in it
    /// (`dataDir`, `tlsCert`, `tlsKey`, `tlsClientCA`) are relative to the file's folder, so
    /// a config and the TLS files beside it work wherever they are installed.
    static func load(configFile path: String) throws -> ServerSettings {
        let bytes = try readFile(path, what: "config file", limitBytes: 1 << 20)
        do {
            let decoder = JSONDecoder()
            decoder.userInfo[Self.configFolderKey] = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
            return try decoder.decode(ServerSettings.self, from: Data(bytes))
        } catch let error as Invalid {
            throw Invalid(description: "config file '\(path)': \(error.description)")
        } catch {
            throw Invalid(description: "config file '\(path)' is not valid: \(error)")
        }
    }

    /// The bytes of a small file named in the settings; `what` names it in errors.
    static func readFile(_ path: String, what: String, limitBytes: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Invalid(description: "cannot open \(what) '\(path)'") }
        defer { close(fd) }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 { break }
            bytes += chunk[0..<count]
            if bytes.count > limitBytes { throw Invalid(description: "\(what) '\(path)' is larger than \(formatBytes(limitBytes))") }
        }
        return bytes
    }

    /// Splits `listen` into host and port.
    func hostAndPort() throws -> (String, Int) { try Self.hostAndPort(listen, option: "--listen") }

    /// Splits `consoleListen` into host and port; nil when the console is on the main port
    /// (or off). The console cannot be both off and on a port of its own.
    func consoleHostAndPort() throws -> (String, Int)? {
        guard let consoleListen else { return nil }
        guard console else {
            throw Invalid(description: "--console-listen serves the console, and --no-console (console: false) turns it off: give one of them")
        }
        return try Self.hostAndPort(consoleListen, option: "--console-listen")
    }

    /// Splits `metricsListen` into host and port; nil when metrics are off.
    func metricsHostAndPort() throws -> (String, Int)? { try metricsListen.map { try Self.hostAndPort($0, option: "--metrics-listen") } }

    private static func hostAndPort(_ listen: String, option: String) throws -> (String, Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (0...65535).contains(port) else {
            throw Invalid(description: "\(option) must be HOST:PORT, e.g. 127.0.0.1:50051; got '\(listen)'")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// What the services are given: limits and how collections keep their files.
    /// The cluster node's options, or nil for the single-node default.
    func clusterOptions() throws -> ClusterNode.Options? {
        guard nodeId != nil || cluster != nil || join != nil else { return nil }
        guard let id = nodeId, id != 0 else {
            throw Invalid(description: "a cluster node needs --node-id (a non-zero number, unique in the cluster)")
        }
        let founding = try Self.nodeMap(cluster, option: "--cluster")
        if cluster != nil {
            guard founding[id] != nil else {
                throw Invalid(description: "--cluster must list this node (--node-id \(id)) with its address")
            }
            guard join == nil else { throw Invalid(description: "use --cluster to found a cluster, or --join to join one, not both") }
        }
        if let join, PeerAddress.split(join) == nil { throw Invalid(description: "--join must be HOST:PORT, got '\(join)'") }
        guard raftSnapshotEntries >= 10 else {
            throw Invalid(description: "raftSnapshotEntries must be at least 10, got \(raftSnapshotEntries)")
        }
        var options = ClusterNode.Options(id: id, founding: founding, directory: dataDir + "/cluster")
        options.routes = try Self.nodeMap(peerRoutes, option: "--peer-routes")
        options.snapshotEntries = raftSnapshotEntries
        options.refusedConnectProvesDeath = failoverOnRefusedConnect
        if let tlsCert, let tlsKey {
            guard let clusterCA else {
                throw Invalid(description: "with TLS on, a cluster node needs --cluster-ca: the CA that signed every node's certificate (node-to-node traffic uses mutual TLS)")
            }
            options.tls = TLSConfiguration(certificateChainPath: tlsCert, privateKeyPath: tlsKey, trustRootsPath: clusterCA)
            options.requiredPeerRole = Self.clusterNodeRole
        } else if clusterCA != nil {
            throw Invalid(description: "--cluster-ca needs --tls-cert and --tls-key")
        }
        return options
    }

    /// The address this node gives the cluster.
    func advertisedAddress(localPort: Int?) throws -> String {
        if let advertiseAddress { return advertiseAddress }
        if let id = nodeId, let address = try Self.nodeMap(cluster, option: "--cluster")[id] { return address }
        guard let (host, port) = PeerAddress.split(listen) else { return listen }
        return "\(host):\(port == 0 ? (localPort ?? port) : port)"
    }

    /// `ID=HOST:PORT,...` as a map, checked.
    static func nodeMap(_ text: String?, option: String) throws -> [UInt64: String] {
        guard let text, !text.isEmpty else { return [:] }
        var map: [UInt64: String] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0.filter { $0 != " " }) }
            guard parts.count == 2, let id = UInt64(parts[0]), id != 0, PeerAddress.split(parts[1]) != nil else {
                throw Invalid(description: "\(option) takes ID=HOST:PORT items separated by commas (ids non-zero), got '\(item)'")
            }
            guard map.updateValue(parts[1], forKey: id) == nil else {
                throw Invalid(description: "\(option) lists node \(id) twice")
            }
        }
        return map
    }

    func catalogOptions() throws -> ServiceCatalog.Options {
        let policy: WALSyncPolicy
        switch walSync {
        case "always": policy = .always
        case "batch": policy = .batch(delayMicros: 1000)
        case "never": policy = .never
        default: throw Invalid(description: "--wal-sync must be always, batch or never; got '\(walSync)'")
        }
        guard (0...1024).contains(importThreads) else {
            throw Invalid(description: "importThreads must be 0 (one per core) to 1024, got \(importThreads)")
        }
        for (key, value) in [("autoSnapshotWALBytes", autoSnapshotWALBytes), ("autoSnapshotChanges", autoSnapshotChanges),
                             ("autoSnapshotReplayMillis", autoSnapshotReplayMillis),
                             ("autoSnapshotIntervalSeconds", autoSnapshotIntervalSeconds)] where value < 0 {
            throw Invalid(description: "\(key) must be 0 (off) or positive, got \(value)")
        }
        let limits: VectorServiceLimits
        do {
            limits = try VectorServiceLimits(overrides: vectorLimits)
        } catch {
            throw Invalid(description: error.description)
        }
        var options = ServiceCatalog.Options(dataDirectory: dataDir, enableInteropTestService: enableInteropTestService, vectorLimits: limits,
                                      collectionOptions: .init(syncPolicy: policy, autoSnapshotWALBytes: autoSnapshotWALBytes,
                                                               autoSnapshotChanges: autoSnapshotChanges,
                                                               autoSnapshotReplayMillis: autoSnapshotReplayMillis,
                                                               autoSnapshotInterval: .seconds(autoSnapshotIntervalSeconds)),
                                      work: try workOptions(), maxResponseBytes: maxSendMessageBytes,
                                      importThreads: importThreads == 0 ? ServiceCatalog.Options.defaultImportThreads : importThreads)
        options.cluster = try clusterOptions()
        return options
    }

    /// Pool sizes and memory limits; unset values keep the machine's defaults.
    func workOptions() throws -> ServerWork.Options {
        var options = ServerWork.Options()
        if let memoryLimit {
            options.memoryLimitBytes = try Self.byteSize(memoryLimit, setting: "--memory-limit", minimum: 64 << 20)
            options.callMemoryLimitBytes = min(1 << 30, options.memoryLimitBytes / 2)
        }
        if let callMemoryLimit {
            options.callMemoryLimitBytes = try Self.byteSize(callMemoryLimit, setting: "--call-memory-limit", minimum: 1 << 20)
        }
        guard options.callMemoryLimitBytes <= options.memoryLimitBytes else {
            throw Invalid(description: "--call-memory-limit (\(formatBytes(options.callMemoryLimitBytes))) cannot exceed --memory-limit (\(formatBytes(options.memoryLimitBytes)))")
        }
        for (value, name, keyPath) in [(searchThreads, "searchThreads", \ServerWork.Options.searchThreads),
                                       (writeThreads, "writeThreads", \.writeThreads), (cypherThreads, "cypherThreads", \.cypherThreads),
                                       (backgroundThreads, "backgroundThreads", \.backgroundThreads),
                                       (workQueueLimit, "workQueueLimit", \.queueLimit),
                                       (connectionQueueLimit, "connectionQueueLimit", \.connectionQueueLimit)] where value != 0 {
            guard (1...100_000).contains(value) else { throw Invalid(description: "\(name) must be 1...100000 (0 = default), got \(value)") }
            options[keyPath: keyPath] = value
        }
        return options
    }

    /// Bytes from "1073741824", "512MiB", "8GiB", "2G", "64MB" (binary units either way).
    static func byteSize(_ text: String, setting: String, minimum: Int) throws -> Int {
        let units: [(String, Int)] = [("TIB", 1 << 40), ("GIB", 1 << 30), ("MIB", 1 << 20), ("KIB", 1 << 10),
                                      ("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10),
                                      ("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1)]
        let upper = text.uppercased().filter { $0 != " " }
        var scale = 1
        var number = Substring(upper)
        if let (suffix, factor) = units.first(where: { upper.hasSuffix($0.0) }) {
            scale = factor
            number = upper.dropLast(suffix.count)
        }
        guard let value = Double(number), value.isFinite, value > 0, value * Double(scale) < Double(Int.max / 2) else {
            throw Invalid(description: "\(setting) must be a size such as 8GiB, 512MiB or a number of bytes; got '\(text.prefix(40))'")
        }
        let bytes = Int(value * Double(scale))
        guard bytes >= minimum else { throw Invalid(description: "\(setting) must be at least \(formatBytes(minimum)), got '\(text.prefix(40))'") }
        return bytes
    }

    /// The RPC server configuration these settings describe.
    func serverConfiguration() throws -> ServerConfiguration {
        let (host, port) = try hostAndPort()
        var tls: TLSConfiguration?
        switch (tlsCert, tlsKey) {
        case let (cert?, key?):
            tls = TLSConfiguration(certificateChainPath: cert, privateKeyPath: key, trustRootsPath: tlsClientCA)
            if let clusterCA { tls?.peerRoles = [Self.clusterNodeRole: clusterCA] }
        case (nil, nil):
            if tlsClientCA != nil { throw Invalid(description: "--tls-client-ca needs --tls-cert and --tls-key") }
            if clusterCA != nil { throw Invalid(description: "--cluster-ca needs --tls-cert and --tls-key (the node's certificate, signed by that CA)") }
        default:
            throw Invalid(description: "TLS needs both --tls-cert and --tls-key")
        }
        guard maxReceiveMessageBytes > 0, maxReceiveMessageBytes <= 1 << 30,
              maxSendMessageBytes > 0, maxSendMessageBytes <= 1 << 30 else {
            throw Invalid(description: "message size limits must be between 1 byte and 1 GiB")
        }
        var configuration = ServerConfiguration(host: host, port: port, tls: tls,
                                                maxReceiveMessageBytes: maxReceiveMessageBytes,
                                                maxSendMessageBytes: maxSendMessageBytes)
        try applyConnectionHygiene(to: &configuration)
        try applyCompression(to: &configuration)
        return configuration
    }

    /// Checks the response compression settings and puts them into `configuration`.
    private func applyCompression(to configuration: inout ServerConfiguration) throws {
        switch responseCompression.lowercased() {
        case "off": configuration.responseCompression = nil
        case let name:
            guard let algorithm = CompressionAlgorithm(encoding: name) else {
                throw Invalid(description: "--response-compression must be gzip, deflate or off; got '\(responseCompression)'")
            }
            configuration.responseCompression = algorithm
        }
        guard responseCompressionThresholdBytes >= 0 else {
            throw Invalid(description: "--response-compression-threshold-bytes must be 0 or more; got \(responseCompressionThresholdBytes)")
        }
        configuration.responseCompressionThresholdBytes = responseCompressionThresholdBytes
        guard (0...8).contains(responseCompressionMaxEntropyBitsPerByte) else {
            throw Invalid(description: """
                --response-compression-max-entropy-bits-per-byte must be 0 to 8 (8 = compress float-heavy responses too); \
                got \(responseCompressionMaxEntropyBitsPerByte)
                """)
        }
        configuration.responseCompressionMaxEntropyBitsPerByte = responseCompressionMaxEntropyBitsPerByte
    }

    /// Checks the connection limits and timeouts and puts them into `configuration`.
    private func applyConnectionHygiene(to configuration: inout ServerConfiguration) throws {
        guard (1...1_000_000).contains(maxConnections) else {
            throw Invalid(description: "--max-connections must be between 1 and 1000000; got \(maxConnections)")
        }
        configuration.maxConnections = maxConnections
        configuration.handshakeTimeout = try Self.timeout(handshakeTimeoutSeconds, option: "--handshake-timeout-seconds", allowsZero: false)
        configuration.idleTimeout = try Self.timeout(idleTimeoutSeconds, option: "--idle-timeout-seconds", allowsZero: true)
        configuration.streamStallTimeout = try Self.timeout(streamStallTimeoutSeconds, option: "--stream-stall-timeout-seconds",
                                                            allowsZero: false)
        let buffered = maxConnectionBufferedRequestBytes ?? min(4 * maxReceiveMessageBytes, 4 << 30)
        guard buffered >= maxReceiveMessageBytes, buffered <= 64 << 30 else {
            throw Invalid(description: """
                --max-connection-buffered-request-bytes must be at least the largest request message \
                (\(maxReceiveMessageBytes) bytes, --max-receive-message-bytes) and at most 64 GiB; got \(buffered)
                """)
        }
        configuration.maxConnectionBufferedRequestBytes = buffered
        try applyKeepalive(to: &configuration)
        for origin in corsAllowedOrigins where !Self.isOrigin(origin) {
            throw Invalid(description: """
                --cors-allowed-origin must be an origin as a browser sends it (scheme://host or scheme://host:port, \
                no path, no trailing slash, no wildcard); got '\(origin)'
                """)
        }
        configuration.corsAllowedOrigins = Set(corsAllowedOrigins)
        // With --console-listen the console has a listener of its own (ServerCommand), not this one.
        configuration.staticSite = console && consoleListen == nil ? .console : nil
    }

    /// `http(s)://host[:port]` with nothing after: what a browser puts in `Origin`.
    static func isOrigin(_ text: String) -> Bool {
        let rest: Substring
        if text.hasPrefix("https://") { rest = text.dropFirst(8) } else if text.hasPrefix("http://") { rest = text.dropFirst(7) } else { return false }
        return !rest.isEmpty && rest.utf8.allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte | 0x20 >= 97 && byte | 0x20 <= 122) || "-.:[]".utf8.contains(byte)
        }
    }

    /// The keepalive, ageing and HTTP/2 limit keys of a config file.
    private mutating func decodeKeepalive(from container: KeyedDecodingContainer<CodingKeys>, defaults: ServerSettings) throws {
        func seconds(_ key: CodingKeys, _ fallback: Double) throws -> Double {
            try container.decodeIfPresent(Double.self, forKey: key) ?? fallback
        }
        keepaliveTimeSeconds = try seconds(.keepaliveTimeSeconds, defaults.keepaliveTimeSeconds)
        keepaliveTimeoutSeconds = try seconds(.keepaliveTimeoutSeconds, defaults.keepaliveTimeoutSeconds)
        keepaliveMinPingIntervalSeconds = try seconds(.keepaliveMinPingIntervalSeconds, defaults.keepaliveMinPingIntervalSeconds)
        keepalivePermitWithoutCalls = try container.decodeIfPresent(Bool.self, forKey: .keepalivePermitWithoutCalls)
            ?? defaults.keepalivePermitWithoutCalls
        maxConnectionAgeSeconds = try seconds(.maxConnectionAgeSeconds, defaults.maxConnectionAgeSeconds)
        maxConnectionAgeGraceSeconds = try seconds(.maxConnectionAgeGraceSeconds, defaults.maxConnectionAgeGraceSeconds)
        maxConcurrentStreams = try container.decodeIfPresent(Int.self, forKey: .maxConcurrentStreams) ?? defaults.maxConcurrentStreams
        maxHeaderListBytes = try container.decodeIfPresent(Int.self, forKey: .maxHeaderListBytes) ?? defaults.maxHeaderListBytes
    }

    /// Checks the keepalive, ageing and HTTP/2 limits and puts them into `configuration`.
    private func applyKeepalive(to configuration: inout ServerConfiguration) throws {
        configuration.keepaliveTime = try Self.timeout(keepaliveTimeSeconds, option: "--keepalive-time-seconds", allowsZero: true)
        configuration.keepaliveTimeout = try Self.timeout(keepaliveTimeoutSeconds, option: "--keepalive-timeout-seconds",
                                                          allowsZero: false)
        configuration.keepaliveMinPingInterval = try Self.timeout(keepaliveMinPingIntervalSeconds,
                                                                  option: "--keepalive-min-ping-interval-seconds", allowsZero: true)
        configuration.keepalivePermitWithoutCalls = keepalivePermitWithoutCalls
        configuration.maxConnectionAge = try Self.timeout(maxConnectionAgeSeconds, option: "--max-connection-age-seconds",
                                                          allowsZero: true)
        configuration.maxConnectionAgeGrace = try Self.timeout(maxConnectionAgeGraceSeconds,
                                                               option: "--max-connection-age-grace-seconds", allowsZero: true)
        if maxConnectionAgeGraceSeconds > 0, maxConnectionAgeSeconds == 0 {
            throw Invalid(description: "--max-connection-age-grace-seconds needs --max-connection-age-seconds (the age it is a grace after)")
        }
        guard (1...100_000).contains(maxConcurrentStreams) else {
            throw Invalid(description: "--max-concurrent-streams must be between 1 and 100000; got \(maxConcurrentStreams)")
        }
        configuration.maxConcurrentStreams = UInt32(maxConcurrentStreams)
        guard (1 << 10...1 << 20).contains(maxHeaderListBytes) else {
            throw Invalid(description: "--max-header-list-bytes must be between 1024 and 1048576 (1 KiB to 1 MiB); got \(maxHeaderListBytes)")
        }
        configuration.maxHeaderListBytes = maxHeaderListBytes
    }

    /// A timeout in seconds as a Duration: at least 1 ms (or 0 where that means off), at most a week.
    private static func timeout(_ seconds: Double, option: String, allowsZero: Bool) throws -> Duration {
        if allowsZero, seconds == 0 { return .zero }
        guard seconds.isFinite, seconds >= 0.001, seconds <= 7 * 86_400 else {
            throw Invalid(description: "\(option) must be between 0.001 and 604800 seconds\(allowsZero ? " (or 0 for off)" : ""); got \(seconds)")
        }
        return .nanoseconds(Int64(seconds * 1e9))
    }
}
