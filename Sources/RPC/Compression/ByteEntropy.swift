#if canImport(Glibc)
private import Glibc
#elseif canImport(Darwin)
private import Darwin
#endif

/// A cheap guess at whether deflate can shrink a message: the order-0 entropy of a sample of
/// its bytes. Float vectors (the bulk of a search response with vectors) measure 7.3-7.4 bits
/// per byte and deflate to 0.85-0.93 of their size at a high CPU cost; protobuf with text
/// payloads measures 5.6 and deflates to 0.27-0.40 (docs/benchmarks/compression.md).
enum ByteEntropy {
    /// Slices sampled, evenly spaced, and their length: 4 KB looked at whatever the size.
    static let sampleSlices = 16
    static let sliceBytes = 256

    /// Bits per byte (0 ... 8) of the byte histogram of up to 4 KB sampled across `message`.
    static func bitsPerByte(_ message: [UInt8]) -> Double {
        guard !message.isEmpty else { return 0 }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { counts in
            counts.initialize(repeating: 0)
            var sampled = 0
            message.withUnsafeBufferPointer { bytes in
                let slices = bytes.count <= sampleSlices * sliceBytes ? 1 : sampleSlices
                let length = slices == 1 ? bytes.count : sliceBytes
                let stride = slices == 1 ? 0 : (bytes.count - sliceBytes) / (slices - 1)
                for slice in 0..<slices {
                    let start = slice * stride
                    for byte in bytes[start..<start + length] { counts[Int(byte)] += 1 }
                    sampled += length
                }
            }
            var bits = 0.0
            let total = Double(sampled)
            for count in counts where count > 0 {
                let p = Double(count) / total
                bits -= p * log2(p)
            }
            return bits
        }
    }
}
