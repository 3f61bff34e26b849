import Access
#if canImport(Glibc)
import Glibc
#endif
import RPC
import Services

/// The credentials part of the settings: API keys, token keys, certificate roles and the
/// cluster key, from the config file, files, the environment and flags. Read at start and
/// again on SIGHUP, so rotated keys take effect without a restart.
extension ServerSettings {
    /// The secrets in force, or why they cannot be: a key file that cannot be read, an
    /// empty key, a short HS256 secret, an unknown role, a public key of the wrong kind.
    func credentials() throws -> Credentials {
        let apiKey = try secret(value: apiKey ?? Self.environment("RUVECTOR_API_KEY"), file: apiKeyFile, setting: "apiKey")
        let readOnly = try secret(value: readOnlyApiKey ?? Self.environment("RUVECTOR_READ_ONLY_API_KEY"),
                                  file: readOnlyApiKeyFile, setting: "readOnlyApiKey")
        if let apiKey, apiKey == readOnly {
            throw Invalid(description: "the API key and the read-only API key must differ")
        }
        let hmacSecret = try secret(value: Self.environment("RUVECTOR_JWT_SECRET"), file: jwtSecretFile, setting: "jwtSecret")
        if let hmacSecret, hmacSecret.utf8.count < 32 {
            throw Invalid(description: "the JSON Web Token secret (jwtSecretFile / RUVECTOR_JWT_SECRET) must be at least 32 bytes")
        }
        var publicKey: VerificationKey?
        if let jwtPublicKeyFile {
            do {
                publicKey = try VerificationKey(pem: try Self.readFile(jwtPublicKeyFile, what: "jwtPublicKeyFile", limitBytes: 64 << 10))
            } catch let error as TLSError {
                throw Invalid(description: "jwtPublicKeyFile '\(jwtPublicKeyFile)': \(error.message)")
            }
        }
        var levels: [String: AccessLevel] = [:]
        for (name, role) in certificateRoles {
            guard let level = AccessLevel(name: role) else {
                throw Invalid(description: "certificateRoles['\(name)'] must be read, write or admin; got '\(role)'")
            }
            guard ["CN=", "DNS:", "URI:", "email:", "IP:"].contains(where: { name.hasPrefix($0) }) else {
                throw Invalid(description: "certificateRoles keys are certificate names such as CN=ops, DNS:svc.example or URI:spiffe://...; got '\(name)'")
            }
            levels[name] = level
        }
        if !levels.isEmpty && tlsClientCA == nil {
            throw Invalid(description: "certificateRoles need --tls-client-ca (the CA that signs client certificates)")
        }
        let tokens = hmacSecret != nil || publicKey != nil
            ? JSONWebTokenVerifier(hmacSecret: hmacSecret.map { Array($0.utf8) }, publicKey: publicKey) : nil
        let nodeRole = clusterCA != nil && tlsCert != nil ? Self.clusterNodeRole : nil
        return Credentials(apiKey: apiKey, readOnlyAPIKey: readOnly, nodeKey: try clusterKey(), tokens: tokens,
                           certificateLevels: levels, nodePeerRole: nodeRole)
    }

    /// The key nodes present to each other without mutual TLS, if set.
    func clusterKey() throws -> String? {
        try secret(value: Self.environment("RUVECTOR_CLUSTER_KEY"), file: clusterKeyFile, setting: "clusterKey")
    }

    /// Checks that a cluster whose clients need credentials has a way for nodes to prove
    /// themselves, and gives the node the metadata its calls to peers carry.
    func applyNodeCredentials(to options: inout ServiceCatalog.Options, credentials: Credentials) throws {
        guard options.cluster != nil else { return }
        let key = try clusterKey()
        if credentials.requiresCredentials && key == nil && credentials.nodePeerRole == nil {
            throw Invalid(description: """
                with API keys, tokens or certificate roles on a cluster node, nodes must prove themselves to each other: \
                set clusterKeyFile (or RUVECTOR_CLUSTER_KEY) to the same key on every node, or use TLS with --cluster-ca
                """)
        }
        if let key { options.cluster?.callMetadata = Metadata([("authorization", "Bearer \(key)")]) }
    }

    /// A secret from a file (preferred) or a value; nil when neither is set. Trailing
    /// whitespace and newlines of a file are dropped; an empty secret is an error.
    private func secret(value: String?, file: String?, setting: String) throws -> String? {
        var text = value
        if let file {
            text = String(decoding: try Self.readFile(file, what: setting + "File", limitBytes: 64 << 10), as: UTF8.self)
        }
        guard var secret = text else { return nil }
        while let last = secret.last, last.isWhitespace { secret.removeLast() }
        guard !secret.isEmpty else { throw Invalid(description: "\(setting) is empty") }
        guard secret.utf8.count <= 4096, !secret.contains(where: { $0.isNewline }) else {
            throw Invalid(description: "\(setting) must be one line of at most 4096 bytes")
        }
        return secret
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
