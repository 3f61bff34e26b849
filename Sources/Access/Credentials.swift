import RPC

/// The secrets and mappings a server checks callers against. Built from settings at start
/// and again on SIGHUP (`Authenticator.reload(_:)`); keys are kept only as SHA-256 digests.
public struct Credentials: Sendable {
    /// Digest of the API key that grants admin (everything).
    var apiKeyDigest: [UInt8]?
    /// Digest of the API key that grants read on everything.
    var readOnlyAPIKeyDigest: [UInt8]?
    /// Digest of the key cluster nodes present to each other when they do not use mutual TLS.
    var nodeKeyDigest: [UInt8]?
    /// JSON Web Token checks; nil when tokens are not accepted.
    public var tokens: JSONWebTokenVerifier?
    /// Certificate names (`CN=...`, `DNS:...`, `URI:...`, `email:...`, `IP:...`) and the level
    /// a client certificate carrying one gets.
    public var certificateLevels: [String: AccessLevel]
    /// The TLS peer role (`TLSConfiguration.peerRoles`) that proves a cluster node.
    public var nodePeerRole: String?

    public init(apiKey: String? = nil, readOnlyAPIKey: String? = nil, nodeKey: String? = nil,
                tokens: JSONWebTokenVerifier? = nil, certificateLevels: [String: AccessLevel] = [:], nodePeerRole: String? = nil) {
        apiKeyDigest = apiKey.map { Crypto.sha256(Array($0.utf8)) }
        readOnlyAPIKeyDigest = readOnlyAPIKey.map { Crypto.sha256(Array($0.utf8)) }
        nodeKeyDigest = nodeKey.map { Crypto.sha256(Array($0.utf8)) }
        self.tokens = tokens
        self.certificateLevels = certificateLevels
        self.nodePeerRole = nodePeerRole
    }

    /// Which keys are set (for logs; the keys themselves are never shown).
    public var hasAPIKey: Bool { apiKeyDigest != nil }
    public var hasReadOnlyAPIKey: Bool { readOnlyAPIKeyDigest != nil }
    public var hasNodeKey: Bool { nodeKeyDigest != nil }

    /// Whether any client credential is configured: without one, every call is let through
    /// (the single-user default) and only node-to-node methods keep their TLS role check.
    public var requiresCredentials: Bool {
        apiKeyDigest != nil || readOnlyAPIKeyDigest != nil || tokens != nil || !certificateLevels.isEmpty
    }

    /// The grant for a bearer value that is not a token: the admin key, the read-only key or
    /// the node key. Every configured key is compared, each in constant time over digests,
    /// so neither the time nor the order says which one (if any) came close.
    func grant(forKey key: String) -> Grant? {
        let digest = Crypto.sha256(Array(key.utf8))
        let admin = apiKeyDigest.map { Crypto.constantTimeEqual($0, digest) } ?? false
        let readOnly = readOnlyAPIKeyDigest.map { Crypto.constantTimeEqual($0, digest) } ?? false
        let node = nodeKeyDigest.map { Crypto.constantTimeEqual($0, digest) } ?? false
        if node { return .node("cluster node (key)") }
        if admin { return Grant(principal: "api key", global: .admin) }
        if readOnly { return Grant(principal: "read-only api key", global: .read) }
        return nil
    }

    /// The grant a client certificate's names carry (the highest level among them).
    func grant(forCertificate names: [String]) -> Grant? {
        let mapped = names.compactMap { name in certificateLevels[name].map { (name: name, level: $0) } }
        // The first name with the highest level (max(by:) keeps the last of equals).
        guard let best = mapped.reversed().max(by: { $0.level < $1.level }) else { return nil }
        return Grant(principal: "certificate \(best.name.prefix(128))", global: best.level)
    }
}
