import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
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

    init() {}

    /// Every key is optional in the file; missing ones keep their defaults, unknown ones
    /// are refused (a typo should not be silently ignored).
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ServerSettings()
        listen = try container.decodeIfPresent(String.self, forKey: .listen) ?? defaults.listen
        dataDir = try container.decodeIfPresent(String.self, forKey: .dataDir) ?? defaults.dataDir
        tlsCert = try container.decodeIfPresent(String.self, forKey: .tlsCert)
        tlsKey = try container.decodeIfPresent(String.self, forKey: .tlsKey)
        tlsClientCA = try container.decodeIfPresent(String.self, forKey: .tlsClientCA)
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
    }

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

    /// Reads a JSON config file whose keys are the property names above.
    static func load(configFile path: String) throws -> ServerSettings {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Invalid(description: "cannot open config file '\(path)'") }
        defer { close(fd) }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 { break }
            bytes += chunk[0..<count]
            if bytes.count > 1 << 20 { throw Invalid(description: "config file '\(path)' is larger than 1 MiB") }
        }
        do {
            return try JSONDecoder().decode(ServerSettings.self, from: Data(bytes))
        } catch let error as Invalid {
            throw Invalid(description: "config file '\(path)': \(error.description)")
        } catch {
            throw Invalid(description: "config file '\(path)' is not valid: \(error)")
        }
    }

    /// Splits `listen` into host and port.
    func hostAndPort() throws -> (String, Int) { try Self.hostAndPort(listen, option: "--listen") }

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
    func catalogOptions() throws -> ServiceCatalog.Options {
        let policy: WALSyncPolicy
        switch walSync {
        case "always": policy = .always
        case "batch": policy = .batch(delayMicros: 1000)
        case "never": policy = .never
        default: throw Invalid(description: "--wal-sync must be always, batch or never; got '\(walSync)'")
        }
        guard autoSnapshotWALBytes >= 0 else { throw Invalid(description: "autoSnapshotWALBytes must be 0 (off) or positive") }
        let limits: VectorServiceLimits
        do {
            limits = try VectorServiceLimits(overrides: vectorLimits)
        } catch {
            throw Invalid(description: error.description)
        }
        return ServiceCatalog.Options(dataDirectory: dataDir, enableInteropTestService: enableInteropTestService, vectorLimits: limits,
                                      collectionOptions: .init(syncPolicy: policy, autoSnapshotWALBytes: autoSnapshotWALBytes),
                                      work: try workOptions(), maxResponseBytes: maxSendMessageBytes)
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
        case (nil, nil):
            if tlsClientCA != nil { throw Invalid(description: "--tls-client-ca needs --tls-cert and --tls-key") }
        default:
            throw Invalid(description: "TLS needs both --tls-cert and --tls-key")
        }
        guard maxReceiveMessageBytes > 0, maxReceiveMessageBytes <= 1 << 30,
              maxSendMessageBytes > 0, maxSendMessageBytes <= 1 << 30 else {
            throw Invalid(description: "message size limits must be between 1 byte and 1 GiB")
        }
        return ServerConfiguration(host: host, port: port, tls: tls,
                                   maxReceiveMessageBytes: maxReceiveMessageBytes,
                                   maxSendMessageBytes: maxSendMessageBytes)
    }
}
