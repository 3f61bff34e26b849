/// How a `GRPCServer` listens and what it accepts.
public struct ServerConfiguration: Sendable {
    /// Host or IP address to bind, e.g. `127.0.0.1` or `0.0.0.0`.
    public var host: String
    /// TCP port; 0 picks a free one (see `GRPCServer.localPort`).
    public var port: Int
    /// TLS settings; nil serves plain HTTP/2 with prior knowledge (h2c).
    public var tls: TLSConfiguration?
    /// Largest request message accepted; larger ones end the call with RESOURCE_EXHAUSTED.
    public var maxReceiveMessageBytes: Int
    /// Largest response message sent; a handler sending more gets RESOURCE_EXHAUSTED.
    public var maxSendMessageBytes: Int
    /// Per-stream bytes queued for a slow client before `ResponseWriter.send` waits.
    public var sendHighWaterMarkBytes: Int
    /// Request bytes received but not yet read by a handler before the window stops growing.
    public var receiveHighWaterMarkBytes: Int
    /// Concurrent streams per connection.
    public var maxConcurrentStreams: UInt32
    /// Largest header block (metadata) accepted per request.
    public var maxHeaderListBytes: Int
    /// Event-loop threads; 0 means one per core.
    public var eventLoopThreads: Int
    /// Told about every call a handler served (method path, final status code, time from
    /// the request headers to the status), e.g. for metrics. Calls to unknown paths are
    /// not reported (a hostile client must not be able to grow a metrics table).
    public var callObserver: (@Sendable (_ path: String, _ code: StatusCode, _ duration: Duration) -> Void)?

    public init(host: String = "127.0.0.1", port: Int = 50051, tls: TLSConfiguration? = nil,
                maxReceiveMessageBytes: Int = 64 << 20, maxSendMessageBytes: Int = 64 << 20,
                sendHighWaterMarkBytes: Int = 1 << 20, receiveHighWaterMarkBytes: Int = 4 << 20,
                maxConcurrentStreams: UInt32 = 1024, maxHeaderListBytes: Int = 16 << 10,
                eventLoopThreads: Int = 0) {
        self.host = host
        self.port = port
        self.tls = tls
        self.maxReceiveMessageBytes = maxReceiveMessageBytes
        self.maxSendMessageBytes = maxSendMessageBytes
        self.sendHighWaterMarkBytes = sendHighWaterMarkBytes
        self.receiveHighWaterMarkBytes = receiveHighWaterMarkBytes
        self.maxConcurrentStreams = maxConcurrentStreams
        self.maxHeaderListBytes = maxHeaderListBytes
        self.eventLoopThreads = eventLoopThreads
        self.callObserver = nil
    }

    var http2Limits: HTTP2Limits {
        var limits = HTTP2Limits()
        limits.maxConcurrentStreams = maxConcurrentStreams
        limits.maxHeaderListBytes = maxHeaderListBytes
        return limits
    }
}
