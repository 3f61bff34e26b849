import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import RPC
import Services
import Storage
import VectorDatabase

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

    // MARK: Restart time (automatic snapshots, see `DurabilityOptions`)
    /// A collection or the graph snapshots itself once this many points or graph elements
    /// were written since its last snapshot (0 = off).
    var autoSnapshotChanges: Int = DurabilityOptions.defaultAutoSnapshotChanges
    /// ... or once applying its writes since the last snapshot took this many milliseconds
    /// (replay at restart redoes that work; 0 = off).
    var autoSnapshotReplayMillis: Int = DurabilityOptions.defaultAutoSnapshotReplayMillis
    /// ... or once its oldest write not in a snapshot is this many seconds old (0 = off).
    var autoSnapshotIntervalSeconds: Int = Int(DurabilityOptions.defaultAutoSnapshotInterval.components.seconds)

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
        autoSnapshotChanges = try container.decodeIfPresent(Int.self, forKey: .autoSnapshotChanges) ?? defaults.autoSnapshotChanges
        autoSnapshotReplayMillis = try container.decodeIfPresent(Int.self, forKey: .autoSnapshotReplayMillis)
            ?? defaults.autoSnapshotReplayMillis
        autoSnapshotIntervalSeconds = try container.decodeIfPresent(Int.self, forKey: .autoSnapshotIntervalSeconds)
            ?? defaults.autoSnapshotIntervalSeconds
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
        case autoSnapshotChanges, autoSnapshotReplayMillis, autoSnapshotIntervalSeconds
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
            let decoder = JSONDecoder()
            decoder.userInfo[Self.configFolderKey] = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
            return try decoder.decode(ServerSettings.self, from: Data(bytes))
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
        return ServiceCatalog.Options(dataDirectory: dataDir, enableInteropTestService: enableInteropTestService, vectorLimits: limits,
                                      collectionOptions: .init(syncPolicy: policy, autoSnapshotWALBytes: autoSnapshotWALBytes,
                                                               autoSnapshotChanges: autoSnapshotChanges,
                                                               autoSnapshotReplayMillis: autoSnapshotReplayMillis,
                                                               autoSnapshotInterval: .seconds(autoSnapshotIntervalSeconds)))
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
