/// The gRPC length-prefixed message: 1 byte compressed flag, 4 bytes big-endian length,
/// then the message bytes.
enum MessageFraming {
    static let prefixBytes = 5

    /// Frames a message; `compressed` sets the flag (the bytes are already compressed).
    static func frame(_ message: [UInt8], compressed: Bool = false) -> [UInt8] {
        frame(message, flag: compressed ? 1 : 0)
    }

    /// Frames a message behind `flag` (gRPC-Web's trailer frame sets 0x80).
    static func frame(_ message: [UInt8], flag: UInt8) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(message.count + prefixBytes)
        let length = UInt32(truncatingIfNeeded: message.count)
        out += [flag, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        out += message
        return out
    }
}

/// A message received on a call, and whether it came compressed (the gRPC message flag).
/// `bytes` are always the message itself, inflated if it was compressed.
public struct ReceivedMessage: Sendable, Equatable {
    /// The message, uncompressed.
    public var bytes: [UInt8]
    /// The sender set the compressed flag on this message.
    public var wasCompressed: Bool

    public init(bytes: [UInt8], wasCompressed: Bool = false) {
        self.bytes = bytes
        self.wasCompressed = wasCompressed
    }
}

/// A response message as it goes into the send queue: its bytes on the wire, its flag, and
/// its uncompressed size (what the send limit is checked on).
struct OutboundMessage: Sendable {
    let bytes: [UInt8]
    let compressed: Bool
    let uncompressedBytes: Int

    init(_ bytes: [UInt8], compressed: Bool = false, uncompressedBytes: Int? = nil) {
        self.bytes = bytes
        self.compressed = compressed
        self.uncompressedBytes = uncompressedBytes ?? bytes.count
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
        /// The flag byte was neither 0 nor 1.
        case unknownFlag(UInt8)
        /// The stream ended inside a message.
        case truncated(missingBytes: Int)
    }

    let maxMessageBytes: Int
    /// Messages with the compressed flag are let through (the call has a `grpc-encoding`);
    /// they come out still compressed, for the caller to inflate.
    let acceptsCompressed: Bool
    private var buffer: [UInt8] = []
    private var readIndex = 0

    init(maxMessageBytes: Int, acceptsCompressed: Bool = false) {
        self.maxMessageBytes = maxMessageBytes
        self.acceptsCompressed = acceptsCompressed
    }

    /// Appends received bytes and returns every message now complete.
    mutating func append(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> [ReceivedMessage] {
        buffer.append(contentsOf: bytes)
        var messages: [ReceivedMessage] = []
        while buffer.count - readIndex >= MessageFraming.prefixBytes {
            let flag = buffer[readIndex]
            let length = Int(buffer[readIndex + 1]) << 24 | Int(buffer[readIndex + 2]) << 16
                | Int(buffer[readIndex + 3]) << 8 | Int(buffer[readIndex + 4])
            guard flag <= 1 else { throw .unknownFlag(flag) }
            guard flag == 0 || acceptsCompressed else { throw .compressedWithoutEncoding }
            guard length <= maxMessageBytes else {
                throw .tooLarge(declaredBytes: length, limitBytes: maxMessageBytes)
            }
            let start = readIndex + MessageFraming.prefixBytes
            guard buffer.count - start >= length else { break }
            messages.append(ReceivedMessage(bytes: Array(buffer[start..<start + length]), wasCompressed: flag == 1))
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
