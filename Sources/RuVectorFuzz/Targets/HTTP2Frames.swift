import VectorEngine

/// HTTP/2 frames as a client sends them (RFC 9113), with header blocks in HPACK (RFC 7541):
/// the `http2` target's conversations are built from these and mutated frame by frame.
struct HTTP2Frame {
    var type: UInt8
    var flags: UInt8
    var streamID: UInt32
    var payload: [UInt8]
    /// A length field that disagrees with the payload on purpose (nil: the payload's).
    var declaredLength: UInt32?

    /// Frame type codes.
    enum Kind {
        static let data: UInt8 = 0, headers: UInt8 = 1, priority: UInt8 = 2, rstStream: UInt8 = 3, settings: UInt8 = 4
        static let pushPromise: UInt8 = 5, ping: UInt8 = 6, goaway: UInt8 = 7, windowUpdate: UInt8 = 8, continuation: UInt8 = 9
    }

    /// Flag bits.
    enum Flag {
        static let endStream: UInt8 = 0x1, ack: UInt8 = 0x1, endHeaders: UInt8 = 0x4, padded: UInt8 = 0x8, priority: UInt8 = 0x20
    }

    /// The connection preface every client conversation starts with.
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    var bytes: [UInt8] {
        let length = declaredLength ?? UInt32(truncatingIfNeeded: payload.count)
        return [UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
                type, flags] + Self.bigEndian(streamID) + payload
    }

    /// The frames of a client byte stream (after the preface, if it starts with one), and
    /// whatever follows the last whole frame.
    static func parse(_ stream: [UInt8]) -> (preface: Bool, frames: [HTTP2Frame], tail: [UInt8]) {
        let hasPreface = stream.starts(with: preface)
        var offset = hasPreface ? preface.count : 0
        var frames: [HTTP2Frame] = []
        while stream.count - offset >= 9 {
            let length = Int(stream[offset]) << 16 | Int(stream[offset + 1]) << 8 | Int(stream[offset + 2])
            guard stream.count - offset - 9 >= length else { break }
            let id = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(stream[offset + 5 + $1]) }
            frames.append(HTTP2Frame(type: stream[offset + 3], flags: stream[offset + 4], streamID: id,
                                     payload: Array(stream[(offset + 9)..<(offset + 9 + length)])))
            offset += 9 + length
        }
        return (hasPreface, frames, Array(stream[offset...]))
    }

    static func encode(preface hasPreface: Bool, frames: [HTTP2Frame], tail: [UInt8]) -> [UInt8] {
        (hasPreface ? preface : []) + frames.flatMap(\.bytes) + tail
    }

    static func settings(_ values: [(UInt16, UInt32)], ack: Bool = false) -> HTTP2Frame {
        HTTP2Frame(type: Kind.settings, flags: ack ? Flag.ack : 0, streamID: 0,
                   payload: values.flatMap { bigEndian($0.0) + bigEndian($0.1) })
    }

    static func headers(stream: UInt32, _ fields: [(String, String)], endStream: Bool = false) -> HTTP2Frame {
        HTTP2Frame(type: Kind.headers, flags: Flag.endHeaders | (endStream ? Flag.endStream : 0), streamID: stream, payload: HPACK.encode(fields))
    }

    /// A DATA frame holding gRPC length-prefixed messages.
    static func grpcData(stream: UInt32, _ messages: [[UInt8]], endStream: Bool) -> HTTP2Frame {
        HTTP2Frame(type: Kind.data, flags: endStream ? Flag.endStream : 0, streamID: stream,
                   payload: messages.flatMap { [0] + bigEndian(UInt32($0.count)) + $0 })
    }

    static func windowUpdate(stream: UInt32, increment: UInt32) -> HTTP2Frame {
        HTTP2Frame(type: Kind.windowUpdate, flags: 0, streamID: stream, payload: bigEndian(increment))
    }

    static func rstStream(stream: UInt32, code: UInt32 = 8) -> HTTP2Frame {
        HTTP2Frame(type: Kind.rstStream, flags: 0, streamID: stream, payload: bigEndian(code))
    }

    static func ping(ack: Bool = false) -> HTTP2Frame {
        HTTP2Frame(type: Kind.ping, flags: ack ? Flag.ack : 0, streamID: 0, payload: [1, 2, 3, 4, 5, 6, 7, 8])
    }

    static func goaway(lastStream: UInt32, code: UInt32 = 0) -> HTTP2Frame {
        HTTP2Frame(type: Kind.goaway, flags: 0, streamID: 0, payload: bigEndian(lastStream) + bigEndian(code) + Array("bye".utf8))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32($0))) } }
    static func bigEndian(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(truncatingIfNeeded: value)] }
}

/// An HPACK encoder for literal header fields (with and without indexing) and the static
/// table entries a gRPC client uses; no Huffman coding (nghttp2 decodes both).
enum HPACK {
    static func encode(_ fields: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (name, value) in fields {
            switch (name, value) {
            case (":method", "POST"): out.append(0x83)
            case (":scheme", "http"): out.append(0x86)
            default:
                // Literal with incremental indexing for grpc names (exercises the dynamic
                // table), never indexed for the rest.
                out.append(name.hasPrefix("grpc") || name == "te" ? 0x40 : 0x10)
                out += string(name)
                out += string(value)
            }
        }
        return out
    }

    static func string(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        return integer(bytes.count, prefixBits: 7, flags: 0) + bytes
    }

    /// An integer with an N-bit prefix (RFC 7541 section 5.1).
    static func integer(_ value: Int, prefixBits: Int, flags: UInt8) -> [UInt8] {
        let limit = (1 << prefixBits) - 1
        guard value >= limit else { return [flags | UInt8(value)] }
        var out = [flags | UInt8(limit)]
        var rest = value - limit
        while rest >= 128 {
            out.append(UInt8(rest % 128) | 0x80)
            rest /= 128
        }
        out.append(UInt8(rest))
        return out
    }
}
