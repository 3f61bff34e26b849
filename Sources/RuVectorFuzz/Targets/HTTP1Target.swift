import Access
import Wire

/// Raw HTTP/1.1 client bytes (gRPC-Web requests, pipelined, chunked, hostile) into the server's
/// connection handler, which detects HTTP/1.1 from the first bytes and runs its own request
/// parser (`HTTP1RequestParser`) and session, with calls routed to the real services, as the
/// `http2` target does for HTTP/2 (whose services and conversation player it borrows).
/// An input's first byte sets how its bytes are cut into socket reads (1 to 2048 bytes each).
final class HTTP1Target: FuzzTarget {
    static let name = "http1"
    let maxInputBytes = 256 << 10
    private let connection: HTTP2Target

    init(workDirectory: String) throws {
        connection = try HTTP2Target(workDirectory: workDirectory)
    }

    let dictionary: [[UInt8]] = [
        "\r\n", "\r\n\r\n", "0\r\n\r\n", "POST ", "OPTIONS ", " HTTP/1.1\r\n", "Host: a\r\n", "Content-Length: ",
        "Transfer-Encoding: chunked\r\n", "Connection: close\r\n", "Expect: 100-continue\r\n",
        "content-type: application/grpc-web\r\n", "content-type: application/grpc-web-text\r\n", "grpc-timeout: 1m\r\n",
        "Origin: http://a\r\n", "access-control-request-headers: content-type\r\n", ";ext=1", "FFFFFFFF", "=",
    ].map { Array($0.utf8) }

    func seedCorpus() throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        for method in WireMethod.all where !method.clientStreaming {
            let sample = SampleRequests.all.first { type(of: $0).protoFullName == method.requestType.protoFullName }
            let framed = [0] + HTTP2Frame.bigEndian(UInt32(sample?.encoded().count ?? 0)) + (sample?.encoded() ?? [])
            out.append([7] + Self.request(method.path, contentType: "application/grpc-web+proto", body: framed))
            out.append([3] + Self.request(method.path, contentType: "application/grpc-web-text", body: Self.base64(framed),
                                          chunked: true))
        }
        let health = Self.request("/grpc.health.v1.Health/Check", contentType: "application/grpc-web", body: [0, 0, 0, 0, 0])
        // Pipelined requests, a preflight, a client-streaming method (refused), a deadline.
        out.append([11] + health + health + Array("OPTIONS /a/B HTTP/1.1\r\nHost: a\r\nOrigin: http://a\r\n\r\n".utf8) + health)
        out.append([11] + Self.request("/ruvector.v1.VectorService/UpsertStream", contentType: "application/grpc-web", body: [0, 0, 0, 0, 0]))
        out.append([0] + Self.request("/grpc.health.v1.Health/Check", contentType: "application/grpc-web", body: [0, 0, 0, 0, 0],
                                      extra: "grpc-timeout: 1n\r\nExpect: 100-continue\r\n"))
        // Shapes the parser must refuse.
        for extra in ["Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "Transfer-Encoding: gzip\r\n", "X: a\r\n b\r\n",
                      "Content-Length: -1\r\n"] {
            out.append([11] + Array("POST /a/B HTTP/1.1\r\nHost: a\r\n\(extra)\r\n".utf8))
        }
        return out
    }

    /// Standard padded base64 (gRPC-Web's text mode), from the URL-safe alphabet Access has.
    private static func base64(_ bytes: [UInt8]) -> [UInt8] {
        var text = Array(Base64URL.encode(bytes).utf8).map { $0 == UInt8(ascii: "-") ? UInt8(ascii: "+") : $0 == UInt8(ascii: "_") ? UInt8(ascii: "/") : $0 }
        while text.count % 4 != 0 { text.append(UInt8(ascii: "=")) }
        return text
    }

    /// One request with `body` as Content-Length or as two chunks.
    private static func request(_ path: String, contentType: String, body: [UInt8], chunked: Bool = false,
                                extra: String = "") -> [UInt8] {
        var head = "POST \(path) HTTP/1.1\r\nHost: localhost\r\ncontent-type: \(contentType)\r\nx-grpc-web: 1\r\n\(extra)"
        guard chunked else {
            head += "Content-Length: \(body.count)\r\n\r\n"
            return Array(head.utf8) + body
        }
        head += "Transfer-Encoding: chunked\r\n\r\n"
        let half = body.count / 2
        var out = Array(head.utf8)
        for piece in [body[..<half], body[half...]] where !piece.isEmpty {
            out += Array((String(piece.count, radix: 16) + "\r\n").utf8) + piece + Array("\r\n".utf8)
        }
        return out + Array("0\r\n\r\n".utf8)
    }

    func run(_ input: [UInt8]) throws -> FuzzOutcome {
        guard let first = input.first else { return .rejected }
        let readBytes = 1 << Int(first % 12)
        let bytes = input.dropFirst()
        let reads = stride(from: bytes.startIndex, to: bytes.endIndex, by: readBytes).map {
            Array(bytes[$0..<min($0 + readBytes, bytes.endIndex)])
        }
        return try connection.play(reads: reads)
    }

    func finish() { connection.finish() }
}
