/// A message compression algorithm of the gRPC compression spec, named as in
/// `grpc-encoding` and `grpc-accept-encoding` (grpc/doc/compression.md).
public enum CompressionAlgorithm: String, Sendable, CaseIterable {
    /// gzip framing (RFC 1952) around deflate data.
    case gzip
    /// zlib framing (RFC 1950) around deflate data: what gRPC's C core and Java send as
    /// "deflate".
    case deflate

    /// The `grpc-accept-encoding` value the server sends: every encoding it can read.
    static let acceptEncodingHeaderValue = "identity,deflate,gzip"

    /// The algorithm of a `grpc-encoding` value; nil for identity and for names we do not know.
    public init?(encoding: String) {
        self.init(rawValue: encoding.lowercased())
    }

    /// The algorithms listed in a `grpc-accept-encoding` value (comma separated, spaces
    /// allowed); unknown names are ignored.
    static func accepted(by headerValue: String) -> Set<CompressionAlgorithm> {
        var accepted: Set<CompressionAlgorithm> = []
        for name in headerValue.split(separator: ",") {
            if let algorithm = CompressionAlgorithm(encoding: name.trimmingSpaces()) { accepted.insert(algorithm) }
        }
        return accepted
    }
}

/// Whether one response message is compressed (`ResponseWriter.send(_:compression:)`).
public enum MessageCompression: Sendable, Equatable {
    /// The server's policy (`ServerConfiguration.responseCompression`): compressed when the
    /// client accepts the configured algorithm, the message is at least the threshold, and
    /// compression shrinks it.
    case automatic
    /// Compressed with an algorithm the client accepts, whatever the policy and the size
    /// (the interop cases' `response_compressed`). Ask it of the call's first message: the
    /// call's encoding is announced in the response headers, before the first message, so a
    /// later message can only be compressed when an encoding was announced. Sent
    /// uncompressed when the client accepts no algorithm we have.
    case compressed
    /// Sent as it is (flag 0), even on a call that announced an encoding.
    case uncompressed
}
