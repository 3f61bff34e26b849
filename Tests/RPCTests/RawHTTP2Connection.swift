import NIOCore
import NIOPosix
import Synchronization

/// One HTTP/2 frame as it crossed the wire.
struct RawFrame: Equatable {
    static let data: UInt8 = 0x0, headers: UInt8 = 0x1, rstStream: UInt8 = 0x3, settings: UInt8 = 0x4
    static let ping: UInt8 = 0x6, goaway: UInt8 = 0x7
    static let endStream: UInt8 = 0x1, ack: UInt8 = 0x1, endHeaders: UInt8 = 0x4

    var type: UInt8
    var flags: UInt8
    var streamID: UInt32
    var payload: [UInt8]

    /// The frame's bytes: the 9-byte header (RFC 9113 section 4.1), then the payload.
    var bytes: [UInt8] {
        let length = payload.count
        return [UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags]
            + bigEndian(streamID) + payload
    }

    /// A GOAWAY's last stream id, error code and debug text.
    var goaway: (lastStreamID: UInt32, errorCode: UInt32, debugData: String)? {
        guard type == Self.goaway, payload.count >= 8 else { return nil }
        return (readUInt32(payload, at: 0) & 0x7fff_ffff, readUInt32(payload, at: 4),
                String(decoding: payload[8...], as: UTF8.self))
    }

    /// A RST_STREAM's error code.
    var resetCode: UInt32? { type == Self.rstStream && payload.count == 4 ? readUInt32(payload, at: 0) : nil }

    static func ping(_ payload: UInt64, ack: Bool = false) -> RawFrame {
        RawFrame(type: ping, flags: ack ? Self.ack : 0, streamID: 0, payload: bigEndian(payload))
    }

    /// A gRPC request's HEADERS (HPACK literals, no compression state), ending the block.
    static func request(streamID: UInt32, path: String, extra: [(String, String)] = [], endStream: Bool = false) -> RawFrame {
        let fields = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
                      ("content-type", "application/grpc"), ("te", "trailers")] + extra
        var block: [UInt8] = []
        for (name, value) in fields {
            // Literal header field without indexing, new name (RFC 7541 section 6.2.2).
            block.append(0)
            block += hpackInteger(name.utf8.count, prefixBits: 7) + Array(name.utf8)
            block += hpackInteger(value.utf8.count, prefixBits: 7) + Array(value.utf8)
        }
        return RawFrame(type: headers, flags: endHeaders | (endStream ? Self.endStream : 0), streamID: streamID, payload: block)
    }

    /// One gRPC message in a DATA frame.
    static func message(streamID: UInt32, _ message: [UInt8], endStream: Bool = true) -> RawFrame {
        RawFrame(type: data, flags: endStream ? Self.endStream : 0, streamID: streamID,
                 payload: [0] + bigEndian(UInt32(message.count)) + message)
    }
}

private func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

private func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
}

private func hpackInteger(_ value: Int, prefixBits: Int) -> [UInt8] {
    let limit = (1 << prefixBits) - 1
    guard value >= limit else { return [UInt8(value)] }
    var bytes = [UInt8(limit)], rest = value - limit
    while rest >= 128 {
        bytes.append(UInt8(rest % 128 + 128))
        rest /= 128
    }
    return bytes + [UInt8(rest)]
}

/// A bare HTTP/2 client over TCP for tests that need what real clients never do: ping
/// floods, ignoring the server, opening streams before acknowledging SETTINGS. It answers
/// nothing by itself; a test sends every frame and reads what came back.
final class RawHTTP2Connection: Sendable {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let recorder: Recorder

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, recorder: Recorder) {
        self.group = group
        self.channel = channel
        self.recorder = recorder
    }

    /// Connects and, unless `sendingPreface` is false, sends the client preface and an empty
    /// SETTINGS frame (no ACK of the server's; `sendPreface()` sends them later).
    static func connect(port: Int, sendingPreface: Bool = true) async throws -> RawHTTP2Connection {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let recorder = Recorder()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(recorder) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let connection = RawHTTP2Connection(group: group, channel: channel, recorder: recorder)
        if sendingPreface { try await connection.sendPreface() }
        return connection
    }

    /// The client preface and an empty SETTINGS frame.
    func sendPreface() async throws {
        try await send(Self.preface + RawFrame(type: RawFrame.settings, flags: 0, streamID: 0, payload: []).bytes)
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    func send(_ frames: RawFrame...) async throws {
        try await send(frames.flatMap(\.bytes))
    }

    /// The whole frames received so far.
    var frames: [RawFrame] {
        let bytes = recorder.received.withLock { $0.bytes }
        var frames: [RawFrame] = [], offset = 0
        while offset + 9 <= bytes.count {
            let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            guard offset + 9 + length <= bytes.count else { break }
            frames.append(RawFrame(type: bytes[offset + 3], flags: bytes[offset + 4],
                                   streamID: readUInt32(bytes, at: offset + 5) & 0x7fff_ffff,
                                   payload: Array(bytes[offset + 9..<offset + 9 + length])))
            offset += 9 + length
        }
        return frames
    }

    /// When the server closed the connection, if it has.
    var closedAt: ContinuousClock.Instant? { recorder.received.withLock { $0.closedAt } }

    /// Waits up to `seconds` for `condition` on the frames received; returns whether it held.
    func waitFor(seconds: Double, _ condition: ([RawFrame]) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition(frames) { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition(frames)
    }

    /// Waits up to `seconds` for the server to close the connection; returns whether it did.
    func waitUntilClosed(seconds: Double) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while closedAt == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return closedAt != nil
    }

    func close() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// Keeps every byte the server sends and the moment it closes.
    private final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex<(bytes: [UInt8], closedAt: ContinuousClock.Instant?)>(([], nil))

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLock { $0.bytes += buffer.readableBytesView }
        }

        func channelInactive(context: ChannelHandlerContext) {
            received.withLock { $0.closedAt = .now }
            context.fireChannelInactive()
        }
    }
}
