/// Why a client connection could not be set up, in terms a user can act on: the two ends
/// disagree about TLS, the server's certificate failed verification, the server wanted a
/// client certificate, the server refused the connection...
///
/// It is the `cause` of the `RPCError` (UNAVAILABLE) that `GRPCChannel.connect` and calls
/// throw, so a tool can add its own advice per `code`:
///
/// ```swift
/// catch let error as RPCError {
///     if let failure = error.cause as? ConnectionFailure, failure.code == .certificateUntrusted { ... }
/// }
/// ```
public struct ConnectionFailure: Error, Sendable, CustomStringConvertible {
    /// The kind of failure; extensible.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A short name, e.g. `certificate-untrusted`.
        public let name: String
        public var description: String { name }

        /// TLS was used but the server speaks plaintext HTTP/2 (h2c) on that port.
        public static let serverSpeaksPlaintext = Code(name: "server-speaks-plaintext")
        /// Plaintext HTTP/2 was used but the server expects TLS on that port.
        public static let serverExpectsTLS = Code(name: "server-expects-tls")
        /// The server answered with something that is neither TLS nor HTTP/2 (e.g. HTTP/1.1).
        public static let notHTTP2 = Code(name: "not-http2")
        /// The server's certificate is not signed by a CA the client trusts.
        public static let certificateUntrusted = Code(name: "certificate-untrusted")
        /// The server's certificate has expired or is not valid yet.
        public static let certificateExpired = Code(name: "certificate-expired")
        /// The server's certificate is not valid for the name the client expects.
        public static let certificateNameMismatch = Code(name: "certificate-name-mismatch")
        /// The server's certificate failed verification for another reason.
        public static let certificateInvalid = Code(name: "certificate-invalid")
        /// The TLS server did not agree to HTTP/2 (ALPN `h2`).
        public static let noHTTP2OverTLS = Code(name: "no-alpn-h2")
        /// The server requires a client certificate (mutual TLS) and the client has none.
        public static let clientCertificateRequired = Code(name: "client-certificate-required")
        /// The server refused the client's certificate.
        public static let clientCertificateRejected = Code(name: "client-certificate-rejected")
        /// The TLS handshake failed for another reason (OpenSSL's own words in the message).
        public static let tlsHandshakeFailed = Code(name: "tls-handshake-failed")
        /// The server sent GOAWAY before the connection was ready (e.g. at its connection limit).
        public static let refused = Code(name: "refused")
        /// The server closed the connection before it was ready, without saying why.
        public static let closedBeforeReady = Code(name: "closed-before-ready")
        /// The server did not finish the handshake in time.
        public static let handshakeTimeout = Code(name: "handshake-timeout")
    }

    /// The kind of failure.
    public var code: Code
    /// What happened and what to do about it.
    public var message: String

    /// Makes a failure.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// The first bytes a server sent, read to tell which protocol it speaks when it was not
/// the one the client expected.
enum ServerGreeting {
    case tls
    case http2
    case http1
    case other

    init(_ bytes: [UInt8]) {
        if bytes.count >= 2, (0x14...0x17).contains(bytes[0]), bytes[1] == 0x03 {
            self = .tls
        } else if bytes.starts(with: Array("HTTP/".utf8)) {
            self = .http1
        } else if bytes.count >= 4, bytes[3] == 0x04 || bytes[3] == 0x07 {
            // An HTTP/2 server's first frame is SETTINGS (type 4), possibly GOAWAY (type 7).
            self = .http2
        } else {
            self = .other
        }
    }
}
