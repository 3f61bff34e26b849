/// The head of one HTTP/1.1 request: request line and header fields (names lower-cased).
struct HTTP1RequestHead: Equatable {
    var method: String
    var target: String
    /// Header fields in arrival order, names lower-cased, values trimmed of spaces and tabs.
    var fields: [HTTP2Header]
    /// The body's length when it is sent with `Content-Length` (0 when the request has no body).
    var contentLength: Int?
    /// The body comes with `Transfer-Encoding: chunked`.
    var chunked: Bool
    /// The client did not ask to close the connection after this request.
    var keepAlive: Bool
    /// The client waits for `100 Continue` before sending its body.
    var expectsContinue: Bool

    /// True when no body follows the head.
    var hasNoBody: Bool { !chunked && (contentLength ?? 0) == 0 }
}

/// Why bytes cannot be an HTTP/1.1 request; every one ends the connection after an answer.
enum HTTP1ParseError: Error, Equatable {
    case headTooLarge(limitBytes: Int)
    case tooManyFields(limit: Int)
    case malformedRequestLine
    case unsupportedVersion
    case malformedField
    case obsoleteLineFolding
    case missingHost
    case badContentLength
    /// Both `Content-Length` and `Transfer-Encoding` (the shape of request smuggling).
    case conflictingFraming
    case unsupportedTransferEncoding
    case bodyTooLarge(limitBytes: Int)
    case badChunk

    /// The HTTP status the refusal is sent with.
    var httpStatus: Int {
        switch self {
        case .headTooLarge, .tooManyFields: 431
        case .unsupportedVersion: 505
        case .unsupportedTransferEncoding: 501
        case .bodyTooLarge: 413
        default: 400
        }
    }

    /// What to fix, for the refusal's body.
    var message: String {
        switch self {
        case .headTooLarge(let limit): "request head (request line and header fields) larger than \(limit) bytes"
        case .tooManyFields(let limit): "more than \(limit) header fields"
        case .malformedRequestLine: "malformed request line (expected: METHOD SP /path SP HTTP/1.1)"
        case .unsupportedVersion: "only HTTP/1.1 is served (and HTTP/2)"
        case .malformedField: "malformed header field"
        case .obsoleteLineFolding: "header field continued on a new line (obsolete line folding) is refused"
        case .missingHost: "an HTTP/1.1 request needs exactly one Host field"
        case .badContentLength: "Content-Length must be one decimal number"
        case .conflictingFraming: "a request may not carry both Content-Length and Transfer-Encoding"
        case .unsupportedTransferEncoding: "the only transfer coding accepted is 'chunked'"
        case .bodyTooLarge(let limit): "request body larger than \(limit) bytes (max_receive_message_bytes and its framing)"
        case .badChunk: "malformed chunk in a chunked request body"
        }
    }
}

/// A strict, bounded HTTP/1.1 request parser (RFC 9112) for the gRPC-Web path: bytes in,
/// events out, no I/O. Refuses what request smuggling and slowloris rely on: both
/// `Content-Length` and `Transfer-Encoding`, transfer codings other than `chunked`, bare LF
/// line ends, whitespace before a field's colon, folded lines, unbounded heads, chunk sizes
/// and bodies. Requests are parsed one at a time: `next()` yields a request's head, its body
/// pieces and its end, then the next request's head once the caller asks again.
struct HTTP1RequestParser {
    /// What a peer may send.
    struct Limits: Equatable {
        /// The request line and header fields with their line ends (also bounds a chunked
        /// body's trailer section).
        var maxHeadBytes = 16 << 10
        var maxFields = 100
        /// The body after transfer decoding.
        var maxBodyBytes = 4 << 20
    }

    /// One step of the request stream.
    enum Event: Equatable {
        case head(HTTP1RequestHead)
        case body([UInt8])
        /// The request's body is complete.
        case end
        /// The input is not a request; nothing more is parsed.
        case failure(HTTP1ParseError)
    }

    private enum State: Equatable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        /// The body is complete; `.end` comes next.
        case bodyDone
        case failed
    }

    let limits: Limits
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var state = State.head
    private var bodyBytes = 0
    /// The longest chunk-size line accepted (hex digits and extensions).
    static let maxChunkLineBytes = 1024

    init(limits: Limits) {
        self.limits = limits
    }

    /// Bytes received and not yet turned into events.
    var bufferedBytes: Int { buffer.count - readIndex }

    /// True in the middle of a request (a partial head or an unfinished body).
    var holdsPartialInput: Bool { state != .head && state != .failed || bufferedBytes > 0 }


    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard state != .failed else { return }
        if readIndex > 0, readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next event, or nil when more bytes are needed.
    mutating func next() -> Event? {
        switch state {
        case .failed:
            return nil
        case .head:
            return parseHead()
        case .fixedBody(let remaining):
            guard let piece = takeBody(upTo: remaining) else { return nil }
            state = remaining == piece.count ? .bodyDone : .fixedBody(remaining: remaining - piece.count)
            return .body(piece)
        case .chunkSize:
            return parseChunkSize()
        case .chunkData(let remaining):
            guard let piece = takeBody(upTo: remaining) else { return nil }
            state = remaining == piece.count ? .chunkDataEnd : .chunkData(remaining: remaining - piece.count)
            return .body(piece)
        case .chunkDataEnd:
            guard bufferedBytes >= 2 else { return nil }
            guard buffer[readIndex] == 13, buffer[readIndex + 1] == 10 else { return fail(.badChunk) }
            readIndex += 2
            state = .chunkSize
            return next()
        case .trailers:
            return parseTrailers()
        case .bodyDone:
            state = .head
            return .end
        }
    }

    /// Up to `count` buffered body bytes; nil when none are buffered.
    private mutating func takeBody(upTo count: Int) -> [UInt8]? {
        guard bufferedBytes > 0 else { return nil }
        let taken = min(count, bufferedBytes)
        defer { readIndex += taken }
        return Array(buffer[readIndex..<readIndex + taken])
    }

    private mutating func fail(_ error: HTTP1ParseError) -> Event {
        state = .failed
        buffer = []
        readIndex = 0
        return .failure(error)
    }

    /// The index just past the next CRLF at or after `start`, nil when none is buffered yet;
    /// a bare LF is an error (`.some(nil)`).
    private func lineEnd(from start: Int) -> Int?? {
        var index = start
        while index < buffer.count {
            if buffer[index] == 10 {
                guard index > start, buffer[index - 1] == 13 else { return .some(nil) }
                return index + 1
            }
            index += 1
        }
        return nil
    }

    private mutating func parseHead() -> Event? {
        // RFC 9112 section 2.2: empty lines before a request line are ignored.
        while bufferedBytes >= 2, buffer[readIndex] == 13, buffer[readIndex + 1] == 10 { readIndex += 2 }
        var lines: [Range<Int>] = []
        var index = readIndex
        while true {
            guard let found = lineEnd(from: index) else {
                if buffer.count - readIndex > limits.maxHeadBytes { return fail(.headTooLarge(limitBytes: limits.maxHeadBytes)) }
                return nil
            }
            guard let end = found else { return fail(.malformedField) }
            if end - readIndex > limits.maxHeadBytes { return fail(.headTooLarge(limitBytes: limits.maxHeadBytes)) }
            if end - index == 2 { break }
            lines.append(index..<end - 2)
            if lines.count > limits.maxFields + 1 { return fail(.tooManyFields(limit: limits.maxFields)) }
            index = end
        }
        let headEnd = index + 2
        guard let requestLine = lines.first else { return fail(.malformedRequestLine) }
        let parts = buffer[requestLine].split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(Self.isTokenByte),
              !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 32 && $0 < 127 }) else { return fail(.malformedRequestLine) }
        guard parts[2].elementsEqual("HTTP/1.1".utf8) else {
            let looksLikeVersion = parts[2].starts(with: "HTTP/".utf8)
            return fail(looksLikeVersion ? .unsupportedVersion : .malformedRequestLine)
        }
        var head = HTTP1RequestHead(method: String(decoding: parts[0], as: UTF8.self),
                                    target: String(decoding: parts[1], as: UTF8.self),
                                    fields: [], contentLength: nil, chunked: false, keepAlive: true, expectsContinue: false)
        guard head.target.hasPrefix("/") || (head.method == "OPTIONS" && head.target == "*") else {
            return fail(.malformedRequestLine)
        }
        var hosts = 0, transferEncodings = 0
        for line in lines.dropFirst() {
            guard let field = Self.field(buffer[line]) else {
                let first = buffer[line.lowerBound]
                return fail(first == 32 || first == 9 ? .obsoleteLineFolding : .malformedField)
            }
            head.fields.append(field)
            switch field.name {
            case "host":
                hosts += 1
            case "content-length":
                guard head.contentLength == nil, !field.value.isEmpty, field.value.utf8.count <= 18,
                      field.value.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let length = Int(field.value) else {
                    return fail(.badContentLength)
                }
                head.contentLength = length
            case "transfer-encoding":
                transferEncodings += 1
                guard transferEncodings == 1, field.value.lowercased() == "chunked" else {
                    return fail(.unsupportedTransferEncoding)
                }
                head.chunked = true
            case "connection":
                if field.value.lowercased().split(separator: ",").contains(where: { $0.trimmingSpaces() == "close" }) {
                    head.keepAlive = false
                }
            case "expect":
                head.expectsContinue = field.value.lowercased() == "100-continue"
            default:
                break
            }
        }
        guard hosts == 1 else { return fail(.missingHost) }
        if head.chunked, head.contentLength != nil { return fail(.conflictingFraming) }
        if let length = head.contentLength, length > limits.maxBodyBytes {
            return fail(.bodyTooLarge(limitBytes: limits.maxBodyBytes))
        }
        readIndex = headEnd
        bodyBytes = 0
        if head.chunked {
            state = .chunkSize
        } else if let length = head.contentLength, length > 0 {
            state = .fixedBody(remaining: length)
        } else {
            state = .bodyDone
        }
        return .head(head)
    }

    private mutating func parseChunkSize() -> Event? {
        guard let found = lineEnd(from: readIndex) else {
            return bufferedBytes > Self.maxChunkLineBytes ? fail(.badChunk) : nil
        }
        guard let end = found, end - readIndex <= Self.maxChunkLineBytes else { return fail(.badChunk) }
        let line = buffer[readIndex..<end - 2]
        // Extensions (";name=value") are allowed and ignored; the size is 1 to 8 hex digits.
        let digits = line.prefix { $0 != UInt8(ascii: ";") && $0 != 32 && $0 != 9 }
        // Hex digits only: Int(_:radix:) alone would take a sign ("-3").
        guard !digits.isEmpty, digits.count <= 8, digits.allSatisfy({ $0 < 128 && Character(Unicode.Scalar($0)).isHexDigit }),
              let size = Int(String(decoding: digits, as: UTF8.self), radix: 16),
              line.dropFirst(digits.count).allSatisfy({ $0 >= 32 && $0 < 127 || $0 == 9 }) else { return fail(.badChunk) }
        readIndex = end
        guard size > 0 else {
            state = .trailers
            return parseTrailers()
        }
        bodyBytes += size
        guard bodyBytes <= limits.maxBodyBytes else { return fail(.bodyTooLarge(limitBytes: limits.maxBodyBytes)) }
        state = .chunkData(remaining: size)
        return next()
    }

    /// The trailer section after the last chunk: fields are checked and dropped (gRPC-Web
    /// requests carry none), the empty line ends the request.
    private mutating func parseTrailers() -> Event? {
        var index = readIndex
        while true {
            guard let found = lineEnd(from: index) else {
                return buffer.count - readIndex > limits.maxHeadBytes ? fail(.headTooLarge(limitBytes: limits.maxHeadBytes)) : nil
            }
            guard let end = found, end - readIndex <= limits.maxHeadBytes else {
                return fail(found == nil ? .badChunk : .headTooLarge(limitBytes: limits.maxHeadBytes))
            }
            if end - index == 2 {
                readIndex = end
                state = .head
                return .end
            }
            guard Self.field(buffer[index..<end - 2]) != nil else { return fail(.malformedField) }
            index = end
        }
    }

    /// `name: value` with a token name, no space before the colon, and a value without
    /// control bytes other than tab.
    private static func field(_ line: ArraySlice<UInt8>) -> HTTP2Header? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else { return nil }
        let name = line[line.startIndex..<colon]
        guard name.allSatisfy(isTokenByte) else { return nil }
        var value = line[(colon + 1)...]
        guard value.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else { return nil }
        while let first = value.first, first == 32 || first == 9 { value = value.dropFirst() }
        while let last = value.last, last == 32 || last == 9 { value = value.dropLast() }
        return HTTP2Header(name: String(decoding: name, as: UTF8.self).lowercased(), value: String(decoding: value, as: UTF8.self))
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
