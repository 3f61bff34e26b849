/// How one call's messages are compressed, decided once from its request headers and the
/// server's policy: the encoding its compressed request messages are inflated with, and the
/// encoding its responses may use.
struct CallCompression: Sendable {
    /// The call's `grpc-encoding`: how its compressed request messages are inflated; nil for
    /// identity (a compressed message is then a protocol error).
    let requestEncoding: CompressionAlgorithm?
    /// The algorithm the server's policy compresses responses with, when the client accepts
    /// it; nil when the policy is off or the client does not list it.
    let policyEncoding: CompressionAlgorithm?
    /// The algorithm for a message a handler asks to compress (`MessageCompression.compressed`):
    /// the policy's, else the first of gzip and deflate the client accepts.
    let requestedEncoding: CompressionAlgorithm?
    /// Smallest message the policy compresses.
    let thresholdBytes: Int
    /// Messages whose sampled bytes measure more bits per byte (`ByteEntropy`) are sent plain
    /// by the policy: mostly float vectors, which deflate barely shrinks.
    let maxEntropyBitsPerByte: Double

    /// zlib's level for responses: 1, the fastest. On our responses it keeps most of level
    /// 6's saving at a third of its CPU time (docs/benchmarks/compression.md).
    static let level: Int32 = 1

    /// A call that neither receives nor sends compressed messages.
    static let identity = CallCompression(requestEncoding: nil, acceptEncoding: nil, configured: nil, thresholdBytes: .max,
                                          maxEntropyBitsPerByte: 8)

    /// `acceptEncoding` is the client's `grpc-accept-encoding` (nil when it sent none: then
    /// no response is compressed); `configured` the server's policy algorithm.
    init(requestEncoding: CompressionAlgorithm?, acceptEncoding: String?, configured: CompressionAlgorithm?,
         thresholdBytes: Int, maxEntropyBitsPerByte: Double) {
        let accepted = acceptEncoding.map(CompressionAlgorithm.accepted(by:)) ?? []
        self.requestEncoding = requestEncoding
        self.policyEncoding = configured.flatMap { accepted.contains($0) ? $0 : nil }
        self.requestedEncoding = policyEncoding ?? [CompressionAlgorithm.gzip, .deflate].first { accepted.contains($0) }
        self.thresholdBytes = thresholdBytes
        self.maxEntropyBitsPerByte = maxEntropyBitsPerByte
    }

    /// The `grpc-encoding` announced in the response headers, which leave with the first
    /// message (`compression` is that message's).
    func announcedEncoding(firstMessage compression: MessageCompression) -> CompressionAlgorithm? {
        policyEncoding ?? (compression == .compressed ? requestedEncoding : nil)
    }

    /// `message` as it goes on the wire on a call that announced `announced`: compressed when
    /// asked (`.compressed`) or when the policy applies: at least the threshold, not mostly
    /// high-entropy bytes, and smaller once compressed.
    func outbound(_ message: [UInt8], _ compression: MessageCompression,
                  announced: CompressionAlgorithm?) -> OutboundMessage {
        guard let announced else { return OutboundMessage(message) }
        switch compression {
        case .uncompressed:
            return OutboundMessage(message)
        case .compressed:
            // The flag is what the caller asked for, even if the bytes did not shrink.
            return OutboundMessage(Zlib.compress(message, algorithm: announced, level: Self.level),
                                   compressed: true, uncompressedBytes: message.count)
        case .automatic:
            guard policyEncoding != nil, message.count >= thresholdBytes,
                  maxEntropyBitsPerByte >= 8 || ByteEntropy.bitsPerByte(message) <= maxEntropyBitsPerByte else {
                return OutboundMessage(message)
            }
            let compressed = Zlib.compress(message, algorithm: announced, level: Self.level)
            // A message that does not shrink goes as it is (flag 0, which the spec allows).
            guard compressed.count < message.count else { return OutboundMessage(message) }
            return OutboundMessage(compressed, compressed: true, uncompressedBytes: message.count)
        }
    }

    /// Inflates a request message that arrived with the compressed flag (the deframer lets
    /// one through only when the call has an encoding), bounded by `limitBytes`.
    func inflate(_ message: [UInt8], limitBytes: Int) throws(Zlib.InflateFailure) -> [UInt8] {
        guard let requestEncoding else { throw .corrupt("compressed message on a call without grpc-encoding") }
        do {
            return try Zlib.inflate(message[...], algorithm: requestEncoding, limitBytes: limitBytes)
        } catch .corrupt(let reason) {
            throw .corrupt("cannot inflate a \(requestEncoding.rawValue) request message: \(reason)")
        }
    }
}
