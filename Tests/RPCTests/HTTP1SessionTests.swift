import NIOCore
import Testing
@testable import RPC

/// Records what an `HTTP1Session` reports and answers its data requests from a queue.
private final class RecordingDelegate: HTTP2SessionDelegate {
    var events: [String] = []
    /// Body bytes to hand out per stream, and whether the body ends after them.
    var bodies: [Int32: (bytes: [UInt8], ends: Bool)] = [:]

    func http2ReceivedHeaders(streamID: Int32, headers: [HTTP2Header], endStream: Bool) {
        let path = headers.first { $0.name == ":path" }?.value ?? "?"
        events.append("headers \(streamID) \(path)")
    }
    func http2HeadersTooLarge(streamID: Int32) { events.append("too large \(streamID)") }
    func http2ReceivedData(streamID: Int32, bytes: UnsafeRawBufferPointer) {
        events.append("data \(streamID) \(String(decoding: bytes, as: UTF8.self))")
    }
    func http2ReceivedEndStream(streamID: Int32) { events.append("end \(streamID)") }
    func http2StreamClosed(streamID: Int32, errorCode: UInt32) { events.append("closed \(streamID) \(errorCode)") }
    func http2ProvideData(streamID: Int32, into buffer: UnsafeMutableRawBufferPointer) -> HTTP2DataChunk {
        guard let body = bodies[streamID] else { return .deferred }
        let count = min(body.bytes.count, buffer.count)
        buffer.copyBytes(from: body.bytes.prefix(count))
        bodies[streamID] = (Array(body.bytes.dropFirst(count)), body.ends)
        let done = body.ends && count == body.bytes.count
        if count == 0 && !done { return .deferred }
        return .data(count: count, end: done ? .endStream : nil)
    }
    func http2ReceivedSettings() { events.append("first request") }
    func http2ReceivedGoaway(lastStreamID: Int32, errorCode: UInt32, debugData: String) {}
    func http2ReceivedPing(ack: Bool, payload: UInt64) {}
}

private func feed(_ session: HTTP1Session, _ text: String) {
    Array(text.utf8).withUnsafeBytes { try? session.receive($0) }
}

private func output(_ session: HTTP1Session) -> String {
    var buffer = ByteBufferAllocator().buffer(capacity: 256)
    try? session.drainOutput(into: &buffer)
    return String(decoding: buffer.readableBytesView, as: UTF8.self)
}

private let ok = [HTTP2Header(name: ":status", value: "200"), HTTP2Header(name: "content-type", value: "application/grpc-web+proto")]

@Suite("HTTP/1.1 session (gRPC-Web)")
struct HTTP1SessionTests {
    @Test("pipelined requests become streams 1, 3, 5 one at a time, answered in order with chunked bodies")
    func pipelining() {
        let delegate = RecordingDelegate()
        let session = HTTP1Session(delegate: delegate, limits: .init())
        let request = { (path: String) in "POST \(path) HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi" }
        feed(session, request("/s/A") + request("/s/B"))
        // The second request waits until the first is answered.
        #expect(delegate.events == ["first request", "headers 1 /s/A", "data 1 hi", "end 1"])
        session.submitResponse(streamID: 1, headers: ok, hasBody: true)
        delegate.bodies[1] = (Array("abc".utf8), true)
        let first = output(session)
        #expect(first.hasPrefix("HTTP/1.1 200 OK\r\ncontent-type: application/grpc-web+proto\r\ntransfer-encoding: chunked\r\n\r\n"))
        #expect(first.contains("3\r\nabc\r\n0\r\n\r\n"))
        #expect(delegate.events.suffix(4) == ["closed 1 0", "headers 3 /s/B", "data 3 hi", "end 3"])
        // A trailers-only answer: Content-Length 0, and the connection stays open.
        session.submitResponse(streamID: 3, headers: ok + [HTTP2Header(name: "grpc-status", value: "5")], hasBody: false)
        #expect(output(session).hasSuffix("grpc-status: 5\r\ncontent-length: 0\r\n\r\n"))
        #expect(session.isActive && delegate.events.last == "closed 3 0")
    }

    @Test("a static file: a chunked GET body carries no content-length; a HEAD answer keeps the file's and adds no 0")
    func staticFile() {
        let delegate = RecordingDelegate()
        let session = HTTP1Session(delegate: delegate, limits: .init())
        let file = [HTTP2Header(name: ":status", value: "200"), HTTP2Header(name: "content-length", value: "3")]
        feed(session, "GET /console/a.js HTTP/1.1\r\nHost: a\r\n\r\n")
        session.submitResponse(streamID: 1, headers: file, hasBody: true)
        delegate.bodies[1] = (Array("x()".utf8), true)
        let get = output(session)
        #expect(get.hasPrefix("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nx()\r\n0\r\n\r\n"), "\(get)")
        feed(session, "HEAD /console/a.js HTTP/1.1\r\nHost: a\r\n\r\n")
        session.submitResponse(streamID: 3, headers: file, hasBody: false)
        #expect(output(session) == "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n")
    }

    @Test("a response before the request's end: the rest of the body is read and dropped, then the next request")
    func earlyAnswer() {
        let delegate = RecordingDelegate()
        let session = HTTP1Session(delegate: delegate, limits: .init())
        feed(session, "POST /s/A HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nab")
        session.submitResponse(streamID: 1, headers: ok + [HTTP2Header(name: "grpc-status", value: "12")], hasBody: false)
        _ = output(session)
        feed(session, "cdefPOST /s/B HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
        #expect(delegate.events.contains("closed 1 0"))
        #expect(!delegate.events.contains("data 1 cdef"), "dropped bytes reach no call: \(delegate.events)")
        #expect(delegate.events.suffix(2) == ["headers 3 /s/B", "end 3"])
    }

    @Test("a malformed request is answered with its status; a call it started is cancelled; the session ends")
    func refusal() {
        let delegate = RecordingDelegate()
        let session = HTTP1Session(delegate: delegate, limits: .init())
        feed(session, "POST /s/A HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        #expect(delegate.events.last == "closed 1 \(HTTP2ErrorCode.cancel.rawValue)")
        #expect(output(session).hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(!session.isActive)
    }

    @Test("Connection: close ends the session after the response, and says so")
    func connectionClose() {
        let delegate = RecordingDelegate()
        let session = HTTP1Session(delegate: delegate, limits: .init())
        feed(session, "POST /s/A HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        session.submitResponse(streamID: 1, headers: ok, hasBody: false)
        #expect(output(session).contains("connection: close\r\n"))
        #expect(!session.isActive)
    }

    @Test("pipelined bytes past the bound are dropped and the session closes after the current response")
    func pipelineBound() {
        let delegate = RecordingDelegate()
        let limits = HTTP1RequestParser.Limits(maxHeadBytes: 1024, maxFields: 10, maxBodyBytes: 1 << 20)
        let session = HTTP1Session(delegate: delegate, limits: limits)
        let big = "POST /s/B HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "x", count: 100_000)
        feed(session, "POST /s/A HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n" + big)
        session.submitResponse(streamID: 1, headers: ok, hasBody: false)
        #expect(output(session).contains("connection: close\r\n"))
        #expect(!session.isActive)
        #expect(!delegate.events.contains { $0.hasPrefix("headers 3") })
    }

    @Test("a forced close answers a request still waiting with its reason")
    func goaway() {
        let delegate = RecordingDelegate()
        let session = HTTP1Session(delegate: delegate, limits: .init())
        feed(session, "POST /s/A HTTP/1.1\r\nHo")
        session.submitGoaway(code: .enhanceYourCalm, debugData: "no complete HTTP/1.1 request head within 1 s")
        let answer = output(session)
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n") && answer.hasSuffix("within 1 s\n"))
        #expect(!session.isActive)
    }
}
