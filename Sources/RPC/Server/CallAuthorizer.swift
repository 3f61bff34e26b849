/// Decides whether a call may start, from what it presents: its metadata (an API key or a
/// token) and its connection's TLS client certificate. Runs on the connection's event loop
/// when the call's headers arrive, before any handler or request message: keep it cheap
/// and never block.
public protocol CallAuthorizer: Sendable {
    /// The grant for a call to `path` (kept in `ServerContext.grant`), or the error that ends
    /// the call: UNAUTHENTICATED without valid credentials, PERMISSION_DENIED when they do
    /// not reach the method. Messages must never echo a credential.
    func authorize(path: String, metadata: Metadata, peer: PeerCredentials) -> Result<any Sendable, RPCError>
}

/// What a connection's TLS client certificate proves.
public struct PeerCredentials: Sendable, Equatable {
    /// Roles proven by chaining to a role's CA (`TLSConfiguration.peerRoles`).
    public var roles: Set<String>
    /// The certificate's common name and subject alternative names (`CN=...`, `DNS:...`,
    /// `URI:...`, `email:...`, `IP:...`); empty without a client certificate.
    public var certificateNames: [String]

    public init(roles: Set<String> = [], certificateNames: [String] = []) {
        self.roles = roles
        self.certificateNames = certificateNames
    }
}
