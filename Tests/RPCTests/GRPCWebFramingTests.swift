import Testing
@testable import RPC

@Suite("gRPC-Web framing")
struct GRPCWebFramingTests {
    @Test("content types map to binary and text modes; others are not gRPC-Web", arguments: [
        ("application/grpc-web", GRPCWebMode.binary), ("application/grpc-web+proto", .binary),
        ("Application/GRPC-Web+Proto; charset=utf-8", .binary), ("application/grpc-web-text", .text),
        ("application/grpc-web-text+proto", .text),
    ])
    func contentTypes(contentType: String, mode: GRPCWebMode) {
        #expect(GRPCWebMode(contentType: contentType) == mode)
    }

    @Test("non-gRPC-Web content types", arguments: ["application/grpc", "application/grpc-web+json", "text/plain", "", "application/grpc-webx"])
    func notWeb(contentType: String) {
        #expect(GRPCWebMode(contentType: contentType) == nil)
    }

    @Test("the trailer frame is flagged 0x80 and holds lower-case name: value lines")
    func trailerFrame() {
        let block = GRPCWebTrailers.block([HTTP2Header(name: "grpc-status", value: "5"),
                                           HTTP2Header(name: "Grpc-Message", value: "not%20found")])
        let frame = MessageFraming.frame(block, flag: GRPCWebTrailers.flag)
        #expect(frame.prefix(5) == [0x80, 0, 0, 0, UInt8(block.count)])
        #expect(String(decoding: frame.dropFirst(5), as: UTF8.self) == "grpc-status: 5\r\ngrpc-message: not%20found\r\n")
    }

    /// Decodes `text` fed in pieces of `pieceBytes`.
    private func decode(_ text: String, pieceBytes: Int) -> [UInt8]? {
        var decoder = GRPCWebTextDecoder()
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + pieceBytes)
            guard let piece = bytes[offset..<end].withUnsafeBytes({ decoder.decode($0) }) else { return nil }
            out += piece
            offset = end
        }
        return decoder.finish() ? out : nil
    }

    @Test("base64 bodies decode in any chunking, including runs of padded chunks", arguments: [1, 2, 3, 5, 64])
    func textDecoding(pieceBytes: Int) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for length in 0..<50 {
            let bytes = (0..<length).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: state >> 33)
            }
            #expect(decode(Base64.encode(bytes), pieceBytes: pieceBytes) == bytes)
            // Two messages, each base64-encoded (and padded) on its own, back to back.
            let twice = Base64.encode(bytes) + Base64.encode(Array(bytes.reversed()))
            #expect(decode(twice, pieceBytes: pieceBytes) == bytes + bytes.reversed())
        }
    }

    @Test("non-base64 bodies and bodies cut inside a group are refused", arguments: ["AB$=", "A===", "ABC", "AAAA=", "AB\r\n"])
    func badText(text: String) {
        #expect(decode(text, pieceBytes: 64) == nil)
    }

    @Test("text-mode responses queue each framed message as padded base64")
    func textQueue() {
        var queue = OutboundQueue(highWaterMarkBytes: 1 << 20)
        queue.encodesBase64 = true
        queue.appendFinal([1, 2, 3, 4])
        queue.appendFramed(MessageFraming.frame(Array("grpc-status: 0\r\n".utf8), flag: GRPCWebTrailers.flag))
        var out = [UInt8](repeating: 0, count: 256)
        let count = out.withUnsafeMutableBytes { queue.take(into: $0) }
        let text = String(decoding: out[0..<count], as: UTF8.self)
        #expect(text == Base64.encode([0, 0, 0, 0, 4, 1, 2, 3, 4])
                + Base64.encode([0x80, 0, 0, 0, 16] + Array("grpc-status: 0\r\n".utf8)))
    }

    @Test("CORS: allowed origins get the headers a browser needs, others get none")
    func cors() {
        let policy = CORSPolicy(allowedOrigins: ["https://console.example"])
        #expect(policy.responseHeaders(origin: "https://evil.example").isEmpty)
        #expect(policy.responseHeaders(origin: nil).isEmpty)
        let allowed = policy.responseHeaders(origin: "https://console.example")
        #expect(allowed.contains(HTTP2Header(name: "access-control-allow-origin", value: "https://console.example")))
        #expect(allowed.contains { $0.name == "access-control-expose-headers" && $0.value.contains("grpc-status") })
        let preflight = policy.preflight(origin: "https://console.example", requestedHeaders: "content-type, x-grpc-web, authorization")
        #expect(preflight.first == HTTP2Header(name: ":status", value: "204"))
        #expect(preflight.contains(HTTP2Header(name: "access-control-allow-headers", value: "content-type, x-grpc-web, authorization")))
        let refused = policy.preflight(origin: "https://evil.example", requestedHeaders: "content-type")
        #expect(refused.first == HTTP2Header(name: ":status", value: "403"))
        #expect(!refused.contains { $0.name.hasPrefix("access-control-") })
        // A requested-headers value that is not a list of names is not echoed.
        let odd = policy.preflight(origin: "https://console.example", requestedHeaders: "x\r\nset-cookie: a")
        #expect(!odd.contains { $0.name == "access-control-allow-headers" })
    }
}
