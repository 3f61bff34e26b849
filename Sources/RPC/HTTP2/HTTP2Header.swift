/// One HTTP/2 header field as the RPC layer sees it (names are lower-case).
struct HTTP2Header: Sendable, Equatable {
    var name: String
    var value: String
}

/// HTTP/2 error codes (RFC 9113 section 7) used in RST_STREAM and GOAWAY.
enum HTTP2ErrorCode: UInt32, Sendable, CustomStringConvertible {
    case noError = 0x0
    case protocolError = 0x1
    case internalError = 0x2
    case flowControlError = 0x3
    case refusedStream = 0x7
    case cancel = 0x8
    case enhanceYourCalm = 0xb
    case inadequateSecurity = 0xc

    /// The RFC's name, e.g. `ENHANCE_YOUR_CALM`.
    var description: String {
        switch self {
        case .noError: "NO_ERROR"
        case .protocolError: "PROTOCOL_ERROR"
        case .internalError: "INTERNAL_ERROR"
        case .flowControlError: "FLOW_CONTROL_ERROR"
        case .refusedStream: "REFUSED_STREAM"
        case .cancel: "CANCEL"
        case .enhanceYourCalm: "ENHANCE_YOUR_CALM"
        case .inadequateSecurity: "INADEQUATE_SECURITY"
        }
    }
}

/// GOAWAY debug data (RFC 9113 section 6.8) as text safe to log and show.
enum HTTP2GoawayText {
    /// Printable ASCII, at most 200 characters: a peer controls these bytes.
    static func printable(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes.prefix(200).map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }

    /// The error code and debug text of a GOAWAY frame at the start of `bytes` (a server that
    /// refuses a connection before its preface sends only that), or nil.
    static func leadingGoaway(_ bytes: [UInt8]) -> (errorCode: UInt32, debugData: String)? {
        guard bytes.count >= 17, bytes[3] == 0x07 else { return nil }
        let length = Int(bytes[0]) << 16 | Int(bytes[1]) << 8 | Int(bytes[2])
        guard length >= 8 else { return nil }
        let code = bytes[13..<17].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return (code, printable(bytes[17..<min(bytes.count, 9 + length)]))
    }
}

/// What a data provider hands to the session when asked for body bytes.
enum HTTP2DataChunk: Equatable {
    /// `count` bytes were written into the buffer; `end` says how the body ends, if it does.
    case data(count: Int, end: HTTP2BodyEnd?)
    /// Nothing to send yet; the owner calls `resumeData(streamID:)` when there is.
    case deferred
}

/// How a request or response body ends.
enum HTTP2BodyEnd: Equatable {
    /// END_STREAM on the last DATA frame.
    case endStream
    /// A trailing HEADERS frame (gRPC status) closes the stream.
    case trailers([HTTP2Header])
}

/// Limits applied by the session to what a peer may send.
struct HTTP2Limits: Sendable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS we announce.
    var maxConcurrentStreams: UInt32 = 1024
    /// SETTINGS_INITIAL_WINDOW_SIZE we announce (per stream receive window).
    var initialWindowBytes: UInt32 = 1 << 20
    /// The connection-level receive window we open up to.
    var connectionWindowBytes: Int32 = 16 << 20
    /// Largest total size of one header block we accept (names + values).
    var maxHeaderListBytes: Int = 16 << 10
    /// SETTINGS_MAX_FRAME_SIZE we announce.
    var maxFrameBytes: UInt32 = 16 << 10
}

/// Events an `HTTP2Session` reports to its owner, always on the owner's thread.
protocol HTTP2SessionDelegate: AnyObject {
    /// A complete header block arrived (request headers, response headers or trailers).
    func http2ReceivedHeaders(streamID: Int32, headers: [HTTP2Header], endStream: Bool)
    /// A complete header block was larger than `HTTP2Limits.maxHeaderListBytes`; its fields
    /// were dropped. The stream is still open: the owner answers or resets it.
    func http2HeadersTooLarge(streamID: Int32)
    /// Body bytes arrived for a stream.
    func http2ReceivedData(streamID: Int32, bytes: UnsafeRawBufferPointer)
    /// The peer finished its side of the stream with a DATA frame carrying END_STREAM.
    func http2ReceivedEndStream(streamID: Int32)
    /// The stream is closed (both sides done, or reset by either side).
    func http2StreamClosed(streamID: Int32, errorCode: UInt32)
    /// The session asks for body bytes to send on a stream.
    func http2ProvideData(streamID: Int32, into buffer: UnsafeMutableRawBufferPointer) -> HTTP2DataChunk
    /// The peer sent a SETTINGS frame (not an acknowledgement); the first one completes its
    /// connection preface.
    func http2ReceivedSettings()
    /// The peer sent GOAWAY; `debugData` is its reason as printable text (possibly empty).
    func http2ReceivedGoaway(lastStreamID: Int32, errorCode: UInt32, debugData: String)
    /// The peer sent a PING (`ack` false; nghttp2 answers it) or acknowledged one of ours.
    func http2ReceivedPing(ack: Bool, payload: UInt64)
}
