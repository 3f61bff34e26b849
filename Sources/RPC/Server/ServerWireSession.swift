import NIOCore

/// What `SessionPump` needs of a session: bytes in, bytes out, and whether it is still open.
protocol WireSession: AnyObject {
    /// Feeds bytes read from the socket; throws when the connection must close (after the
    /// output, which may say why, is written).
    func receive(_ bytes: UnsafeRawBufferPointer) throws(HTTP2SessionError)
    /// Appends everything the session wants to send to `buffer`.
    func drainOutput(into buffer: inout ByteBuffer) throws(HTTP2SessionError)
    /// False once the session is finished and the connection should close.
    var isActive: Bool { get }
}

/// The server side of a connection's protocol, as `ServerConnectionHandler` drives it: HTTP/2
/// (`HTTP2Session`, nghttp2) or HTTP/1.1 (`HTTP1Session`, gRPC-Web only). Calls are streams
/// either way; the session reports them to its `HTTP2SessionDelegate`.
protocol ServerWireSession: WireSession {
    func submitResponse(streamID: Int32, headers: [HTTP2Header], hasBody: Bool)
    func resumeData(streamID: Int32)
    func resetStream(streamID: Int32, code: HTTP2ErrorCode)
    func resetWhenEnded(streamID: Int32)
    func consume(streamID: Int32, count: Int)
    func submitShutdownNotice()
    func submitGoaway(code: HTTP2ErrorCode, debugData: String)
    func submitPing(payload: UInt64)
    var connectionSendWindowBytes: Int { get }
    func streamSendWindowBytes(streamID: Int32) -> Int
    var headersAndDataFramesSent: UInt64 { get }
}

extension HTTP2Session: ServerWireSession {}
