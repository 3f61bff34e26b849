/// TLS settings for a server or client: PEM files on disk. TLS 1.2 or newer, ALPN `h2`.
public struct TLSConfiguration: Sendable, Equatable {
    /// Certificate chain (PEM): the server's certificate, or the client's for mutual TLS.
    public var certificateChainPath: String?
    /// Private key (PEM) matching the certificate.
    public var privateKeyPath: String?
    /// CA bundle (PEM) that peers' certificates must chain to. On a server, setting it
    /// turns on mutual TLS: clients without a valid certificate are refused. On a client
    /// it verifies the server; nil uses the system's default CAs.
    public var trustRootsPath: String?
    /// Client only: the name expected in the server certificate and sent as SNI.
    public var serverHostname: String?
    /// Server only: roles a client's certificate can prove, each a CA bundle (PEM). A client
    /// whose certificate chains to a role's CA has that role (`ServerContext.peerRoles`);
    /// these CAs are trusted in the handshake too. Without `trustRootsPath`, a client
    /// certificate is then asked for but not required.
    public var peerRoles: [String: String] = [:]

    public init(certificateChainPath: String? = nil, privateKeyPath: String? = nil,
                trustRootsPath: String? = nil, serverHostname: String? = nil) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.trustRootsPath = trustRootsPath
        self.serverHostname = serverHostname
    }
}

/// A TLS setup that could not be loaded (missing file, key mismatch...).
public struct TLSError: Error, CustomStringConvertible {
    /// What failed, with OpenSSL's own reason.
    public let message: String
    public var description: String { message }
}

extension TLSConfiguration {
    /// Loads the files as a server would (certificate chain, private key, their match, CA
    /// bundle) and discards them, so a server can refuse bad TLS settings before it creates
    /// or opens anything else.
    public func checkServerFiles() throws(TLSError) {
        _ = try OpenSSLContext(self, role: .server)
    }
}
