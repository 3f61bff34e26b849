import VectorEngine
import Wire

/// Client conversations (the `http2` target's seeds) and the frame-level mutations of them.
enum HTTP2Conversations {
    typealias Frame = HTTP2Frame

    static let clientSettings = Frame.settings([(0x2, 0), (0x3, 100), (0x4, 1 << 20), (0x5, 16384), (0x6, 8192)])

    static func requestHeaders(_ path: String, timeout: String? = "5S", extra: [(String, String)] = []) -> [(String, String)] {
        var fields = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
                      ("content-type", "application/grpc"), ("te", "trailers"), ("user-agent", "ruvector-fuzz")]
        if let timeout { fields.append(("grpc-timeout", timeout)) }
        return fields + [("x-request-id", "42"), ("x-trace-bin", "AAECAw")] + extra
    }

    /// One conversation per served method (its sample request, or an empty one), then the
    /// protocol's other cases: multiplexing, cancellation, split frames, pings, bad requests.
    static func seeds() -> [[UInt8]] {
        var out: [[UInt8]] = []
        for method in WireMethod.all {
            let sample = SampleRequests.all.first { type(of: $0).protoFullName == method.requestType.protoFullName }
            let message = sample?.encoded() ?? []
            let messages = method.clientStreaming ? [message, message] : [message]
            out.append(conversation([clientSettings, Frame.headers(stream: 1, requestHeaders(method.path)),
                                     Frame.grpcData(stream: 1, messages, endStream: true), Frame.ping()]))
        }
        let search = SampleRequests.search.encoded()
        let health = GrpcHealthV1.HealthCheckRequest().encoded()
        let upsert = SampleRequests.realistic.first { $0 is RuvectorV1.UpsertRequest }?.encoded() ?? []
        // Multiplexed streams, interleaved.
        out.append(conversation([clientSettings,
                                 Frame.headers(stream: 1, requestHeaders("/ruvector.v1.VectorService/Search")),
                                 Frame.headers(stream: 3, requestHeaders("/grpc.health.v1.Health/Check")),
                                 Frame.grpcData(stream: 3, [health], endStream: true),
                                 Frame.headers(stream: 5, requestHeaders("/ruvector.v1.VectorService/UpsertStream")),
                                 Frame.grpcData(stream: 1, [search], endStream: true),
                                 Frame.grpcData(stream: 5, [upsert], endStream: false),
                                 Frame.grpcData(stream: 5, [upsert], endStream: true),
                                 Frame.windowUpdate(stream: 0, increment: 1 << 20)]))
        // A client that cancels mid-request and mid-stream.
        out.append(conversation([clientSettings, Frame.headers(stream: 1, requestHeaders("/ruvector.v1.VectorService/SearchStream")),
                                 Frame.grpcData(stream: 1, [search], endStream: false), Frame.rstStream(stream: 1),
                                 Frame.headers(stream: 3, requestHeaders("/grpc.testing.TestService/FullDuplexCall")),
                                 Frame.rstStream(stream: 3, code: 0), Frame.goaway(lastStream: 3)]))
        // A message split over DATA frames, and a header block over HEADERS + CONTINUATION.
        var framed = [UInt8](), split: [Frame] = []
        framed = [0] + Frame.bigEndian(UInt32(search.count)) + search
        for chunkStart in stride(from: 0, to: framed.count, by: 7) {
            let end = min(framed.count, chunkStart + 7)
            split.append(Frame(type: Frame.Kind.data, flags: end == framed.count ? Frame.Flag.endStream : 0, streamID: 1,
                               payload: Array(framed[chunkStart..<end])))
        }
        let block = HPACK.encode(requestHeaders("/ruvector.v1.VectorService/Search"))
        out.append(conversation([clientSettings,
                                 Frame(type: Frame.Kind.headers, flags: 0, streamID: 1, payload: Array(block.prefix(10))),
                                 Frame(type: Frame.Kind.continuation, flags: Frame.Flag.endHeaders, streamID: 1, payload: Array(block.dropFirst(10)))]
                                + split))
        // Padding, priority, settings ack, ping ack.
        out.append(conversation([clientSettings, Frame.settings([], ack: true), Frame.ping(ack: true),
                                 Frame(type: Frame.Kind.priority, flags: 0, streamID: 1, payload: [0, 0, 0, 0, 16]),
                                 Frame(type: Frame.Kind.headers, flags: Frame.Flag.endHeaders | Frame.Flag.padded | Frame.Flag.priority, streamID: 1,
                                       payload: [4, 0, 0, 0, 0, 200] + HPACK.encode(requestHeaders("/grpc.health.v1.Health/Check")) + [0, 0, 0, 0]),
                                 Frame(type: Frame.Kind.data, flags: Frame.Flag.endStream | Frame.Flag.padded, streamID: 1,
                                       payload: [3] + [0] + Frame.bigEndian(UInt32(health.count)) + health + [0, 0, 0])]))
        // Requests the server must refuse: wrong method, content type, encoding, compressed
        // flag, bad timeout, unknown method, a message longer than its frames, trailers.
        let refusals: [[(String, String)]] = [
            [(":method", "GET"), (":scheme", "http"), (":path", "/grpc.health.v1.Health/Check"), ("content-type", "application/grpc")],
            requestHeaders("/grpc.health.v1.Health/Check", extra: [("content-type", "text/plain")]),
            requestHeaders("/grpc.health.v1.Health/Check", extra: [("grpc-encoding", "gzip")]),
            requestHeaders("/grpc.health.v1.Health/Check", timeout: "99999999H"),
            requestHeaders("/grpc.health.v1.Health/Check", timeout: "1n"),
            requestHeaders("/ruvector.v1.VectorService/NoSuchMethod"), requestHeaders("/nope.Service/X"),
        ]
        for fields in refusals {
            out.append(conversation([clientSettings, Frame.headers(stream: 1, fields), Frame.grpcData(stream: 1, [health], endStream: true)]))
        }
        out.append(conversation([clientSettings, Frame.headers(stream: 1, requestHeaders("/grpc.health.v1.Health/Check")),
                                 Frame(type: Frame.Kind.data, flags: 0, streamID: 1, payload: [1] + Frame.bigEndian(UInt32(health.count)) + health),
                                 Frame.headers(stream: 1, [("x-trailer", "1")], endStream: true)]))
        out.append(conversation([clientSettings, Frame.headers(stream: 1, requestHeaders("/grpc.health.v1.Health/Check")),
                                 Frame(type: Frame.Kind.data, flags: Frame.Flag.endStream, streamID: 1, payload: [0, 0x7F, 0xFF, 0xFF, 0xFF, 1, 2])]))
        return out
    }

    static func conversation(_ frames: [Frame]) -> [UInt8] { Frame.encode(preface: true, frames: frames, tail: []) }

    /// Header lists for a HEADERS frame's block: valid ones for every path, and the cases a
    /// server must survive.
    static func headerVariant(random: inout SeededGenerator) -> [(String, String)] {
        let paths = WireMethod.all.map(\.path) + ["/", "", "//", "/a/b/c", "/ruvector.v1.VectorService/", "*", "/%00/x"]
        let path = paths[random.below(paths.count)]
        let timeouts: [String?] = [nil, "1n", "0S", "5S", "100m", "99999999H", "123456789S", "-1S", "S", "1x", "1000000000u"]
        var fields = requestHeaders(path, timeout: timeouts[random.below(timeouts.count)])
        switch random.below(8) {
        case 0: fields.append(("x-big", String(repeating: "v", count: 1 + random.below(40_000))))
        case 1: fields += (0..<(1 + random.below(2000))).map { ("x-many-\($0)", "v") }
        case 2: fields.insert(("X-Upper", "1"), at: 0)
        case 3: fields.append((":path", "/second"))
        case 4: fields.append((":status", "200"))
        case 5: fields.append(("connection", "keep-alive"))
        case 6: fields.append(("grpc-encoding", ["identity", "gzip", "", "deflate, gzip"][random.below(4)]))
        default: fields.append(("x-bin-bin", ["", "!!!", "AAEC", "A", "====", "AAAA="][random.below(6)]))
        }
        if random.below(8) == 0 { fields.shuffle(using: &random) }
        return fields
    }

    /// One frame-level mutation of a conversation; false when it has no frame.
    static func mutate(_ input: inout [UInt8], random: inout SeededGenerator, byteMutator: ByteMutator, corpus: [[UInt8]]) -> Bool {
        var (preface, frames, tail) = Frame.parse(input)
        guard !frames.isEmpty else { return false }
        let at = random.below(frames.count)
        switch random.below(14) {
        case 0:
            let lengths: [UInt32] = [0, 1, UInt32(frames[at].payload.count + 1), UInt32(max(0, frames[at].payload.count - 1)), 16384, 16385, 0xFF_FFFF]
            frames[at].declaredLength = lengths[random.below(lengths.count)]
        case 1:
            frames[at].flags = random.below(2) == 0 ? random.byte() : frames[at].flags ^ [0x1, 0x4, 0x8, 0x20][random.below(4)]
        case 2:
            frames[at].type = random.below(4) == 0 ? random.byte() : UInt8(random.below(10))
        case 3:
            let ids: [UInt32] = [0, 1, 2, 3, 5, 7, 0x7FFF_FFFF, 0x8000_0001, frames[random.below(frames.count)].streamID]
            frames[at].streamID = ids[random.below(ids.count)]
        case 4, 5, 6:
            frames.dropRepeatOrSwap(at: at, random: &random)
        case 7:
            var payload = frames[at].payload
            byteMutator.mutate(&payload, random: &random, corpus: frames.map(\.payload))
            frames[at].payload = payload
        case 8:
            // The gRPC message inside a DATA frame, mutated as protobuf, or its 5-byte prefix.
            guard frames[at].type == Frame.Kind.data, frames[at].payload.count >= 5 else { return false }
            var message = Array(frames[at].payload.dropFirst(5))
            if random.below(3) == 0 {
                let lengths: [UInt32] = [0, UInt32(message.count + 1), 1 << 20, (1 << 20) + 1, 0x7FFF_FFFF, 0xFFFF_FFFF]
                frames[at].payload.replaceSubrange(1..<5, with: Frame.bigEndian(lengths[random.below(lengths.count)]))
                if random.below(2) == 0 { frames[at].payload[0] = random.byte() }
            } else {
                _ = ProtobufMutator.mutate(&message, random: &random)
                frames[at].payload = [frames[at].payload[0]] + Frame.bigEndian(UInt32(message.count)) + message
            }
        case 9:
            guard frames[at].type == Frame.Kind.headers || frames[at].type == Frame.Kind.continuation else { return false }
            frames[at].payload = HPACK.encode(headerVariant(random: &random))
        case 10:
            let extra: [Frame] = [
                Frame.settings([(UInt16(random.below(10)), UInt32(truncatingIfNeeded: random.next()))]),
                Frame.windowUpdate(stream: UInt32(random.below(6)), increment: [0, 1, 0x7FFF_FFFF, 0x8000_0000][random.below(4)]),
                Frame.rstStream(stream: UInt32(random.below(6)), code: UInt32(random.below(14))),
                Frame.ping(ack: random.below(2) == 0), Frame.goaway(lastStream: UInt32(random.below(6)), code: UInt32(random.below(14))),
                Frame(type: Frame.Kind.priority, flags: 0, streamID: 1, payload: [0, 0, 0, 1, 255]),
                Frame(type: Frame.Kind.pushPromise, flags: Frame.Flag.endHeaders, streamID: 1, payload: [0, 0, 0, 2]),
                Frame(type: Frame.Kind.continuation, flags: Frame.Flag.endHeaders, streamID: 1, payload: [0x82]),
            ]
            frames.insert(extra[random.below(extra.count)], at: random.below(frames.count + 1))
        case 11:
            // Many frames of one kind (a flood).
            let count = 1 + random.below(random.below(4) == 0 ? 2000 : 50)
            frames.insert(contentsOf: [Frame](repeating: frames[at], count: count), at: at)
        case 12:
            guard let other = corpus.randomElement(using: &random) else { return false }
            let theirs = Frame.parse(other).frames
            guard !theirs.isEmpty else { return false }
            frames.insert(contentsOf: theirs[random.range(in: theirs.count, maxLength: 4)], at: random.below(frames.count + 1))
        default:
            if random.below(2) == 0 { preface.toggle() } else { tail = (0..<random.below(12)).map { _ in random.byte() } }
        }
        input = Frame.encode(preface: preface, frames: frames, tail: tail)
        return true
    }

    /// How a conversation reaches the server: the preface, then one read per frame, then the rest.
    static func reads(_ input: [UInt8]) -> [[UInt8]] {
        let (preface, frames, tail) = Frame.parse(input)
        var reads: [[UInt8]] = preface ? [Frame.preface] : []
        reads += frames.map(\.bytes)
        if !tail.isEmpty { reads.append(tail) }
        return reads
    }
}
