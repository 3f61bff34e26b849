#if canImport(Glibc)
import Glibc
#endif
import Logging
import Testing
@testable import RPC

/// Bytes that look like a search response with text payloads (repetitive, low entropy).
private func textLike(_ count: Int) -> [UInt8] {
    let words = Array("vector search payload title category tags score ".utf8)
    return (0..<count).map { words[($0 * 7 + $0 / 13) % words.count] }
}

/// Seeded pseudo-random bytes (float vectors look like this to deflate).
private func noise(_ count: Int, seed: UInt64 = 0x5EED) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

/// A call compression as the server makes it for a client sending `accept`.
private func negotiated(accept: String?, configured: CompressionAlgorithm? = .gzip, thresholdBytes: Int = 1024,
                        requestEncoding: CompressionAlgorithm? = nil) -> CallCompression {
    CallCompression(requestEncoding: requestEncoding, acceptEncoding: accept, configured: configured,
                    thresholdBytes: thresholdBytes, maxEntropyBitsPerByte: 7.0)
}

/// This process's resident set and its peak since the last reset, in bytes (Linux).
private func residentBytes() -> (now: Int, peak: Int)? {
    guard let file = fopen("/proc/self/status", "r") else { return nil }
    defer { fclose(file) }
    var now = 0, peak = 0
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let kilobytes = Int(text.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        if text.hasPrefix("VmRSS:") { now = kilobytes << 10 }
        if text.hasPrefix("VmHWM:") { peak = kilobytes << 10 }
    }
    return (now, peak)
}

/// Resets the peak resident set (VmHWM) to the current one; false where the kernel refuses.
private func resetPeakResident() -> Bool {
    guard let file = fopen("/proc/self/clear_refs", "w") else { return false }
    defer { fclose(file) }
    return fputs("5", file) >= 0
}

@Suite("gRPC message compression (gzip, deflate)")
struct CompressionTests {
    @Test("gzip and deflate round trip: empty, one byte, text, noise, 1 MiB", arguments: CompressionAlgorithm.allCases)
    func roundTrip(algorithm: CompressionAlgorithm) throws {
        for message in [[], [42], textLike(10_000), noise(10_000), textLike(1 << 20)] as [[UInt8]] {
            let compressed = Zlib.compress(message, algorithm: algorithm, level: CallCompression.level)
            #expect(try Zlib.inflate(compressed[...], algorithm: algorithm, limitBytes: message.count) == message)
        }
        let text = textLike(100_000)
        #expect(Zlib.compress(text, algorithm: algorithm, level: 1).count < text.count / 10)
    }

    @Test("gzip is RFC 1952 framing, deflate is zlib (RFC 1950) framing, as gRPC's C core sends them")
    func framing() throws {
        let gzip = Zlib.compress(textLike(100), algorithm: .gzip, level: 1)
        #expect(gzip.prefix(3) == [0x1F, 0x8B, 0x08])
        let deflate = Zlib.compress(textLike(100), algorithm: .deflate, level: 1)
        #expect(deflate[0] & 0x0F == 8 && (Int(deflate[0]) << 8 | Int(deflate[1])) % 31 == 0)
        // Each reads only its own framing.
        #expect(throws: Zlib.InflateFailure.self) { try Zlib.inflate(gzip[...], algorithm: .deflate, limitBytes: 1000) }
        #expect(throws: Zlib.InflateFailure.self) { try Zlib.inflate(deflate[...], algorithm: .gzip, limitBytes: 1000) }
    }

    @Test("corrupt, truncated and trailing bytes are refused with a reason", arguments: CompressionAlgorithm.allCases)
    func corrupt(algorithm: CompressionAlgorithm) throws {
        let good = Zlib.compress(textLike(50_000), algorithm: algorithm, level: 1)
        var flipped = good
        flipped[good.count / 2] ^= 0xFF
        for bad in [flipped, Array(good.dropLast(7)), good + [0, 1, 2], noise(300), []] {
            do {
                _ = try Zlib.inflate(bad[...], algorithm: algorithm, limitBytes: 1 << 20)
                Issue.record("inflated bad input of \(bad.count) bytes")
            } catch {
                guard case .corrupt(let reason) = error else { Issue.record("\(error)"); continue }
                #expect(!reason.isEmpty)
            }
        }
    }

    @Test("a bomb (256 MiB of zeros in a few hundred KB) stops at the limit, and memory stays near the limit")
    func bomb() throws {
        let bomb = Zlib.compress([UInt8](repeating: 0, count: 256 << 20), algorithm: .gzip, level: 9)
        #expect(bomb.count < 1 << 20)
        let limit = 4 << 20
        // Exactly at the limit is fine; one byte less is not.
        let small = Zlib.compress([UInt8](repeating: 0, count: limit), algorithm: .deflate, level: 1)
        #expect(try Zlib.inflate(small[...], algorithm: .deflate, limitBytes: limit).count == limit)
        #expect(throws: Zlib.InflateFailure.tooLarge(limitBytes: limit - 1)) {
            try Zlib.inflate(small[...], algorithm: .deflate, limitBytes: limit - 1)
        }

        let canMeasure = resetPeakResident()
        let before = residentBytes()
        #expect(throws: Zlib.InflateFailure.tooLarge(limitBytes: limit)) {
            try Zlib.inflate(bomb[...], algorithm: .gzip, limitBytes: limit)
        }
        if canMeasure, let before, let after = residentBytes() {
            // The output may reach the limit plus zlib's work space; 256 MiB would show.
            #expect(after.peak - before.now < limit + (24 << 20), "peak grew \(after.peak - before.now) bytes")
        }
    }

    @Test("the deframer lets a compressed message through only on a call with an encoding; other flags are refused")
    func deframerFlags() throws {
        let framed = MessageFraming.frame([9, 9], compressed: true)
        #expect(framed.prefix(5) == [1, 0, 0, 0, 2])
        var plain = MessageDeframer(maxMessageBytes: 10)
        #expect(throws: MessageDeframer.Failure.compressedWithoutEncoding) { _ = try framed.withUnsafeBytes { try plain.append($0) } }
        var encoded = MessageDeframer(maxMessageBytes: 10, acceptsCompressed: true)
        let messages = try (framed + MessageFraming.frame([7])).withUnsafeBytes { try encoded.append($0) }
        #expect(messages == [ReceivedMessage(bytes: [9, 9], wasCompressed: true), ReceivedMessage(bytes: [7])])
        var flagged = MessageDeframer(maxMessageBytes: 10, acceptsCompressed: true)
        #expect(throws: MessageDeframer.Failure.unknownFlag(2)) { _ = try ([2, 0, 0, 0, 0] as [UInt8]).withUnsafeBytes { try flagged.append($0) } }
    }

    @Test("grpc-accept-encoding lists are parsed leniently; unknown names are ignored")
    func acceptEncoding() {
        #expect(CompressionAlgorithm.accepted(by: "identity,deflate,gzip") == [.gzip, .deflate])
        #expect(CompressionAlgorithm.accepted(by: " GZIP , snappy") == [.gzip])
        #expect(CompressionAlgorithm.accepted(by: "identity").isEmpty)
        #expect(CompressionAlgorithm(encoding: "identity") == nil && CompressionAlgorithm(encoding: "deflate") == .deflate)
    }

    @Test("responses are compressed only when the client accepts the configured algorithm, above the threshold, and not float-like")
    func responsePolicy() throws {
        let large = textLike(4096), small = textLike(1000)
        // No grpc-accept-encoding (our Swift client): nothing is announced or compressed.
        let silent = negotiated(accept: nil)
        #expect(silent.announcedEncoding(firstMessage: .automatic) == nil)
        #expect(silent.announcedEncoding(firstMessage: .compressed) == nil)
        #expect(!silent.outbound(large, .compressed, announced: nil).compressed)

        let grpcio = negotiated(accept: "identity,deflate,gzip")
        #expect(grpcio.announcedEncoding(firstMessage: .automatic) == .gzip)
        let compressed = grpcio.outbound(large, .automatic, announced: .gzip)
        #expect(compressed.compressed && compressed.uncompressedBytes == large.count)
        #expect(try Zlib.inflate(compressed.bytes[...], algorithm: .gzip, limitBytes: large.count) == large)
        // Under the threshold, float-like bytes, or asked plain: sent as they are.
        #expect(!grpcio.outbound(small, .automatic, announced: .gzip).compressed)
        #expect(!grpcio.outbound(noise(100_000), .automatic, announced: .gzip).compressed)
        #expect(!grpcio.outbound(large, .uncompressed, announced: .gzip).compressed)
        // Asked explicitly: compressed whatever the size.
        #expect(grpcio.outbound([1], .compressed, announced: .gzip).compressed)

        // The client lists only deflate while the server is configured for gzip: the policy
        // does not compress, an explicit request uses deflate.
        let deflateOnly = negotiated(accept: "deflate")
        #expect(deflateOnly.announcedEncoding(firstMessage: .automatic) == nil)
        #expect(deflateOnly.announcedEncoding(firstMessage: .compressed) == .deflate)
        // Policy off: nothing unless asked.
        let off = negotiated(accept: "gzip", configured: nil)
        #expect(off.announcedEncoding(firstMessage: .automatic) == nil)
        #expect(off.announcedEncoding(firstMessage: .compressed) == .gzip)
    }

    @Test("byte entropy tells float-like bytes from protobuf with text")
    func entropy() {
        #expect(ByteEntropy.bitsPerByte(noise(100_000)) > 7.5)
        #expect(ByteEntropy.bitsPerByte(textLike(100_000)) < 5)
        #expect(ByteEntropy.bitsPerByte([UInt8](repeating: 3, count: 10)) == 0)
        #expect(ByteEntropy.bitsPerByte([]) == 0)
    }

    @Test("a server call inflates compressed requests: INTERNAL for corrupt data, RESOURCE_EXHAUSTED past the message limit or the connection's room")
    func callInflation() throws {
        let call = ServerCall(streamID: 1, maxMessageBytes: 1 << 20, sendHighWaterMarkBytes: 1 << 20, receiveHighWaterMarkBytes: 1 << 20)
        call.negotiate(negotiated(accept: nil, requestEncoding: .deflate))
        #expect(call.deframer.acceptsCompressed)
        let text = textLike(100_000)
        var messages = [ReceivedMessage(bytes: Zlib.compress(text, algorithm: .deflate, level: 1), wasCompressed: true),
                        ReceivedMessage(bytes: [1, 2, 3])]
        #expect(call.inflate(&messages, maxMessageBytes: 1 << 20, roomBytes: 1 << 30) == nil)
        #expect(messages == [ReceivedMessage(bytes: text, wasCompressed: true), ReceivedMessage(bytes: [1, 2, 3])])

        var corrupt = [ReceivedMessage(bytes: noise(64), wasCompressed: true)]
        #expect(call.inflate(&corrupt, maxMessageBytes: 1 << 20, roomBytes: 1 << 30)?.code == .internal)

        var tooLarge = [ReceivedMessage(bytes: Zlib.compress(text, algorithm: .deflate, level: 1), wasCompressed: true)]
        let overLimit = call.inflate(&tooLarge, maxMessageBytes: 50_000, roomBytes: 1 << 30)
        #expect(overLimit?.code == .resourceExhausted && overLimit?.message.contains("max_receive_message_bytes") == true)
        // The second message finds less room: the first one's inflated bytes count.
        var twice = [ReceivedMessage(bytes: Zlib.compress(text, algorithm: .deflate, level: 1), wasCompressed: true),
                     ReceivedMessage(bytes: Zlib.compress(text, algorithm: .deflate, level: 1), wasCompressed: true)]
        let overRoom = call.inflate(&twice, maxMessageBytes: 1 << 20, roomBytes: 150_000)
        #expect(overRoom?.code == .resourceExhausted
                && overRoom?.message.contains("max_connection_buffered_request_bytes") == true)
    }

    @Test("our Swift client advertises no grpc-accept-encoding, so the server never compresses to it, even with threshold 0")
    func swiftClientGetsPlainResponses() async throws {
        var router = RPCRouter()
        let text = textLike(200_000)
        router.registerUnary(service: "test.Compression", method: "Large") { _, _, _ in text }
        router.registerServerStreaming(service: "test.Compression", method: "Stream") { _, writer, _ in
            for _ in 0..<3 { try await writer.send(text) }
        }
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopThreads: 1)
        configuration.responseCompressionThresholdBytes = 0
        let server = GRPCServer(configuration: configuration, router: router, logger: Logger(label: "test"))
        try await server.start()
        let channel = try await GRPCChannel.connect(host: "127.0.0.1", port: try #require(server.localPort))
        // The client's deframer refuses a compressed message (it negotiated none): a response
        // compressed to it would fail the call with INTERNAL.
        do {
            #expect(try await channel.unary("/test.Compression/Large", request: []).response == text)
            let call = try await channel.makeCall(path: "/test.Compression/Stream")
            try await call.send([])
            call.closeSend()
            var received: [[UInt8]] = []
            for try await message in call.responses { received.append(message) }
            #expect(received == [text, text, text])
        } catch {
            Issue.record("call failed: \(error)")
        }
        await channel.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("a channel that compresses its requests: the server inflates them, tells the handler, and bounds them; the connection serves on",
          arguments: CompressionAlgorithm.allCases)
    func compressedRequests(algorithm: CompressionAlgorithm) async throws {
        var router = RPCRouter()
        // Answers the request's size and whether it came compressed.
        router.register(service: "test.Compression", method: "Inspect") { requests, writer, _ in
            let message = try await requests.singleMessage()
            try await writer.send(Array("\(message.bytes.count) \(message.wasCompressed)".utf8))
        }
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, maxReceiveMessageBytes: 256 << 10, eventLoopThreads: 1)
        configuration.responseCompressionThresholdBytes = 0
        let server = GRPCServer(configuration: configuration, router: router, logger: Logger(label: "test"))
        try await server.start()
        let channel = try await GRPCChannel.connect(host: "127.0.0.1", port: try #require(server.localPort),
                                                    requestCompression: algorithm)
        func inspect(_ request: [UInt8]) async throws -> String {
            String(decoding: try await channel.unary("/test.Compression/Inspect", request: request).response, as: UTF8.self)
        }
        do {
            #expect(try await inspect(textLike(100_000)) == "100000 true")
            // Small or float-like messages go plain, on the same call encoding.
            #expect(try await inspect(textLike(100)) == "100 false")
            #expect(try await inspect(noise(10_000)) == "10000 false")
            // 1 MiB of text compresses to a few KB, under the 256 KiB limit on the wire, and
            // stops inflating at the limit.
            do {
                _ = try await inspect(textLike(1 << 20))
                Issue.record("a request inflating past the limit was accepted")
            } catch let error as RPCError {
                #expect(error.code == .resourceExhausted && error.message.contains("max_receive_message_bytes"), "\(error)")
            }
            #expect(try await inspect(textLike(200_000)) == "200000 true")
        } catch {
            Issue.record("call failed: \(error)")
        }
        await channel.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }
}
