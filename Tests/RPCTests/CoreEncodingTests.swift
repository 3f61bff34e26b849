import Testing
@testable import RPC

@Suite("gRPC wire encodings")
struct CoreEncodingTests {
    @Test("percent-encoding follows the gRPC spec and round-trips",
          arguments: [("", ""), ("plain text", "plain text"), ("100%", "100%25"),
                      ("\t\ntab", "%09%0Atab"), ("é", "%C3%A9"),
                      ("\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n",
                       "%09%0Atest with whitespace%0D%0Aand Unicode BMP %E2%98%BA and non-BMP %F0%9F%98%88%09%0A")])
    func percentEncoding(text: String, encoded: String) {
        #expect(PercentEncoding.encode(text) == encoded)
        #expect(PercentEncoding.decode(encoded) == text)
    }

    @Test("malformed percent sequences are kept literally")
    func percentDecodingTolerates() {
        #expect(PercentEncoding.decode("50%") == "50%")
        #expect(PercentEncoding.decode("%zz") == "%zz")
    }

    @Test("grpc-timeout parsing", arguments: [
        ("1S", Int64(1_000_000_000)), ("250m", 250_000_000), ("7u", 7_000), ("3n", 3),
        ("2M", 120_000_000_000), ("1H", 3_600_000_000_000), ("99999999S", 99_999_999_000_000_000),
    ])
    func timeoutParsing(value: String, nanos: Int64) {
        #expect(GRPCTimeout.parseNanos(value) == nanos)
    }

    @Test("malformed grpc-timeout is refused", arguments: ["", "S", "10", "1x", "123456789S", "-1S", "1.5S"])
    func timeoutMalformed(value: String) {
        #expect(GRPCTimeout.parseNanos(value) == nil)
    }

    @Test("timeout formatting uses at most 8 digits and never rounds down")
    func timeoutFormatting() {
        #expect(GRPCTimeout.format(nanos: 1) == "1n")
        #expect(GRPCTimeout.format(nanos: 1_000_000_000) == "1000000u")
        #expect(GRPCTimeout.format(nanos: 123_456_789_012) == "123457m")
        for nanos: Int64 in [5, 999_999_999, 86_400_000_000_000] {
            let text = GRPCTimeout.format(nanos: nanos)
            #expect(text.count <= 9)
            #expect(GRPCTimeout.parseNanos(text)! >= nanos)
        }
    }

    @Test("base64 round-trips every length, with and without padding")
    func base64() {
        var bytes: [UInt8] = []
        for length in 0..<40 {
            let encoded = Base64.encode(bytes)
            #expect(Base64.decode(encoded) == bytes)
            #expect(Base64.decode(String(encoded.prefix { $0 != "=" })) == bytes)
            bytes.append(UInt8(truncatingIfNeeded: length * 37 + 11))
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.decode("Zm9vYg==") == Array("foob".utf8))
        #expect(Base64.decode("not base64!") == nil)
        #expect(Base64.decode("A") == nil)
    }

    @Test("deframer splits, reassembles and enforces the size limit")
    func deframer() throws {
        var deframer = MessageDeframer(maxMessageBytes: 10)
        let stream = MessageFraming.frame([1, 2, 3]) + MessageFraming.frame([]) + MessageFraming.frame(Array(repeating: 9, count: 10))
        var messages: [[UInt8]] = []
        // Feed one byte at a time: every split point must work.
        for byte in stream {
            messages += try [byte].withUnsafeBytes { try deframer.append($0) }.map(\.bytes)
        }
        #expect(messages == [[1, 2, 3], [], Array(repeating: 9, count: 10)])
        try deframer.finish()

        var small = MessageDeframer(maxMessageBytes: 10)
        #expect(throws: MessageDeframer.Failure.tooLarge(declaredBytes: 11, limitBytes: 10)) {
            _ = try MessageFraming.frame(Array(repeating: 0, count: 11)).withUnsafeBytes { try small.append($0) }
        }
        var compressed = MessageDeframer(maxMessageBytes: 10)
        #expect(throws: MessageDeframer.Failure.compressedWithoutEncoding) {
            _ = try ([1, 0, 0, 0, 1, 7] as [UInt8]).withUnsafeBytes { try compressed.append($0) }
        }
        var truncated = MessageDeframer(maxMessageBytes: 10)
        _ = try ([0, 0, 0, 0, 4, 1] as [UInt8]).withUnsafeBytes { try truncated.append($0) }
        #expect(throws: MessageDeframer.Failure.truncated(missingBytes: 3)) { try truncated.finish() }
    }

    @Test("metadata keeps order, lower-cases keys and carries binary values")
    func metadata() {
        var metadata = Metadata()
        metadata.add("X-Custom", "one")
        metadata.add("trace-bin", bytes: [0, 255, 10])
        let fields = metadata.headerFields
        #expect(fields == [HTTP2Header(name: "x-custom", value: "one"), HTTP2Header(name: "trace-bin", value: "AP8K")])
        let received = Metadata(receivedHeaders: fields + [HTTP2Header(name: "grpc-status", value: "0"),
                                                           HTTP2Header(name: ":path", value: "/x")])
        #expect(received == metadata)
        #expect(received["x-custom"] == "one")
        #expect(received.binaryValues(forKey: "trace-bin") == [[0, 255, 10]])
    }

    @Test("reserved header fields are never metadata; others are, whatever their length; keys in any case")
    func reservedFields() {
        let reserved = [":path", ":authority", "content-type", "te", "user-agent", "grpc-timeout", "grpc-encoding",
                        "grpc-accept-encoding", "grpc-status", "grpc-message", "grpc-status-details-bin",
                        "content-length", "connection", "host", "accept-encoding"]
        for name in reserved { #expect(Metadata.isReserved(name), "\(name)") }
        // Same lengths as reserved names, one letter off; and names that start like them.
        for name in ["tf", "hosts", "hose", "user-agenT", "grpc-statux", "content-typf", "grpc-timeouts", "x-grpc-message",
                     "authorization", "x-api-key", "grpc-status-details-bim", "accept-encodinh"] {
            #expect(!Metadata.isReserved(name), "\(name)")
        }
        var upper = Metadata()
        upper.add("X-Ünïcode-Key", "v")
        #expect(upper["x-ünïcode-key"] == "v" && upper["X-ÜNÏCODE-KEY"] == "v")
    }

    @Test("a call's start reads exactly its eight request fields")
    func requestFields() {
        let fields: [(String, RequestField)] = [(":method", .method), (":path", .path), ("content-type", .contentType),
            ("grpc-encoding", .encoding), ("grpc-accept-encoding", .acceptEncoding), ("grpc-timeout", .timeout),
            ("origin", .origin), ("access-control-request-headers", .requestedHeaders)]
        for (name, field) in fields { #expect(RequestField(name: name) == field, "\(name)") }
        for name in [":scheme", ":authority", "te", "grpc-message", "origins", "content-typf", "user-agent", ""] {
            #expect(RequestField(name: name) == nil, "\(name)")
        }
    }

    @Test("deframer fuzz: random bytes in random chunks never crash; valid streams reassemble exactly")
    func deframerFuzz() throws {
        let seed: UInt64 = 0xF2A3_0001
        var rng = SplitMix(seed: seed)
        for round in 0..<2_000 {
            // A valid stream of random messages, fed in random chunk sizes.
            let messages = (0..<Int.random(in: 0...6, using: &rng)).map { _ in
                (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            var stream = messages.flatMap { MessageFraming.frame($0) }
            var deframer = MessageDeframer(maxMessageBytes: 300)
            var received: [[UInt8]] = []
            var offset = 0
            while offset < stream.count {
                let size = Int.random(in: 1...64, using: &rng)
                let chunk = Array(stream[offset..<min(offset + size, stream.count)])
                received += try chunk.withUnsafeBytes { try deframer.append($0) }.map(\.bytes)
                offset += size
            }
            #expect(received == messages, "seed \(seed) round \(round)")
            // Then corrupt it: any outcome but a crash is fine.
            if !stream.isEmpty {
                stream[Int.random(in: 0..<stream.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            var corrupted = MessageDeframer(maxMessageBytes: 300)
            _ = try? stream.withUnsafeBytes { try corrupted.append($0) }
            _ = try? corrupted.finish()
        }
    }
}

/// SplitMix64: a seeded generator so a failing round reproduces from the printed seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
