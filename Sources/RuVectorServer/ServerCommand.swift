import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import FoundationEssentials
import Access
import Logging
import RPC
import Services
import WorkControl
import Storage

/// `ruvector-server`: serves every RuVector service over gRPC.
@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ruvector-server",
        abstract: "RuVector: a vector database that learns, served over gRPC (HTTP/2, optional TLS).",
        discussion: """
            Settings come from --config (JSON, keys as in ServerSettings: listen, dataDir, tlsCert, \
            tlsKey, tlsClientCA, maxReceiveMessageBytes, maxSendMessageBytes, logLevel, \
            shutdownGraceSeconds, walSync, autoSnapshotWALBytes, autoSnapshotChanges, autoSnapshotReplayMillis, \
            autoSnapshotIntervalSeconds, vectorLimits, metricsListen, memoryLimit, callMemoryLimit, searchThreads, \
            writeThreads, cypherThreads, backgroundThreads, workQueueLimit, connectionQueueLimit, maxConnections, \
            handshakeTimeoutSeconds, idleTimeoutSeconds, streamStallTimeoutSeconds, maxConnectionBufferedRequestBytes, \
            keepaliveTimeSeconds, keepaliveTimeoutSeconds, keepaliveMinPingIntervalSeconds, keepalivePermitWithoutCalls, \
            maxConnectionAgeSeconds, maxConnectionAgeGraceSeconds, maxConcurrentStreams, maxHeaderListBytes, \
            importThreads, responseCompression, responseCompressionThresholdBytes, \
            responseCompressionMaxEntropyBitsPerByte, nodeId, cluster, peerRoutes, join, advertiseAddress, raftSnapshotEntries, failoverOnRefusedConnect, clusterCA, \
            apiKey, apiKeyFile, readOnlyApiKey, readOnlyApiKeyFile, jwtSecretFile, jwtPublicKeyFile, clusterKeyFile, \
            certificateRoles, publicReflection, corsAllowedOrigins, console, consoleListen), \
            then RUVECTOR_LISTEN / \
            RUVECTOR_DATA_DIR / RUVECTOR_LOG_LEVEL / RUVECTOR_API_KEY / RUVECTOR_READ_ONLY_API_KEY / RUVECTOR_JWT_SECRET / \
            RUVECTOR_CLUSTER_KEY, \
            then flags. SIGTERM or SIGINT drains open calls and stops; SIGHUP re-reads the credentials \
            (API keys, token keys, certificate roles) without dropping connections.
            """)

    @Option(help: "JSON config file.") var config: String?
    @Option(help: "Address to listen on, HOST:PORT (default 127.0.0.1:50051; port 0 picks one).") var listen: String?
    @Option(help: "Data directory (default ./data).") var dataDir: String?
    @Option(help: "TLS certificate chain (PEM).") var tlsCert: String?
    @Option(help: "TLS private key (PEM).") var tlsKey: String?
    @Option(help: "CA bundle (PEM) for client certificates: turns on mutual TLS.") var tlsClientCa: String?
    @Option(help: "Largest request message in bytes (default 64 MiB).") var maxReceiveMessageBytes: Int?
    @Option(help: "Largest response message in bytes (default 64 MiB).") var maxSendMessageBytes: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String?
    @Option(help: "Seconds open calls get to finish on SIGTERM (default 10).") var shutdownGraceSeconds: Int?
    @Option(help: "Serve Prometheus metrics at http://HOST:PORT/metrics (off by default).") var metricsListen: String?
    @Option(help: "When writes are acknowledged: always (fsync), batch (fsync within 1 ms) or never.") var walSync: String?
    // Work pools and memory
    @Option(help: "Most memory the server should hold, data and running calls together (e.g. 8GiB; default 3/4 of the machine's). New call work is refused past it.")
    var memoryLimit: String?
    @Option(help: "Most memory one call may hold: results, rows, decoded requests (e.g. 512MiB; default 1GiB, at most half of --memory-limit).")
    var callMemoryLimit: String?
    @Option(help: "Threads running searches, scans and large reads (default: one per core).") var searchThreads: Int?
    @Option(help: "Threads running writes (default: 4 per core, at least 8: writers share fsyncs).") var writeThreads: Int?
    @Option(help: "Threads running Cypher queries (default: one per core, at least 2).") var cypherThreads: Int?
    @Option(help: "Threads running snapshots and restores (default 2).") var backgroundThreads: Int?
    @Option(help: "Calls that may wait for a thread of one pool (default 4096); a full queue answers RESOURCE_EXHAUSTED at once.")
    var workQueueLimit: Int?
    @Option(help: "Calls one connection may have waiting in one pool (default 256).") var connectionQueueLimit: Int?
    @Flag(help: "Serve grpc.testing.TestService, for gRPC interoperability tests only.")
    var enableInteropTestService = false

    // MARK: Restart time (automatic snapshots)
    @Option(help: "Snapshot a collection or the graph after this many points/elements written (default 200000; 0 = off).")
    var autoSnapshotChanges: Int?
    @Option(help: "... or once its writes since the last snapshot took this many ms to apply: the replay bound (default 2000; 0 = off).")
    var autoSnapshotReplayMillis: Int?
    @Option(help: "... or once its oldest write not in a snapshot is this many seconds old (default 600; 0 = off).")
    var autoSnapshotIntervalSeconds: Int?
    // Connection hygiene.
    @Option(help: "Connections served at once; more are refused with a GOAWAY saying so (default 4096).")
    var maxConnections: Int?
    @Option(help: "Seconds a new connection has for its TLS handshake and HTTP/2 preface (default 10).")
    var handshakeTimeoutSeconds: Double?
    @Option(help: "Seconds without a call before a connection is closed with a graceful GOAWAY; 0 = never (default 300).")
    var idleTimeoutSeconds: Double?
    @Option(help: "Seconds without progress before a stalled stream is reset or a stalled connection closed (default 60).")
    var streamStallTimeoutSeconds: Double?
    @Option(help: "Request bytes one connection may buffer across its calls (default 4 x --max-receive-message-bytes).")
    var maxConnectionBufferedRequestBytes: Int?
    // Keepalive, connection ageing, HTTP/2 limits.
    @Option(help: "Seconds without a received byte before the server PINGs the client; 0 = never (default 120).")
    var keepaliveTimeSeconds: Double?
    @Option(help: "Seconds a server PING may go unanswered before the connection is closed (default 20).")
    var keepaliveTimeoutSeconds: Double?
    @Option(help: "Least seconds between client PINGs; a client pinging faster gets GOAWAY too_many_pings after two strikes; 0 = no minimum (default 10).")
    var keepaliveMinPingIntervalSeconds: Double?
    @Option(help: "true: clients may PING that often without an open call too; false: once per 2 hours (default false).")
    var keepalivePermitWithoutCalls: Bool?
    @Option(help: "Seconds (+-10% jitter) after which a connection is told to go away (graceful GOAWAY) so clients reconnect; 0 = no limit (default 0).")
    var maxConnectionAgeSeconds: Double?
    @Option(help: "Seconds calls get after the max-age GOAWAY before they are cancelled; 0 = no limit (default 0).")
    var maxConnectionAgeGraceSeconds: Double?
    @Option(help: "Streams (calls) one connection may have open at once (default 1024).")
    var maxConcurrentStreams: Int?
    @Option(help: "Largest request header block (metadata), in bytes (default 16384).")
    var maxHeaderListBytes: Int?
    // Response compression.
    @Option(help: "Compress responses for clients that accept it: gzip, deflate or off (default off: on a LAN it costs more time than it saves). Compressed requests are always read.")
    var responseCompression: String?
    @Option(help: "Smallest response message compressed, in bytes (default 1024).")
    var responseCompressionThresholdBytes: Int?
    @Option(help: "Responses whose bytes measure more bits per byte (order-0 entropy of a 4 KB sample) are sent plain: float vectors, which gzip barely shrinks at a high CPU cost (default 7.0; 8 compresses them too).")
    var responseCompressionMaxEntropyBitsPerByte: Double?
    // Bulk import.
    @Option(help: "Threads linking the points of one large UpsertStream message at once, and long runs of a replayed log (default 0 = one per core; 1 = one at a time, exact replay).")
    var importThreads: Int?
    // Cluster.
    @Option(help: "This node's id in a cluster (a non-zero number, unique in the cluster). Without --node-id, --cluster and --join the server runs alone.")
    var nodeId: UInt64?
    @Option(help: "The founding members, ID=HOST:PORT,... (the same list on every founding node, this node included).")
    var cluster: String?
    @Option(help: "Dial these peers at other addresses than they advertise (a proxy, a tunnel), ID=HOST:PORT,...")
    var peerRoutes: String?
    @Option(help: "Join a running cluster through the member at HOST:PORT (with --node-id; no --cluster).")
    var join: String?
    @Option(help: "The address other nodes and clients reach this node at (default: its --cluster entry, else --listen).")
    var advertiseAddress: String?
    @Option(help: "Applied metadata entries between two compactions of the Raft log (default 10000).")
    var raftSnapshotEntries: Int?
    @Option(help: "Replace a silent shard primary at once when connects to its advertised address are refused (its process is gone), true or false (default true; false where firewalls or virtual IPs may refuse for a live node).")
    var failoverOnRefusedConnect: Bool?
    @Option(help: "CA (PEM) that signed every node's certificate: with TLS on, nodes use mutual TLS and only its certificates may call RaftService.")
    var clusterCa: String?

    // Authentication (docs/security.md).
    @Option(help: "API key that may do everything (visible in ps: prefer --api-key-file or RUVECTOR_API_KEY).")
    var apiKey: String?
    @Option(help: "File holding the admin API key (re-read on SIGHUP).") var apiKeyFile: String?
    @Option(help: "API key that may read everything (prefer --read-only-api-key-file or RUVECTOR_READ_ONLY_API_KEY).")
    var readOnlyApiKey: String?
    @Option(help: "File holding the read-only API key (re-read on SIGHUP).") var readOnlyApiKeyFile: String?
    @Option(help: "File holding the HS256 secret of JSON Web Tokens, 32 bytes or more (or RUVECTOR_JWT_SECRET; re-read on SIGHUP).")
    var jwtSecretFile: String?
    @Option(help: "PEM public key verifying RS256 (RSA) or ES256 (EC P-256) JSON Web Tokens (re-read on SIGHUP).")
    var jwtPublicKeyFile: String?
    @Option(help: "File holding the key cluster nodes present to each other without mutual TLS (or RUVECTOR_CLUSTER_KEY).")
    var clusterKeyFile: String?
    @Flag(help: "Let reflection be called without credentials (for grpcurl and similar tools).")
    var publicReflection = false
    @Option(name: .customLong("cors-allowed-origin"),
            help: "A browser origin (https://host:port) whose pages may call the server with gRPC-Web; repeatable. Default: none.")
    var corsAllowedOrigins: [String] = []
    @Flag(help: "Do not serve the web console (GET / on the main port); GET is then refused like any method but POST.")
    var noConsole = false
    @Option(help: "Serve the web console (its files and its gRPC-Web calls) on HOST:PORT of its own instead of the main port.")
    var consoleListen: String?

    func settings() throws -> ServerSettings {
        var settings = try config.map(ServerSettings.load(configFile:)) ?? ServerSettings()
        if let value = getenv("RUVECTOR_LISTEN") { settings.listen = String(cString: value) }
        if let value = getenv("RUVECTOR_DATA_DIR") { settings.dataDir = String(cString: value) }
        if let value = getenv("RUVECTOR_LOG_LEVEL") { settings.logLevel = String(cString: value) }
        if let listen { settings.listen = listen }
        if let dataDir { settings.dataDir = dataDir }
        if let tlsCert { settings.tlsCert = tlsCert }
        if let tlsKey { settings.tlsKey = tlsKey }
        if let tlsClientCa { settings.tlsClientCA = tlsClientCa }
        if let maxReceiveMessageBytes { settings.maxReceiveMessageBytes = maxReceiveMessageBytes }
        if let maxSendMessageBytes { settings.maxSendMessageBytes = maxSendMessageBytes }
        if let logLevel { settings.logLevel = logLevel }
        if let shutdownGraceSeconds { settings.shutdownGraceSeconds = shutdownGraceSeconds }
        if let walSync { settings.walSync = walSync }
        if let metricsListen { settings.metricsListen = metricsListen }
        if enableInteropTestService { settings.enableInteropTestService = true }
        if let memoryLimit { settings.memoryLimit = memoryLimit }
        if let callMemoryLimit { settings.callMemoryLimit = callMemoryLimit }
        if let searchThreads { settings.searchThreads = searchThreads }
        if let writeThreads { settings.writeThreads = writeThreads }
        if let cypherThreads { settings.cypherThreads = cypherThreads }
        if let backgroundThreads { settings.backgroundThreads = backgroundThreads }
        if let workQueueLimit { settings.workQueueLimit = workQueueLimit }
        if let connectionQueueLimit { settings.connectionQueueLimit = connectionQueueLimit }
        if let autoSnapshotChanges { settings.autoSnapshotChanges = autoSnapshotChanges }
        if let autoSnapshotReplayMillis { settings.autoSnapshotReplayMillis = autoSnapshotReplayMillis }
        if let autoSnapshotIntervalSeconds { settings.autoSnapshotIntervalSeconds = autoSnapshotIntervalSeconds }
        if let maxConnections { settings.maxConnections = maxConnections }
        if let handshakeTimeoutSeconds { settings.handshakeTimeoutSeconds = handshakeTimeoutSeconds }
        if let idleTimeoutSeconds { settings.idleTimeoutSeconds = idleTimeoutSeconds }
        if let streamStallTimeoutSeconds { settings.streamStallTimeoutSeconds = streamStallTimeoutSeconds }
        if let maxConnectionBufferedRequestBytes { settings.maxConnectionBufferedRequestBytes = maxConnectionBufferedRequestBytes }
        applyKeepalive(to: &settings)
        if let importThreads { settings.importThreads = importThreads }
        if let responseCompression { settings.responseCompression = responseCompression }
        if let responseCompressionThresholdBytes { settings.responseCompressionThresholdBytes = responseCompressionThresholdBytes }
        if let responseCompressionMaxEntropyBitsPerByte {
            settings.responseCompressionMaxEntropyBitsPerByte = responseCompressionMaxEntropyBitsPerByte
        }
        if let nodeId { settings.nodeId = nodeId }
        if let cluster { settings.cluster = cluster }
        if let peerRoutes { settings.peerRoutes = peerRoutes }
        if let join { settings.join = join }
        if let advertiseAddress { settings.advertiseAddress = advertiseAddress }
        if let raftSnapshotEntries { settings.raftSnapshotEntries = raftSnapshotEntries }
        if let failoverOnRefusedConnect { settings.failoverOnRefusedConnect = failoverOnRefusedConnect }
        if let clusterCa { settings.clusterCA = clusterCa }
        if let apiKey { settings.apiKey = apiKey }
        if let apiKeyFile { settings.apiKeyFile = apiKeyFile }
        if let readOnlyApiKey { settings.readOnlyApiKey = readOnlyApiKey }
        if let readOnlyApiKeyFile { settings.readOnlyApiKeyFile = readOnlyApiKeyFile }
        if let jwtSecretFile { settings.jwtSecretFile = jwtSecretFile }
        if let jwtPublicKeyFile { settings.jwtPublicKeyFile = jwtPublicKeyFile }
        if let clusterKeyFile { settings.clusterKeyFile = clusterKeyFile }
        if publicReflection { settings.publicReflection = true }
        if !corsAllowedOrigins.isEmpty { settings.corsAllowedOrigins = corsAllowedOrigins }
        if noConsole { settings.console = false }
        if let consoleListen { settings.consoleListen = consoleListen }
        return settings
    }

    private func applyKeepalive(to settings: inout ServerSettings) {
        if let keepaliveTimeSeconds { settings.keepaliveTimeSeconds = keepaliveTimeSeconds }
        if let keepaliveTimeoutSeconds { settings.keepaliveTimeoutSeconds = keepaliveTimeoutSeconds }
        if let keepaliveMinPingIntervalSeconds { settings.keepaliveMinPingIntervalSeconds = keepaliveMinPingIntervalSeconds }
        if let keepalivePermitWithoutCalls { settings.keepalivePermitWithoutCalls = keepalivePermitWithoutCalls }
        if let maxConnectionAgeSeconds { settings.maxConnectionAgeSeconds = maxConnectionAgeSeconds }
        if let maxConnectionAgeGraceSeconds { settings.maxConnectionAgeGraceSeconds = maxConnectionAgeGraceSeconds }
        if let maxConcurrentStreams { settings.maxConcurrentStreams = maxConcurrentStreams }
        if let maxHeaderListBytes { settings.maxHeaderListBytes = maxHeaderListBytes }
    }

    func run() async throws {
        let settings: ServerSettings
        let serverConfiguration: ServerConfiguration
        do {
            settings = try self.settings()
            serverConfiguration = try settings.serverConfiguration()
        } catch {
            throw ValidationError("\(error)")
        }
        guard let level = Logger.Level(rawValue: settings.logLevel) else {
            throw ValidationError("unknown log level '\(settings.logLevel)'")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "ruvector.server")
        raiseOpenFileLimit(maxConnections: serverConfiguration.maxConnections, logger: logger)
        let stop = SignalWaiter()

        var catalogOptions: ServiceCatalog.Options
        let metricsAddress: (String, Int)?
        let consoleAddress: (String, Int)?
        let dataDirectoryLock: DirectoryLock
        let credentials: Credentials
        do {
            catalogOptions = try settings.catalogOptions()
            metricsAddress = try settings.metricsHostAndPort()
            consoleAddress = try settings.consoleHostAndPort()
            credentials = try settings.credentials()
            try settings.applyNodeCredentials(to: &catalogOptions, credentials: credentials)
        } catch {
            throw ValidationError("\(error)")
        }
        // Everything that can be checked is, before the data directory is created. A failure
        // is printed as "Error: ..." and exits 1 (not a usage error: no usage text).
        try StartupChecks.checkTLS(serverConfiguration.tls)
        try StartupChecks.checkAddressFree(host: serverConfiguration.host, port: serverConfiguration.port, option: "--listen")
        if let (host, port) = metricsAddress { try StartupChecks.checkAddressFree(host: host, port: port, option: "--metrics-listen") }
        if let (host, port) = consoleAddress { try StartupChecks.checkAddressFree(host: host, port: port, option: "--console-listen") }
        dataDirectoryLock = try StartupChecks.lockDataDirectory(settings.dataDir)
        // The console's listener is another door to the same calls (and carries the tab's key).
        for (host, option, value) in [(serverConfiguration.host, "listen", settings.listen)]
            + (consoleAddress.map { [($0.0, "consoleListen", settings.consoleListen ?? "")] } ?? [])
        where serverConfiguration.tls == nil && !["127.0.0.1", "::1", "localhost"].contains(host) {
            logger.warning("""
                TLS is OFF and the server listens beyond loopback: clients and data travel in clear text; \
                set tlsCert and tlsKey (deploy/make-dev-certs.sh makes a test pair)
                """, metadata: [option: "\(value)"])
        }
        let catalog: ServiceCatalog
        do {
            catalog = try ServiceCatalog(options: catalogOptions, logger: logger)
        } catch {
            logger.critical("cannot open the data directory", metadata: ["dataDir": "\(settings.dataDir)", "error": "\(error)"])
            throw ExitCode.failure
        }
        catalog.work.startMemorySampling()
        logger.info("work limits", metadata: [
            "memory_limit": "\(formatBytes(catalog.work.options.memoryLimitBytes))",
            "call_memory_limit": "\(formatBytes(catalog.work.options.callMemoryLimitBytes))",
            "threads": "search \(catalog.work.options.searchThreads), write \(catalog.work.options.writeThreads), cypher \(catalog.work.options.cypherThreads), background \(catalog.work.options.backgroundThreads)",
        ])
        var configuration = serverConfiguration
        var rules = ServerAccessRules.rules(publicReflection: settings.publicReflection)
        ConsoleMetricsPage.addRule(to: &rules)
        let authenticator = Authenticator(rules: rules, credentials: credentials)
        configuration.authorizer = authenticator
        logAuthentication(credentials, settings: settings, logger: logger)
        let reloader = CredentialReloader(logger: logger) {
            let credentials = try self.settings().credentials()
            authenticator.reload(credentials)
            return credentials
        }
        let metrics = catalog.metrics
        configuration.callObserver = { path, code, duration in metrics.record(path: path, code: code, duration: duration) }
        ConsoleMetricsPage.add(to: &configuration.staticSite, metrics: metrics)
        let server = GRPCServer(configuration: configuration, router: catalog.router, logger: logger)
        metrics.observeConnections { server.connectionCounts }
        var metricsEndpoint: MetricsEndpoint?
        let consoleServer = consoleAddress.map { ConsoleListener.server(host: $0.0, port: $0.1, main: configuration,
                                                                        router: catalog.router, metrics: metrics, logger: logger) }
        do {
            try await server.start()
            try await consoleServer?.start()
            if let (host, port) = metricsAddress {
                metricsEndpoint = try await MetricsEndpoint.start(host: host, port: port, metrics: metrics)
            }
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        catalog.markServing()
        do {
            catalog.startCluster(join: settings.join, advertisedAddress: try settings.advertisedAddress(localPort: server.localPort))
        } catch {
            throw ValidationError("\(error)")
        }
        // Printed on stdout so scripts and tests can wait for it and learn the port.
        printLine("ruvector-server listening on \(serverConfiguration.host):\(server.localPort ?? serverConfiguration.port)")
        if let metricsEndpoint, let (host, _) = metricsAddress {
            printLine("ruvector-server metrics on http://\(host):\(metricsEndpoint.localPort)/metrics")
        }
        if let consoleServer, let (host, port) = consoleAddress {
            let scheme = serverConfiguration.tls == nil ? "http" : "https"
            let shownHost = host.contains(":") ? "[\(host)]" : host
            printLine("ruvector-server console on \(scheme)://\(shownHost):\(consoleServer.localPort ?? port)/")
        }

        let signal = await stop.wait()
        reloader.stop()
        logger.info("shutting down", metadata: ["signal": "\(signal)", "grace_seconds": "\(settings.shutdownGraceSeconds)"])
        catalog.markNotServing()
        // The node leaves first: its peers' streams into it end, so they do not hold the drain.
        // Its shard lease ends here too, before the listener closes: a refused connect to a
        // node must mean it holds no lease (ShardSupervisor's fast failover).
        await catalog.stopCluster()
        await consoleServer?.shutdown(gracePeriod: .seconds(settings.shutdownGraceSeconds))
        await server.shutdown(gracePeriod: .seconds(settings.shutdownGraceSeconds))
        await metricsEndpoint?.close()
        catalog.close()
        dataDirectoryLock.release()
        logger.info("stopped")
    }

    /// Raises the soft limit on open files to the hard limit (each connection is one), and
    /// warns when the connection limit cannot be reached under it.
    private func raiseOpenFileLimit(maxConnections: Int, logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        logger.info("open file limit", metadata: ["soft": "\(limit.rlim_cur)", "hard": "\(limit.rlim_max)"])
        // Files besides connections: data directory, WAL segments, listeners, event loops.
        let reserve: UInt = 256
        if limit.rlim_cur != rlim_t.max, UInt(limit.rlim_cur) < UInt(maxConnections) + reserve {
            logger.warning("the open file limit is below max-connections plus what the server needs besides; accepting will fail before the connection limit", metadata: [
                "open_file_limit": "\(limit.rlim_cur)", "max_connections": "\(maxConnections)",
            ])
        }
    }

    /// Says how callers are authenticated (which kinds of credential, never their values).
    private func logAuthentication(_ credentials: Credentials, settings: ServerSettings, logger: Logger) {
        guard credentials.requiresCredentials else {
            logger.notice("authentication is OFF: any client that reaches the port may do everything (docs/security.md)")
            return
        }
        logger.info("authentication on", metadata: [
            "kinds": "\(CredentialReloader.kinds(credentials).joined(separator: ", "))",
            "public_reflection": "\(settings.publicReflection)",
        ])
    }

    /// Writes a line straight to fd 1, unbuffered: the C `stdout` global is not concurrency-safe.
    private func printLine(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }

}

/// Catches SIGTERM and SIGINT from the moment it is created (before the server announces
/// itself, so a signal sent right after start-up is never lost), without a thread of its
/// own (Dispatch signal sources).
final class SignalWaiter {
    private let signals: AsyncStream<String>
    private var sources: [any DispatchSourceSignal] = []

    init() {
        let (signals, continuation) = AsyncStream<String>.makeStream()
        self.signals = signals
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(name) }
            source.resume()
            sources.append(source)
        }
    }

    /// Returns the name of the first signal received.
    func wait() async -> String {
        var iterator = signals.makeAsyncIterator()
        let name = await iterator.next() ?? "end of signal stream"
        for source in sources { source.cancel() }
        return name
    }
}

/// Re-reads the credentials on SIGHUP and hands them to the server's authenticator; a
/// failure keeps the credentials in force and says why.
final class CredentialReloader {
    private let source: any DispatchSourceSignal

    init(logger: Logger, reload: @escaping @Sendable () throws -> Credentials) {
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "ruvector.credentials"))
        source.setEventHandler {
            do {
                let credentials = try reload()
                logger.notice("credentials reloaded (SIGHUP)", metadata: [
                    "kinds": "\(credentials.requiresCredentials ? Self.kinds(credentials).joined(separator: ", ") : "none: authentication OFF")",
                ])
            } catch {
                logger.error("credentials NOT reloaded (SIGHUP); the previous ones stay in force", metadata: ["error": "\(error)"])
            }
        }
        source.resume()
    }

    func stop() { source.cancel() }

    /// The kinds of credential accepted, for logs.
    static func kinds(_ credentials: Credentials) -> [String] {
        var kinds: [String] = []
        if credentials.hasAPIKey { kinds.append("api key") }
        if credentials.hasReadOnlyAPIKey { kinds.append("read-only api key") }
        if credentials.tokens?.hmacSecret != nil { kinds.append("HS256 tokens") }
        if let key = credentials.tokens?.publicKey { kinds.append("\(key.kind.rawValue) tokens") }
        if !credentials.certificateLevels.isEmpty { kinds.append("\(credentials.certificateLevels.count) certificate role(s)") }
        if credentials.hasNodeKey { kinds.append("cluster key") }
        if credentials.nodePeerRole != nil { kinds.append("cluster node certificates") }
        return kinds
    }
}
