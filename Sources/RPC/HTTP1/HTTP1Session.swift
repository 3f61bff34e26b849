import NIOCore

/// HTTP/1.1 on the server's main port, for gRPC-Web. Each request becomes a stream (odd ids,
/// numbered as HTTP/2 would) reported to the same `HTTP2SessionDelegate` as an HTTP/2 stream,
/// so it becomes the same call, with the same checks, limits and deadlines.
///
/// Requests are answered in order, one at a time: a pipelined request is parsed once the
/// response before it is complete (at most `maxPipelinedBytes` wait; past that the connection
/// closes after the current response). Response bodies are chunked, so server-streaming
/// responses leave as they are produced. A response that ends before its request body is
/// complete (an early error) is followed by reading and dropping the rest of that body.
/// A malformed request is answered with a 4xx/5xx and the connection closes.
final class HTTP1Session: ServerWireSession {
    private unowned let delegate: any HTTP2SessionDelegate
    private var parser: HTTP1RequestParser
    private let maxPipelinedBytes: Int
    /// Bytes to write before any more body: response heads, `100 Continue`, refusals.
    private var pending: [UInt8] = []
    private var nextStreamID: Int32 = 1
    /// The stream whose request body is being read.
    private var requestStream: Int32?
    /// The stream whose response is awaited or being written.
    private var response: Response?
    private var closeAfterResponse = false
    private var closing = false
    /// Pipelined bytes past the bound are dropped (the connection closes after the response).
    private var ignoringInput = false
    private var processing = false
    private var sawRequest = false
    private var scratch = [UInt8](repeating: 0, count: 16 << 10)
    private(set) var headersAndDataFramesSent: UInt64 = 0

    private struct Response {
        let streamID: Int32
        var started = false
        /// Its head is sent and its chunked body is being written.
        var streaming = false
        /// The delegate had nothing to send; `resumeData` wakes it.
        var deferred = false
        /// Everything is queued in `pending` or written; the stream closes at the next drain.
        var complete = false
    }

    init(delegate: any HTTP2SessionDelegate, limits: HTTP1RequestParser.Limits) {
        self.delegate = delegate
        self.parser = HTTP1RequestParser(limits: limits)
        self.maxPipelinedBytes = limits.maxHeadBytes + (64 << 10)
    }

    /// True in the middle of a request (for the stall checks); not while a complete request
    /// waits for its response with a pipelined one behind it.
    var holdsPartialInput: Bool {
        (requestStream != nil || response == nil) && parser.holdsPartialInput
    }

    // MARK: WireSession

    func receive(_ bytes: UnsafeRawBufferPointer) throws(HTTP2SessionError) {
        guard !closing, !ignoringInput else { return }
        parser.append(bytes)
        process()
        if response != nil, requestStream == nil, parser.bufferedBytes > maxPipelinedBytes {
            ignoringInput = true
            closeAfterResponse = true
        }
    }

    func drainOutput(into buffer: inout ByteBuffer) throws(HTTP2SessionError) {
        while true {
            writePending(into: &buffer)
            guard let current = response, !closing else { break }
            if current.complete {
                // Closed here, not when it was submitted, as nghttp2 closes streams while
                // sending: the delegate is never re-entered from its own submit.
                endResponse(current.streamID)
                continue
            }
            guard current.streaming, !current.deferred else { break }
            let chunk = scratch.withUnsafeMutableBytes { delegate.http2ProvideData(streamID: current.streamID, into: $0) }
            switch chunk {
            case .deferred:
                response?.deferred = true
            case .data(let count, let end):
                if count > 0 {
                    buffer.writeString(String(count, radix: 16) + "\r\n")
                    buffer.writeBytes(scratch[0..<count])
                    buffer.writeString("\r\n")
                    headersAndDataFramesSent &+= 1
                }
                if end != nil {
                    buffer.writeString("0\r\n\r\n")
                    response?.complete = true
                } else if count == 0 {
                    response?.deferred = true
                }
            }
        }
    }

    var isActive: Bool { !closing }

    // MARK: Requests

    /// Turns parsed events into stream events, while no complete request waits for its answer.
    private func process() {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        while !closing {
            if requestStream == nil, response != nil { return }
            guard let event = parser.next() else { return }
            switch event {
            case .head(let head):
                begin(head)
            case .body(let bytes):
                // Once its stream closed (answered early), the rest of a body is dropped here.
                guard let id = requestStream, response?.streamID == id else { continue }
                bytes.withUnsafeBytes { delegate.http2ReceivedData(streamID: id, bytes: $0) }
            case .end:
                guard let id = requestStream else { continue }
                requestStream = nil
                if response?.streamID == id { delegate.http2ReceivedEndStream(streamID: id) }
            case .failure(let error):
                refuse(error)
            }
        }
    }

    private func begin(_ head: HTTP1RequestHead) {
        let id = nextStreamID
        nextStreamID += 2
        if nextStreamID > Int32.max - 4 || !head.keepAlive { closeAfterResponse = true }
        requestStream = id
        response = Response(streamID: id)
        if head.expectsContinue { pending += "HTTP/1.1 100 Continue\r\n\r\n".utf8 }
        if !sawRequest {
            // The first request plays the HTTP/2 preface's part for the handshake timeout.
            sawRequest = true
            delegate.http2ReceivedSettings()
        }
        var headers = [HTTP2Header(name: ":method", value: head.method), HTTP2Header(name: ":path", value: head.target),
                       HTTP2Header(name: ":scheme", value: "http")]
        for field in head.fields {
            switch field.name {
            case "host": headers.append(HTTP2Header(name: ":authority", value: field.value))
            case "connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection", "content-length", "expect":
                break
            default: headers.append(field)
            }
        }
        delegate.http2ReceivedHeaders(streamID: id, headers: headers, endStream: false)
    }

    /// Answers a malformed request and closes; a call it had started is cancelled.
    private func refuse(_ error: HTTP1ParseError) {
        requestStream = nil
        let started = response?.started ?? false
        if let current = response {
            response = nil
            delegate.http2StreamClosed(streamID: current.streamID, errorCode: HTTP2ErrorCode.cancel.rawValue)
        }
        if !started { pending += Self.refusal(status: error.httpStatus, message: error.message) }
        closing = true
    }

    // MARK: Responses

    func submitResponse(streamID: Int32, headers: [HTTP2Header], hasBody: Bool) {
        guard var current = response, current.streamID == streamID, !current.started else { return }
        current.started = true
        let status = headers.first { $0.name == ":status" }?.value ?? "200"
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        // A chunked body carries no length (a static file's length is for HEAD and HTTP/2).
        for header in headers where !header.name.hasPrefix(":") && Self.isSafe(header) && !(hasBody && header.name == "content-length") {
            head += "\(header.name): \(header.value)\r\n"
        }
        if closeAfterResponse { head += "connection: close\r\n" }
        if hasBody {
            head += "transfer-encoding: chunked\r\n"
        } else if status != "204" && status != "304" && !headers.contains(where: { $0.name == "content-length" }) {
            head += "content-length: 0\r\n"
        }
        head += "\r\n"
        pending += head.utf8
        headersAndDataFramesSent &+= 1
        current.streaming = hasBody
        current.complete = !hasBody
        response = current
    }

    /// The response is complete: the stream closes, and the next pipelined request is read
    /// (or the connection closes).
    private func endResponse(_ streamID: Int32) {
        response = nil
        delegate.http2StreamClosed(streamID: streamID, errorCode: 0)
        if closeAfterResponse {
            closing = true
            return
        }
        process()
    }

    func resumeData(streamID: Int32) {
        if response?.streamID == streamID { response?.deferred = false }
    }

    /// HTTP/1.1 cannot reset one request: the connection closes.
    func resetStream(streamID: Int32, code: HTTP2ErrorCode) {
        if response?.streamID == streamID || requestStream == streamID { closing = true }
    }

    /// The rest of an answered request's body is read and dropped (see the type's comment).
    func resetWhenEnded(streamID: Int32) {}

    /// No flow control beyond TCP's: the socket's writability is the backpressure.
    func consume(streamID: Int32, count: Int) {}

    func submitShutdownNotice() {
        closeAfterResponse = true
        if response == nil, requestStream == nil, !parser.holdsPartialInput { closing = true }
    }

    /// Closes now. A request being received or awaiting its answer gets a status saying why
    /// (408 for a timeout, 503 otherwise); a response already under way is cut off.
    func submitGoaway(code: HTTP2ErrorCode, debugData: String) {
        guard !closing else { return }
        closing = true
        if response?.started == true { return }
        if response != nil || parser.holdsPartialInput {
            pending += Self.refusal(status: code == .enhanceYourCalm ? 408 : 503, message: debugData)
        }
    }

    func submitPing(payload: UInt64) {}

    var connectionSendWindowBytes: Int { Int.max }

    func streamSendWindowBytes(streamID: Int32) -> Int { Int.max }

    // MARK: Bytes

    private func writePending(into buffer: inout ByteBuffer) {
        guard !pending.isEmpty else { return }
        buffer.writeBytes(pending)
        pending.removeAll(keepingCapacity: true)
    }

    /// A complete plain-text error response that closes the connection.
    static func refusal(status: Int, message: String) -> [UInt8] {
        let body = Array((message + "\n").utf8)
        let head = "HTTP/1.1 \(status) \(reason("\(status)"))\r\ncontent-type: text/plain; charset=utf-8\r\n"
            + "connection: close\r\ncontent-length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// A header that cannot break the response head apart (no line ends or NUL).
    private static func isSafe(_ header: HTTP2Header) -> Bool {
        !header.name.utf8.contains { $0 < 33 || $0 == UInt8(ascii: ":") } && !header.value.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 }
    }

    static func reason(_ status: String) -> String {
        switch status {
        case "200": "OK"
        case "204": "No Content"
        case "400": "Bad Request"
        case "403": "Forbidden"
        case "404": "Not Found"
        case "405": "Method Not Allowed"
        case "408": "Request Timeout"
        case "413": "Content Too Large"
        case "415": "Unsupported Media Type"
        case "431": "Request Header Fields Too Large"
        case "501": "Not Implemented"
        case "503": "Service Unavailable"
        case "505": "HTTP Version Not Supported"
        default: "Status"
        }
    }
}
