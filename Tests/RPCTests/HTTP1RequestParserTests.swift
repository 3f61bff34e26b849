import Testing
@testable import RPC

/// Feeds `input` to a parser in pieces of `pieceBytes` and collects every event.
private func events(_ input: String, pieceBytes: Int = .max,
                    limits: HTTP1RequestParser.Limits = .init()) -> [HTTP1RequestParser.Event] {
    var parser = HTTP1RequestParser(limits: limits)
    var out: [HTTP1RequestParser.Event] = []
    let bytes = Array(input.utf8)
    var offset = 0
    repeat {
        let end = min(bytes.count, offset + max(pieceBytes, 1))
        bytes[offset..<end].withUnsafeBytes { parser.append($0) }
        offset = end
        while let event = parser.next() { out.append(event) }
    } while offset < bytes.count
    return out
}

/// The body bytes of `events`, joined.
private func body(_ events: [HTTP1RequestParser.Event]) -> String {
    var bytes: [UInt8] = []
    for case .body(let piece) in events { bytes += piece }
    return String(decoding: bytes, as: UTF8.self)
}

private func failure(_ events: [HTTP1RequestParser.Event]) -> HTTP1ParseError? {
    for case .failure(let error) in events { return error }
    return nil
}

@Suite("HTTP/1.1 request parser (gRPC-Web)")
struct HTTP1RequestParserTests {
    static let post = "POST /svc/M HTTP/1.1\r\nHost: a\r\nContent-Type: application/grpc-web\r\n"

    @Test("a Content-Length request in any chunking gives its head, body and end", arguments: [1, 2, 7, 1000])
    func contentLength(pieceBytes: Int) {
        let result = events(Self.post + "Content-Length: 5\r\n\r\nhello", pieceBytes: pieceBytes)
        guard case .head(let head)? = result.first else {
            Issue.record("no head: \(result)")
            return
        }
        #expect(head.method == "POST" && head.target == "/svc/M" && head.contentLength == 5 && head.keepAlive)
        #expect(head.fields.contains(HTTP2Header(name: "content-type", value: "application/grpc-web")))
        #expect(body(result) == "hello")
        #expect(result.last == .end)
    }

    @Test("a chunked body with extensions and trailers is decoded", arguments: [1, 3, 1000])
    func chunked(pieceBytes: Int) {
        let input = Self.post + "Transfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nx-t: 1\r\n\r\n"
        let result = events(input, pieceBytes: pieceBytes)
        #expect(failure(result) == nil)
        #expect(body(result) == "abc0123456789")
        #expect(result.last == .end)
    }

    @Test("pipelined requests come out one after the other")
    func pipelined() {
        let one = Self.post + "Content-Length: 1\r\n\r\nx"
        let result = events(one + one + "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
        let heads = result.filter { if case .head = $0 { true } else { false } }
        #expect(heads.count == 3)
        #expect(result.filter { $0 == .end }.count == 3)
    }

    @Test("a request without a body ends right after its head; Connection: close and Expect are noted")
    func bodyless() {
        let result = events("POST /a HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\nExpect: 100-continue\r\n\r\n")
        guard case .head(let head)? = result.first else {
            Issue.record("no head")
            return
        }
        #expect(!head.keepAlive && head.expectsContinue && head.hasNoBody)
        #expect(result == [.head(head), .end])
    }

    @Test("hostile requests are refused with the right status", arguments: [
        // Request smuggling shapes.
        ("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", 400),
        ("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400),
        ("Content-Length: 3\r\nContent-Length: 4\r\n", 400),
        ("Content-Length: 3\r\nContent-Length: 3\r\n", 400),
        ("Content-Length: 3, 3\r\n", 400),
        ("Transfer-Encoding: gzip, chunked\r\n", 501),
        ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 501),
        ("Transfer-Encoding : chunked\r\n", 400),
        ("Content-Length : 3\r\n", 400),
        (" Content-Length: 3\r\n", 400),
        ("X: a\r\n folded\r\n", 400),
        // Bad lengths.
        ("Content-Length: -1\r\n", 400),
        ("Content-Length: +5\r\n", 400),
        ("Content-Length: 0x10\r\n", 400),
        ("Content-Length: 99999999999999999999999\r\n", 400),
        ("Content-Length: 999999999999999999\r\n", 413),
        ("Content-Length: 2000\r\n", 413),
        // Control bytes in a value, bad names.
        ("X: a\u{0}b\r\n", 400),
        ("X(y): 1\r\n", 400),
        (": empty-name\r\n", 400),
    ])
    func hostileFields(fields: String, status: Int) {
        let limits = HTTP1RequestParser.Limits(maxHeadBytes: 4096, maxFields: 20, maxBodyBytes: 1000)
        let error = failure(events("POST /a HTTP/1.1\r\nHost: a\r\n" + fields + "\r\nabc", limits: limits))
        #expect(error?.httpStatus == status, "\(fields.debugDescription): \(String(describing: error))")
    }

    @Test("malformed request lines and versions are refused", arguments: [
        ("POST /a HTTP/1.0\r\nHost: a\r\n\r\n", 505),
        ("POST /a HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        ("POST  /a HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("POST /a\r\nHost: a\r\n\r\n", 400),
        ("POST http://x/a HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("POST /a HTTP/1.1\nHost: a\n\n", 400),
        ("POST /a HTTP/1.1\r\n\r\n", 400),
        ("POST /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("P\u{1}ST /a HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("\u{16}\u{3}\u{1}\u{2}\u{0}\r\n\r\n", 400),
    ])
    func badRequestLines(input: String, status: Int) {
        #expect(failure(events(input))?.httpStatus == status, "\(input.debugDescription)")
    }

    @Test("bad chunk sizes and framing are refused", arguments: [
        "zz\r\nabc\r\n0\r\n\r\n", "\r\nabc\r\n0\r\n\r\n", "-3\r\nabc\r\n0\r\n\r\n", "123456789\r\n",
        "3\r\nabcX\r\n0\r\n\r\n", "3 \u{1} \r\nabc\r\n0\r\n\r\n", "3\nabc\r\n0\r\n\r\n",
    ])
    func badChunks(chunks: String) {
        let error = failure(events(Self.post + "Transfer-Encoding: chunked\r\n\r\n" + chunks))
        #expect(error == .badChunk, "\(chunks.debugDescription): \(String(describing: error))")
    }

    @Test("a chunked body past the body limit is refused before it is buffered")
    func chunkedTooLarge() {
        let limits = HTTP1RequestParser.Limits(maxHeadBytes: 4096, maxFields: 20, maxBodyBytes: 100)
        let result = events(Self.post + "Transfer-Encoding: chunked\r\n\r\n40\r\n" + String(repeating: "a", count: 64)
                            + "\r\nFFFFFF\r\n", limits: limits)
        #expect(failure(result) == .bodyTooLarge(limitBytes: 100))
        #expect(body(result).count == 64)
    }

    @Test("a chunk-size line without end is refused once it passes its bound")
    func endlessChunkLine() {
        let result = events(Self.post + "Transfer-Encoding: chunked\r\n\r\n1" + String(repeating: "0", count: 2000))
        #expect(failure(result) == .badChunk)
    }

    @Test("oversized heads and too many fields are refused, even without a line end")
    func headLimits() {
        let limits = HTTP1RequestParser.Limits(maxHeadBytes: 1024, maxFields: 10, maxBodyBytes: 100)
        #expect(failure(events("POST /" + String(repeating: "a", count: 2000), limits: limits)) == .headTooLarge(limitBytes: 1024))
        #expect(failure(events("POST /a HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "b", count: 1100) + "\r\n\r\n",
                               limits: limits)) == .headTooLarge(limitBytes: 1024))
        let fields = (0..<12).map { "X\($0): 1\r\n" }.joined()
        #expect(failure(events("POST /a HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n", limits: limits)) == .tooManyFields(limit: 10))
        let trailers = (0..<200).map { "X\($0): 1234567\r\n" }.joined()
        #expect(failure(events(Self.post + "Transfer-Encoding: chunked\r\n\r\n0\r\n" + trailers, limits: limits))
                == .headTooLarge(limitBytes: 1024))
    }

    @Test("a truncated body leaves the parser mid-request (the stall timeout ends it), never with an end")
    func truncated() {
        var parser = HTTP1RequestParser(limits: .init())
        Array((Self.post + "Content-Length: 10\r\n\r\nabc").utf8).withUnsafeBytes { parser.append($0) }
        var result: [HTTP1RequestParser.Event] = []
        while let event = parser.next() { result.append(event) }
        #expect(!result.contains(.end))
        #expect(parser.holdsPartialInput)
    }

    @Test("after a failure nothing more is parsed")
    func failedStaysFailed() {
        var parser = HTTP1RequestParser(limits: .init())
        Array("BAD\r\n\r\nPOST /a HTTP/1.1\r\nHost: a\r\n\r\n".utf8).withUnsafeBytes { parser.append($0) }
        #expect(parser.next() == .failure(.malformedRequestLine))
        #expect(parser.next() == nil)
    }
}
