import RPC
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The server's `CallAuthorizer`: finds who a call is (API key, token, client certificate,
/// cluster node) and whether its method's rule (`AccessRules`) lets it in. Its credentials
/// can be replaced while the server runs (SIGHUP) without touching open connections: calls
/// that started keep their grant, new calls see the new credentials.
public final class Authenticator: CallAuthorizer {
    private let rules: AccessRules
    private let credentials: Mutex<Credentials>
    private let clock: @Sendable () -> Int64

    /// - Parameter nowSeconds: seconds since 1970 (tests pass their own).
    public init(rules: AccessRules, credentials: Credentials,
                nowSeconds: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }) {
        self.rules = rules
        self.credentials = Mutex(credentials)
        self.clock = nowSeconds
    }

    /// Replaces the credentials for calls that start from now on.
    public func reload(_ credentials: Credentials) {
        self.credentials.withLock { $0 = credentials }
    }

    /// Whether calls need credentials now.
    public var requiresCredentials: Bool { credentials.withLock { $0.requiresCredentials } }

    public func authorize(path: String, metadata: Metadata, peer: PeerCredentials) -> Result<any Sendable, RPCError> {
        switch check(path: path, metadata: metadata, peer: peer) {
        case .success(let access): return .success(access)
        case .failure(let denial): return .failure(RPCError(denial.code == .unauthenticated ? .unauthenticated : .permissionDenied, denial.message))
        }
    }

    /// The call's access, or why it is refused.
    public func check(path: String, metadata: Metadata, peer: PeerCredentials) -> Result<CallAccess, AccessDenial> {
        let credentials = self.credentials.withLock { $0 }
        let rule = rules[path]
        if rule == .open { return .success(CallAccess(grant: Grant(principal: "anyone", global: nil), collectionLevel: nil)) }
        let grant: Grant
        switch identify(metadata: metadata, peer: peer, credentials: credentials) {
        case .success(let found?): grant = found
        case .success(nil):
            // No credentials configured and none presented: the open single-user default.
            if rule == .nodesOnly {
                // Node methods stay open only on a cluster that proves nodes no way at all.
                guard credentials.nodeKeyDigest == nil, credentials.nodePeerRole == nil else {
                    return .failure(AccessDenial(.permissionDenied, "\(path) is for cluster nodes only"))
                }
                return .success(CallAccess(grant: .node("a peer (cluster without node credentials)"), collectionLevel: nil))
            }
            return .success(CallAccess(grant: Grant(principal: "anyone", global: .admin), collectionLevel: nil))
        case .failure(let denial): return .failure(denial)
        }
        guard let rule else {
            return .failure(AccessDenial(.permissionDenied, "\(path.prefix(200)) has no access rule on this server"))
        }
        switch rule {
        case .open:
            return .success(CallAccess(grant: grant, collectionLevel: nil))
        case .nodesOnly:
            guard grant.isNode else {
                return .failure(AccessDenial(.permissionDenied, "\(grant.principal) may not call \(path): cluster nodes only"))
            }
            return .success(CallAccess(grant: grant, collectionLevel: nil))
        case .requires(let level, let perCollection):
            if grant.allows(level) { return .success(CallAccess(grant: grant, collectionLevel: nil)) }
            if perCollection, grant.collections.values.contains(where: { $0 >= level }) {
                return .success(CallAccess(grant: grant, collectionLevel: level))
            }
            return .failure(AccessDenial(.permissionDenied, "\(grant.principal) may not call \(path): it needs \(level) access"))
        }
    }

    /// Who presented what: nil when no credential is configured and none was needed.
    private func identify(metadata: Metadata, peer: PeerCredentials, credentials: Credentials) -> Result<Grant?, AccessDenial> {
        if let role = credentials.nodePeerRole, peer.roles.contains(role) { return .success(.node("cluster node (certificate)")) }
        if let bearer = Self.bearer(in: metadata) {
            if let tokens = credentials.tokens, JSONWebTokenVerifier.looksLikeToken(bearer) {
                return tokens.grant(for: bearer, nowSeconds: clock()).map { $0 }
            }
            if let grant = credentials.grant(forKey: bearer) { return .success(grant) }
            guard credentials.requiresCredentials else { return .success(nil) }
            return .failure(AccessDenial(.unauthenticated, "the credentials sent are not valid on this server (an API key or token it accepts)"))
        }
        if let grant = credentials.grant(forCertificate: peer.certificateNames) { return .success(grant) }
        guard credentials.requiresCredentials else { return .success(nil) }
        return .failure(AccessDenial(.unauthenticated,
            "this server requires credentials: send metadata 'authorization: Bearer <api key or token>' (or a client certificate it maps to a role)"))
    }

    /// The value of `authorization: Bearer <value>` or of `api-key: <value>`.
    static func bearer(in metadata: Metadata) -> String? {
        if let header = metadata["authorization"] {
            let trimmed = header.drop { $0 == " " }
            if trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " {
                return String(trimmed.dropFirst(7).drop { $0 == " " })
            }
            return nil
        }
        return metadata["api-key"]
    }
}
