/// gRPC-Web (grpc/grpc doc/PROTOCOL-WEB.md): the same length-prefixed messages as gRPC, the
/// status as a last body frame whose flag has the high bit set (0x80), and a text variant
/// whose bodies are base64.
enum GRPCWebMode: Equatable {
    /// `application/grpc-web`, `application/grpc-web+proto`: binary bodies.
    case binary
    /// `application/grpc-web-text`, `application/grpc-web-text+proto`: base64 bodies.
    case text

    /// The mode of a request's content type; nil when it is not gRPC-Web (or names a codec
    /// other than protobuf, which the server does not speak).
    init?(contentType: String) {
        // Native gRPC's content type, on every call: no split and no lower-casing for it.
        if contentType == "application/grpc" || contentType == "application/grpc+proto" { return nil }
        let base = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces().lowercased() } ?? ""
        switch base {
        case "application/grpc-web", "application/grpc-web+proto": self = .binary
        case "application/grpc-web-text", "application/grpc-web-text+proto": self = .text
        default: return nil
        }
    }

    /// The response's content type.
    var responseContentType: String {
        switch self {
        case .binary: "application/grpc-web+proto"
        case .text: "application/grpc-web-text+proto"
        }
    }
}

/// The gRPC-Web trailer frame.
enum GRPCWebTrailers {
    /// The flag of an uncompressed trailer frame.
    static let flag: UInt8 = 0x80

    /// `fields` as the trailer frame's payload: lower-case `name: value\r\n` lines (an
    /// HTTP/1 header block without its terminating empty line).
    static func block(_ fields: [HTTP2Header]) -> [UInt8] {
        var out: [UInt8] = []
        for field in fields {
            out += field.name.lowercased().utf8
            out += ": ".utf8
            out += field.value.utf8
            out += "\r\n".utf8
        }
        return out
    }
}

/// Decodes a base64 request body that arrives in pieces cut anywhere, made of base64 chunks
/// each possibly padded (a client may encode and flush each message on its own).
struct GRPCWebTextDecoder {
    private var quad: [UInt8] = []

    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, char) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(char)] = Int8(index)
        }
        return table
    }()

    /// Decoded bytes of `input`; nil when it holds a byte outside the base64 alphabet or
    /// padding where none can be.
    mutating func decode(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3 + 3)
        for byte in input {
            quad.append(byte)
            guard quad.count == 4 else { continue }
            guard let bytes = Self.decodeQuad(quad) else { return nil }
            out += bytes
            quad.removeAll(keepingCapacity: true)
        }
        return out
    }

    /// Checks that the body did not end in the middle of a base64 group.
    func finish() -> Bool { quad.isEmpty }

    /// Three bytes of an unpadded group, two or one of a padded one (`xx==`, `xxx=`).
    private static func decodeQuad(_ quad: [UInt8]) -> [UInt8]? {
        let padding = quad[3] == UInt8(ascii: "=") ? (quad[2] == UInt8(ascii: "=") ? 2 : 1) : 0
        var n: UInt32 = 0
        for index in 0..<(4 - padding) {
            let value = values[Int(quad[index])]
            guard value >= 0 else { return nil }
            n |= UInt32(value) << (18 - 6 * UInt32(index))
        }
        switch padding {
        case 0: return [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
        case 1: return [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF)]
        default: return [UInt8(n >> 16 & 0xFF)]
        }
    }
}

/// Which browser origins may call the server (CORS): off (no origin) by default.
struct CORSPolicy: Sendable, Equatable {
    let allowedOrigins: Set<String>

    /// Response headers a browser needs to read gRPC-Web statuses, for a request from `origin`.
    static let exposedHeaders = "grpc-status, grpc-message, grpc-status-details-bin, grpc-encoding, grpc-accept-encoding"
    /// How long a browser may cache a preflight answer.
    static let preflightMaxAgeSeconds = 600

    /// Headers added to a gRPC-Web response for a request that sent `origin`; empty when the
    /// origin is not allowed (the browser then hides the response from the page).
    func responseHeaders(origin: String?) -> [HTTP2Header] {
        guard let origin, allowedOrigins.contains(origin) else { return [] }
        return [HTTP2Header(name: "access-control-allow-origin", value: origin),
                HTTP2Header(name: "access-control-allow-credentials", value: "true"),
                HTTP2Header(name: "access-control-expose-headers", value: Self.exposedHeaders),
                HTTP2Header(name: "vary", value: "Origin")]
    }

    /// The answer to a preflight `OPTIONS`: `:status` and headers. An allowed origin gets
    /// POST and the headers it asked for; any other gets 403 without CORS headers.
    func preflight(origin: String?, requestedHeaders: String?) -> [HTTP2Header] {
        guard let origin, allowedOrigins.contains(origin) else {
            return [HTTP2Header(name: ":status", value: "403"), HTTP2Header(name: "vary", value: "Origin")]
        }
        var headers = [HTTP2Header(name: ":status", value: "204"),
                       HTTP2Header(name: "access-control-allow-origin", value: origin),
                       HTTP2Header(name: "access-control-allow-methods", value: "POST, OPTIONS"),
                       HTTP2Header(name: "access-control-allow-credentials", value: "true"),
                       HTTP2Header(name: "access-control-max-age", value: "\(Self.preflightMaxAgeSeconds)"),
                       HTTP2Header(name: "vary", value: "Origin")]
        // Echoed only when it is a plain list of field names (it goes back into a header).
        if let requestedHeaders, requestedHeaders.utf8.count <= 2048,
           requestedHeaders.utf8.allSatisfy({ $0 == 32 || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "-")
               || $0 == UInt8(ascii: "_") || ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) }) {
            headers.append(HTTP2Header(name: "access-control-allow-headers", value: requestedHeaders))
        }
        return headers
    }
}
