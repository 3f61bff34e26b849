/// The gRPC length-prefixed message: 1 byte compressed flag, 4 bytes big-endian length,
/// then the message bytes.
enum MessageFraming {
    static let prefixBytes = 5

    /// Frames an uncompressed message.
    static func frame(_ message: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(message.count + prefixBytes)
        let length = UInt32(truncatingIfNeeded: message.count)
        out += [0, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        out += message
        return out
    }
}

/// Reassembles length-prefixed messages from DATA chunks, refusing messages larger than
/// the configured limit before buffering them.
struct MessageDeframer {
    /// Why a stream of bytes cannot be turned into messages.
    enum Failure: Error, Equatable {
        /// A message declared more bytes than the limit allows.
        case tooLarge(declaredBytes: Int, limitBytes: Int)
        /// The compressed flag was set but the call negotiated no compression.
        case compressedWithoutEncoding
        /// The stream ended inside a message.
        case truncated(missingBytes: Int)
    }

    let maxMessageBytes: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Appends received bytes and returns every message now complete.
    mutating func append(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> [[UInt8]] {
        buffer.append(contentsOf: bytes)
        var messages: [[UInt8]] = []
        while buffer.count - readIndex >= MessageFraming.prefixBytes {
            let flag = buffer[readIndex]
            let length = Int(buffer[readIndex + 1]) << 24 | Int(buffer[readIndex + 2]) << 16
                | Int(buffer[readIndex + 3]) << 8 | Int(buffer[readIndex + 4])
            guard flag == 0 else { throw .compressedWithoutEncoding }
            guard length <= maxMessageBytes else {
                throw .tooLarge(declaredBytes: length, limitBytes: maxMessageBytes)
            }
            let start = readIndex + MessageFraming.prefixBytes
            guard buffer.count - start >= length else { break }
            messages.append(Array(buffer[start..<start + length]))
            readIndex = start + length
        }
        // Compact once the consumed prefix dominates, so memory stays bounded by one message.
        if readIndex > 0, readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        return messages
    }

    /// Bytes of an unfinished message held (its prefix included).
    var bufferedBytes: Int { buffer.count - readIndex }

    /// Drops an unfinished message (the call is over); its memory is freed now.
    mutating func discardBuffered() {
        buffer = []
        readIndex = 0
    }

    /// Checks that the stream did not end in the middle of a message.
    func finish() throws(Failure) {
        let pending = buffer.count - readIndex
        guard pending == 0 else {
            var missing = MessageFraming.prefixBytes - pending
            if pending >= MessageFraming.prefixBytes {
                let length = Int(buffer[readIndex + 1]) << 24 | Int(buffer[readIndex + 2]) << 16
                    | Int(buffer[readIndex + 3]) << 8 | Int(buffer[readIndex + 4])
                missing = length + MessageFraming.prefixBytes - pending
            }
            throw .truncated(missingBytes: missing)
        }
    }
}
