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
    /// Checks every call's credentials before its handler runs (`CallAuthorizer`); nil lets
    /// every call through.
    public var authorizer: (any CallAuthorizer)?

    // MARK: gRPC-Web (HTTP/1.1 and HTTP/2 on the same port; see docs/grpc-web.md)

    /// Browser origins (`https://console.example.com`) whose pages may call the server with
    /// gRPC-Web: their CORS preflights are answered and their responses carry
    /// `Access-Control-Allow-Origin`. Empty (the default): no cross-origin access.
    public var corsAllowedOrigins: Set<String> = []
    /// Files answered to `GET` and `HEAD` on the main port (the web console, docs/console.md);
    /// nil (the default): `GET` is refused like any method other than `POST`.
    public var staticSite: StaticSite?

    // MARK: Connection hygiene (a client must not hold connections or memory forever)

    /// Connections served at once; past it a new connection gets the server preface and a
    /// GOAWAY (ENHANCE_YOUR_CALM, "server at its connection limit (N)") and is closed.
    public var maxConnections = 4096
    /// Time a new connection has to finish its TLS handshake (with TLS) and send the HTTP/2
    /// client preface and first SETTINGS; past it the connection is closed.
    public var handshakeTimeout = Duration.seconds(10)
    /// Time a connection may stay without an open stream before a graceful GOAWAY
    /// (NO_ERROR) closes it; clients reconnect when they next call. `.zero` turns it off.
    public var idleTimeout = Duration.seconds(300)
    /// Time without progress after which a stalled peer loses: a stream whose response
    /// waits on a closed flow-control window is reset (CANCEL), a call holding part of a
    /// request message fails (CANCELLED), and a connection stopped inside a frame or whose
    /// output cannot leave (socket or connection window full) is closed.
    public var streamStallTimeout = Duration.seconds(60)
    /// Request bytes one connection may hold at once, across its streams: unfinished
    /// messages, messages not yet read by a handler, unary requests awaiting their end of
    /// stream. The call whose bytes would pass it fails with RESOURCE_EXHAUSTED.
    public var maxConnectionBufferedRequestBytes = 256 << 20

    // MARK: Keepalive and connection ageing (what meshes and load balancers expect; see ConnectionKeepalive)

    /// Time without a received byte after which the server PINGs the client; `.zero` turns
    /// server pings off. 2 minutes: under the idle timeouts of common NATs and load
    /// balancers (4 minutes and up), so a quiet call's path stays open.
    public var keepaliveTime = Duration.seconds(120)
    /// Time a server PING may go unanswered (nothing received) before the connection is
    /// closed: a dead peer or a half-open TCP connection. 20 s, as in gRPC.
    public var keepaliveTimeout = Duration.seconds(20)
    /// Client PINGs closer together than this are strikes; past two strikes (a HEADERS or DATA
    /// frame from the server clears them) the client gets GOAWAY ENHANCE_YOUR_CALM
    /// "too_many_pings". `.zero`: no minimum. 10 s, more lenient than gRPC's 5 minutes: a
    /// client tuned for gRPC servers works, so does one that pings every 10 s to keep a NAT
    /// open, and a flood is still stopped after three pings.
    public var keepaliveMinPingInterval = Duration.seconds(10)
    /// Whether client PINGs on a connection without calls follow `keepaliveMinPingInterval`;
    /// when false (gRPC's default) they may come once every two hours.
    public var keepalivePermitWithoutCalls = false
    /// Age at which a connection is told to go away (graceful GOAWAY, jittered by up to
    /// 10% either way), so clients reconnect and a load balancer can spread them again;
    /// `.zero` (the default): no limit.
    public var maxConnectionAge = Duration.zero
    /// Time calls get to finish after the max-age GOAWAY before they are cancelled and the
    /// connection closed; `.zero` (the default): no limit.
    public var maxConnectionAgeGrace = Duration.zero

    // MARK: Compression (gRPC compression spec: grpc-encoding, grpc-accept-encoding, the message flag)
    // Requests compressed with gzip or deflate are always read; these settle what responses use.

    /// Algorithm response messages are compressed with when the client's
    /// `grpc-accept-encoding` lists it; nil never compresses under the policy (a handler can
    /// still ask for one message, `MessageCompression.compressed`).
    public var responseCompression: CompressionAlgorithm? = nil
    /// Smallest response message the policy compresses: below it, compression saves too few
    /// bytes to pay for its CPU time (docs/benchmarks/compression.md).
    public var responseCompressionThresholdBytes = 1024
    /// The policy sends plain a message whose sampled bytes measure more than this many bits
    /// per byte (order-0 entropy of 4 KB sampled across it): float vectors measure 7.3-7.4
    /// and deflate to 0.85-0.93 of their size at up to 80 µs per 10 KB, protobuf with text
    /// payloads 5.6 and deflates to 0.27-0.40. 8 turns the check off.
    public var responseCompressionMaxEntropyBitsPerByte = 7.0

    /// The compression of a call with these request headers.
    func callCompression(requestEncoding: CompressionAlgorithm?, acceptEncoding: String?) -> CallCompression {
        CallCompression(requestEncoding: requestEncoding, acceptEncoding: acceptEncoding,
                        configured: responseCompression, thresholdBytes: responseCompressionThresholdBytes,
                        maxEntropyBitsPerByte: responseCompressionMaxEntropyBitsPerByte)
    }

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
        self.authorizer = nil
    }

    /// The connection timeouts in the form `ConnectionTimeouts` takes.
    var timeoutLimits: ConnectionTimeouts.Limits {
        ConnectionTimeouts.Limits(handshakeNanos: Self.nanoseconds(handshakeTimeout),
                                  idleNanos: Self.nanoseconds(idleTimeout),
                                  stallNanos: Self.nanoseconds(streamStallTimeout))
    }

    /// How often a connection checks its timeouts: a quarter of the shortest one, between
    /// 10 ms and 1 s, so a timeout fires at most a quarter late and idle connections cost
    /// one cheap check a second at the defaults.
    var timeoutCheckIntervalNanos: Int64 {
        let limits = timeoutLimits, keepalive = keepalivePolicy(maxAgeJitter: -1)
        let clocks = [limits.handshakeNanos, limits.stallNanos, limits.idleNanos, keepalive.pingIntervalNanos,
                      keepalive.pingIntervalNanos > 0 || keepalive.maxAgeNanos > 0 ? keepalive.pingTimeoutNanos : 0,
                      keepalive.maxAgeNanos, keepalive.maxAgeGraceNanos]
        let shortest = clocks.filter { $0 > 0 }.min() ?? 1_000_000_000
        return Int64(min(max(shortest / 4, 10_000_000), 1_000_000_000))
    }

    /// The keepalive and ageing policy of one connection; `maxAgeJitter` (-1 to 1) spreads
    /// the age limit by up to 10% either way.
    func keepalivePolicy(maxAgeJitter: Double) -> ConnectionKeepalive.Policy {
        ConnectionKeepalive.Policy(
            pingIntervalNanos: Self.nanoseconds(keepaliveTime), pingTimeoutNanos: Self.nanoseconds(keepaliveTimeout),
            minPingIntervalNanos: Self.nanoseconds(keepaliveMinPingInterval), permitWithoutCalls: keepalivePermitWithoutCalls,
            maxAgeNanos: ConnectionKeepalive.jittered(Self.nanoseconds(maxConnectionAge), jitter: maxAgeJitter),
            maxAgeGraceNanos: Self.nanoseconds(maxConnectionAgeGrace))
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole &+ UInt64(attoseconds / 1_000_000_000)
    }

    /// What an HTTP/1.1 request may hold: the head as large as an HTTP/2 header block, the
    /// body one request message with its prefix, base64-encoded (text mode) at most.
    var http1Limits: HTTP1RequestParser.Limits {
        var limits = HTTP1RequestParser.Limits()
        limits.maxHeadBytes = maxHeaderListBytes
        let framed = maxReceiveMessageBytes.addingReportingOverflow(MessageFraming.prefixBytes + 2).partialValue
        limits.maxBodyBytes = framed / 3 * 4 + 1024
        return limits
    }

    var http2Limits: HTTP2Limits {
        var limits = HTTP2Limits()
        limits.maxConcurrentStreams = maxConcurrentStreams
        limits.maxHeaderListBytes = maxHeaderListBytes
        return limits
    }
}
