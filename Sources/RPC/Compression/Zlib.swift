private import CZlib

/// gzip and deflate through zlib, one whole message at a time. The only user of `CZlib`:
/// the `z_stream` lives and dies inside each function.
enum Zlib {
    /// Why a compressed message cannot be inflated.
    enum InflateFailure: Error, Equatable {
        /// The message inflates to more than the limit allowed; inflation stopped there.
        case tooLarge(limitBytes: Int)
        /// The bytes are not a valid stream of the algorithm (zlib's reason inside).
        case corrupt(String)
    }

    /// zlib's window of 32 KB (the largest, what every gzip/zlib writer uses); +16 selects
    /// the gzip header and trailer instead of zlib's.
    private static func windowBits(_ algorithm: CompressionAlgorithm) -> Int32 {
        algorithm == .gzip ? 15 + 16 : 15
    }

    /// Bytes inflated per call into zlib: the output grows by at most this past what it holds.
    private static let inflateChunkBytes = 64 << 10

    /// Compresses `input` as one complete stream at `level` (1 fastest .. 9 smallest).
    static func compress(_ input: [UInt8], algorithm: CompressionAlgorithm, level: Int32) -> [UInt8] {
        withStream(end: { deflateEnd($0) }) { stream in compress(input, algorithm: algorithm, level: level, stream: stream) }
    }

    /// Runs `body` with a zeroed `z_stream` at an address that stays put (zlib's state points
    /// back to it), then releases zlib's state with `end` and frees the stream.
    private static func withStream<Result, Failure: Error>(
        end: (UnsafeMutablePointer<z_stream>) -> Int32,
        _ body: (UnsafeMutablePointer<z_stream>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            _ = end(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        return try body(stream)
    }

    private static func compress(_ input: [UInt8], algorithm: CompressionAlgorithm, level: Int32,
                                 stream: UnsafeMutablePointer<z_stream>) -> [UInt8] {
        let initialized = CZlib_deflateInit2(stream, level, windowBits(algorithm))
        precondition(initialized == Z_OK, "deflateInit2 failed (\(initialized)): out of memory or a bad level \(level)")
        let bound = Int(deflateBound(stream, uLong(input.count)))
        return input.withUnsafeBufferPointer { source in
            [UInt8](unsafeUninitializedCapacity: bound) { output, count in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.pointee.avail_in = uInt(source.count)
                stream.pointee.next_out = output.baseAddress
                stream.pointee.avail_out = uInt(bound)
                // deflateBound is enough for one Z_FINISH call to end the stream.
                let result = deflate(stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "deflate did not finish within deflateBound (\(result))")
                count = bound - Int(stream.pointee.avail_out)
            }
        }
    }

    /// Inflates one compressed message, stopping as soon as the output would pass
    /// `limitBytes`: memory held never exceeds the limit (plus one chunk of work space), so a
    /// small bomb cannot become a large allocation.
    static func inflate(_ input: ArraySlice<UInt8>, algorithm: CompressionAlgorithm,
                        limitBytes: Int) throws(InflateFailure) -> [UInt8] {
        guard input.count <= Int(UInt32.max) else { throw .corrupt("compressed message larger than 4 GiB") }
        return try withStream(end: { inflateEnd($0) }) { (stream) throws(InflateFailure) in
            try inflate(input, algorithm: algorithm, limitBytes: limitBytes, stream: stream)
        }
    }

    private static func inflate(_ input: ArraySlice<UInt8>, algorithm: CompressionAlgorithm, limitBytes: Int,
                                stream: UnsafeMutablePointer<z_stream>) throws(InflateFailure) -> [UInt8] {
        guard CZlib_inflateInit2(stream, windowBits(algorithm)) == Z_OK else {
            throw .corrupt("zlib could not start inflating (out of memory)")
        }
        // One byte past the limit is room enough to learn that the message is too large.
        let capacity = limitBytes < Int.max ? limitBytes + 1 : limitBytes
        var output: [UInt8] = []
        output.reserveCapacity(min(capacity, max(input.count * 4, 4096)))
        let chunk = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: min(inflateChunkBytes, max(capacity, 1)))
        defer { chunk.deallocate() }

        let failure: InflateFailure? = input.withUnsafeBufferPointer { source in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.pointee.avail_in = uInt(source.count)
            while true {
                let room = min(chunk.count, capacity - output.count)
                guard room > 0 else { return .tooLarge(limitBytes: limitBytes) }
                stream.pointee.next_out = chunk.baseAddress
                stream.pointee.avail_out = uInt(room)
                let result = CZlib.inflate(stream, Z_NO_FLUSH)
                let produced = room - Int(stream.pointee.avail_out)
                if produced > 0 {
                    if output.count + produced > output.capacity {
                        // Doubling, but never past the capacity the limit allows.
                        output.reserveCapacity(min(capacity, max(output.count * 2, output.count + produced)))
                    }
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[0..<produced]))
                }
                if output.count > limitBytes { return .tooLarge(limitBytes: limitBytes) }
                switch result {
                case Z_STREAM_END:
                    return stream.pointee.avail_in == 0 ? nil
                        : .corrupt("\(stream.pointee.avail_in) bytes follow the end of the compressed data")
                case Z_OK, Z_BUF_ERROR:
                    // Output room left over with no input left: the stream wanted more.
                    if stream.pointee.avail_in == 0 && produced < room {
                        return .corrupt("the compressed data ends before its stream does (truncated)")
                    }
                    if result == Z_BUF_ERROR && produced == 0 { return .corrupt("zlib made no progress") }
                    continue
                default:
                    let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(result)"
                    return .corrupt(reason)
                }
            }
        }
        if let failure { throw failure }
        return output
    }
}
