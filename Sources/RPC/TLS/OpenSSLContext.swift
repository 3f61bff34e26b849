internal import COpenSSL

/// An OpenSSL `SSL_CTX` configured once and then only used to create connections, which
/// OpenSSL allows from any thread.
final class OpenSSLContext: @unchecked Sendable {
    enum Role { case server, client }

    let context: OpaquePointer
    let role: Role
    let serverHostname: String?
    /// A certificate of our own is configured (the client side of mutual TLS).
    let hasCertificate: Bool
    /// Server: the CA store of each peer role (`TLSConfiguration.peerRoles`).
    let roleStores: [(role: String, store: OpaquePointer)]

    init(_ configuration: TLSConfiguration, role: Role) throws(TLSError) {
        guard let context = SSL_CTX_new(role == .server ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError(message: "cannot create TLS context: \(Self.lastError())")
        }
        self.context = context
        self.role = role
        self.serverHostname = configuration.serverHostname
        self.hasCertificate = configuration.certificateChainPath != nil
        var stores: [(String, OpaquePointer)] = []
        for (role, path) in configuration.peerRoles.sorted(by: { $0.key < $1.key }) where role.isEmpty == false {
            guard let store = X509_STORE_new() else { break }
            stores.append((role, store))
            guard X509_STORE_load_file(store, path) == 1 else {
                for (_, store) in stores { X509_STORE_free(store) }
                SSL_CTX_free(context)
                throw TLSError(message: "cannot load the CA certificates of peer role '\(role)' from '\(path)': \(Self.lastError())")
            }
        }
        self.roleStores = stores
        _ = COpenSSL_SSL_CTX_set_min_proto_version(context, COpenSSL_TLS1_2_VERSION())
        _ = COpenSSL_SSL_CTX_set_mode(context, COpenSSL_SSL_MODE_ENABLE_PARTIAL_WRITE()
            | COpenSSL_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER())
        _ = COpenSSL_SSL_CTX_set_options(context, COpenSSL_SSL_OP_NO_RENEGOTIATION())

        if let chain = configuration.certificateChainPath {
            guard SSL_CTX_use_certificate_chain_file(context, chain) == 1 else {
                throw TLSError(message: "cannot load certificate chain '\(chain)': \(Self.lastError())")
            }
            guard let key = configuration.privateKeyPath else {
                throw TLSError(message: "a certificate needs its private key (--tls-key)")
            }
            guard SSL_CTX_use_PrivateKey_file(context, key, COpenSSL_SSL_FILETYPE_PEM()) == 1 else {
                throw TLSError(message: "cannot load private key '\(key)', or it does not match certificate '\(chain)': \(Self.lastError())")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw TLSError(message: "private key '\(key)' does not match certificate '\(chain)'")
            }
        } else if role == .server {
            throw TLSError(message: "a TLS server needs a certificate (--tls-cert) and key (--tls-key)")
        }

        if let roots = configuration.trustRootsPath {
            guard SSL_CTX_load_verify_locations(context, roots, nil) == 1 else {
                throw TLSError(message: "cannot load CA certificates '\(roots)': \(Self.lastError())")
            }
            SSL_CTX_set_verify(context, role == .server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER, nil)
        } else if role == .client {
            SSL_CTX_set_default_verify_paths(context)
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        }
        if role == .server, !configuration.peerRoles.isEmpty {
            for path in Set(configuration.peerRoles.values) {
                guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
                    throw TLSError(message: "cannot load CA certificates '\(path)': \(Self.lastError())")
                }
            }
            if configuration.trustRootsPath == nil { SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil) }
        }

        switch role {
        case .server:
            SSL_CTX_set_alpn_select_cb(context, { _, out, outCount, offered, offeredCount, _ in
                OpenSSLContext.selectProtocol(out, outCount, offered, offeredCount)
            }, nil)
        case .client:
            let protocols: [UInt8] = [2, UInt8(ascii: "h"), UInt8(ascii: "2")]
            _ = SSL_CTX_set_alpn_protos(context, protocols, UInt32(protocols.count))
            if !hasCertificate {
                // Called only when the server asks for a certificate and we have none: noted,
                // so that a refusal that follows can say why.
                SSL_CTX_set_client_cert_cb(context) { ssl, _, _ in
                    OpenSSLConnection.noteClientCertificateRequest(ssl)
                    return 0
                }
            }
        }
    }

    deinit {
        for (_, store) in roleStores { X509_STORE_free(store) }
        SSL_CTX_free(context)
    }

    /// Chooses `h2` from the client's ALPN list, else `http/1.1` (gRPC-Web from a browser),
    /// pointing into the client's own buffer (which outlives the callback). Refuses the
    /// handshake when neither is offered.
    private static func selectProtocol(_ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
                                 _ outCount: UnsafeMutablePointer<UInt8>?,
                                 _ offered: UnsafePointer<UInt8>?, _ offeredCount: UInt32) -> Int32 {
        guard let out, let outCount, let offered else { return COpenSSL_SSL_TLSEXT_ERR_ALERT_FATAL() }
        for wanted in [Array("h2".utf8), Array("http/1.1".utf8)] {
            var index = 0
            let total = Int(offeredCount)
            while index < total {
                let length = Int(offered[index])
                if index + 1 + length > total { break }
                if length == wanted.count, UnsafeBufferPointer(start: offered + index + 1, count: length).elementsEqual(wanted) {
                    out.pointee = offered + index + 1
                    outCount.pointee = UInt8(length)
                    return COpenSSL_SSL_TLSEXT_ERR_OK()
                }
                index += 1 + length
            }
        }
        return COpenSSL_SSL_TLSEXT_ERR_ALERT_FATAL()
    }

    /// The oldest queued OpenSSL error as text, clearing the queue.
    static func lastError() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "unknown error" : messages.joined(separator: "; ")
    }
}
