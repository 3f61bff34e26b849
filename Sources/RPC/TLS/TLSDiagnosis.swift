internal import COpenSSL

/// An OpenSSL error taken off the thread's error queue: the reason code of the first
/// error (to tell alerts apart) and the text of all of them.
struct OpenSSLFailure: Sendable {
    var reason: Int32
    var text: String

    /// Empties the queue into a failure.
    static func take() -> OpenSSLFailure {
        let first = ERR_peek_error()
        return OpenSSLFailure(reason: first == 0 ? 0 : COpenSSL_ERR_GET_REASON(first), text: OpenSSLContext.lastError())
    }
}

extension OpenSSLConnection {
    /// Where the failure happened: in the handshake, or reading after it (TLS 1.3 servers
    /// refuse a client certificate after the client's side of the handshake is done).
    enum Phase { case handshake, read }

    /// The protocol the server agreed to by ALPN, if any.
    var selectedALPN: String? {
        var data: UnsafePointer<UInt8>?
        var count: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &count)
        guard let data, count > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(count)), as: UTF8.self)
    }

    /// Records that the server asked for a client certificate (the OpenSSL client
    /// certificate callback, which runs only when the client has none).
    static func noteClientCertificateRequest(_ ssl: OpaquePointer?) {
        guard let ssl, let owner = SSL_get_ex_data(ssl, 0) else { return }
        Unmanaged<OpenSSLConnection>.fromOpaque(owner).takeUnretainedValue().clientCertificateRequested = true
    }

    /// Says why a client connection failed, from what OpenSSL reported, the certificate
    /// verification result and the first bytes the server sent.
    func diagnose(_ failure: OpenSSLFailure, greeting: [UInt8], during phase: Phase) -> ConnectionFailure {
        if role == .client, phase == .handshake, !greeting.isEmpty {
            switch ServerGreeting(greeting) {
            case .http2:
                return ConnectionFailure(.serverSpeaksPlaintext,
                    "the server answered in plaintext HTTP/2 (h2c), not TLS: connect to it without TLS")
            case .http1:
                return ConnectionFailure(.notHTTP2, "the server answered in plaintext HTTP/1.x, not TLS: it is not a gRPC TLS port")
            case .other:
                return ConnectionFailure(.notHTTP2, "the server's answer is not TLS (\(failure.text)): check the port and whether it uses TLS")
            case .tls:
                break
            }
        }
        let verification = Int32(truncatingIfNeeded: SSL_get_verify_result(ssl))
        if role == .client, verification != X509_V_OK {
            return Self.certificateFailure(verification, expectedName: context.serverHostname)
        }
        if role == .client, clientCertificateRequested, !hasCertificate {
            return ConnectionFailure(.clientCertificateRequired,
                "the server requires a client certificate (mutual TLS) and none is configured: give the client a certificate and its key")
        }
        if role == .client, hasCertificate, Self.clientCertificateAlerts.contains(failure.reason) {
            return ConnectionFailure(.clientCertificateRejected,
                "the server refused this client's certificate (\(failure.text)): use a certificate signed by a CA the server trusts")
        }
        return ConnectionFailure(.tlsHandshakeFailed, "TLS \(phase == .handshake ? "handshake" : "connection") failed: \(failure.text)")
    }

    /// Alerts a server sends about the client's certificate.
    private static let clientCertificateAlerts: Set<Int32> = [
        SSL_R_TLSV1_ALERT_UNKNOWN_CA, SSL_R_SSLV3_ALERT_BAD_CERTIFICATE, SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN,
        SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED, SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE, SSL_R_TLSV1_ALERT_ACCESS_DENIED,
    ]

    /// A failed verification of the server's certificate, in OpenSSL's words
    /// (`X509_verify_cert_error_string`) and with what to do about it.
    static func certificateFailure(_ code: Int32, expectedName: String?) -> ConnectionFailure {
        let words = String(cString: X509_verify_cert_error_string(Int(code)))
        switch code {
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            return ConnectionFailure(.certificateNameMismatch,
                "the server's certificate is not valid for the name '\(expectedName ?? "?")' (\(words)): connect with a name the certificate lists")
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
             X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
             X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            return ConnectionFailure(.certificateUntrusted,
                "the server's certificate is not signed by a CA this client trusts (\(words)): give the client the CA certificate that signed it")
        case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID:
            return ConnectionFailure(.certificateExpired,
                "the server's certificate is outside its validity period (\(words)): the server needs a current certificate")
        default:
            return ConnectionFailure(.certificateInvalid, "the server's certificate failed verification: \(words)")
        }
    }
}
