import SeededRandom
import Testing
@testable import Wire

@Suite("generated wire types round-trip through protobuf-c")
struct WireRoundTripTests {
    @Test("enums, including values this build does not know")
    func enums() throws {
        for status in [GrpcHealthV1.HealthCheckResponse.ServingStatus.serving, .notServing, .serviceUnknown, .unknown,
                       .unrecognized(42)] {
            let response = GrpcHealthV1.HealthCheckResponse(status: status)
            #expect(try GrpcHealthV1.HealthCheckResponse(decoding: response.encoded()) == response)
        }
        #expect(RuvectorV1.Metric(rawValue: 2) == .cosine)
        #expect(RuvectorV1.Metric.manhattan.rawValue == 4)
    }

    @Test("scalars, bytes, nested messages, repeated fields")
    func messagesOfEveryShape() throws {
        var request = GrpcTesting.SimpleRequest()
        request.responseSize = 314_159
        request.payload = GrpcTesting.Payload(body: [0, 1, 2, 255])
        request.responseStatus = GrpcTesting.EchoStatus(code: -7, message: "tab\tand ☺ and 😈")
        request.fillUsername = true
        #expect(try GrpcTesting.SimpleRequest(decoding: request.encoded()) == request)

        var search = RuvectorV1.SearchRequest()
        search.collection = "docs"
        search.vector = RuvectorV1.Vector(values: [0.5, -1.25, .greatestFiniteMagnitude, 0])
        search.k = 10
        search.threshold = .scoreThreshold(0.75)
        search.tag = .max
        search.with = RuvectorV1.WithOptions(withPayload: true, payloadKeys: ["lang", "année"])
        let decoded = try RuvectorV1.SearchRequest(decoding: search.encoded())
        #expect(decoded == search)
        #expect(decoded.vector?.values == [0.5, -1.25, .greatestFiniteMagnitude, 0])
    }

    @Test("oneofs and recursive messages (filters within filters), maps as entry lists")
    func recursionAndOneofs() throws {
        let leaf = RuvectorV1.Condition(kind: .field(RuvectorV1.FieldCondition(
            key: "lang", test: .match(RuvectorV1.Match(kind: .anyKeywords(RuvectorV1.RepeatedStrings(values: ["swift", "c"])))))))
        let range = RuvectorV1.Condition(kind: .field(RuvectorV1.FieldCondition(
            key: "year", test: .range(RuvectorV1.Range(gtBound: .gt(2020), lteBound: .lte(2026))))))
        let inner = RuvectorV1.Filter(must: [leaf], should: [range], minShould: 1)
        let outer = RuvectorV1.Filter(must: [RuvectorV1.Condition(kind: .filter(inner))],
                                      mustNot: [RuvectorV1.Condition(kind: .isNull(RuvectorV1.IsNullCondition(key: "x")))])
        #expect(try RuvectorV1.Filter(decoding: outer.encoded()) == outer)

        var payload = RuvectorV1.Struct()
        payload.fields = [
            RuvectorV1.Struct.FieldsEntry(key: "n", value: RuvectorV1.Value(kind: .intValue(-3))),
            RuvectorV1.Struct.FieldsEntry(key: "tags", value: RuvectorV1.Value(kind: .listValue(
                RuvectorV1.ListValue(values: [RuvectorV1.Value(kind: .stringValue("a")), RuvectorV1.Value(kind: .nullValue(true))])))),
        ]
        #expect(try RuvectorV1.Struct(decoding: payload.encoded()) == payload)
    }

    @Test("empty messages and defaults encode to nothing and decode back")
    func defaults() throws {
        #expect(GrpcTesting.Empty().encoded().isEmpty)
        #expect(RuvectorV1.SearchRequest().encoded().isEmpty)
        #expect(try RuvectorV1.SearchRequest(decoding: []) == RuvectorV1.SearchRequest())
    }

    @Test("bytes from the reference implementation decode: a known encoding")
    func knownEncoding() throws {
        // SimpleRequest{response_size: 150, payload: {body: "ab"}} as the protobuf spec encodes it.
        let bytes: [UInt8] = [0x10, 0x96, 0x01, 0x1A, 0x04, 0x12, 0x02, 0x61, 0x62]
        let request = try GrpcTesting.SimpleRequest(decoding: bytes)
        #expect(request.responseSize == 150)
        #expect(request.payload?.body == Array("ab".utf8))
        #expect(request.encoded() == bytes)
    }
}

@Suite("hostile input is refused cleanly")
struct WireHostileInputTests {
    @Test("a string holding U+0000 is refused, not cut")
    func nulInString() {
        // HealthCheckRequest{service: "a\0b"}
        let error = #expect(throws: WireError.self) {
            _ = try GrpcHealthV1.HealthCheckRequest(decoding: [0x0A, 0x03, 0x61, 0x00, 0x62])
        }
        #expect(error?.code == .stringContainsNUL)
    }

    @Test("invalid UTF-8 in a string is refused")
    func invalidUTF8() {
        let error = #expect(throws: WireError.self) {
            _ = try GrpcHealthV1.HealthCheckRequest(decoding: [0x0A, 0x02, 0xC3, 0x28])
        }
        #expect(error?.code == .invalidUTF8)
    }

    @Test("nesting deeper than the limit is refused before protobuf-c recurses")
    func tooDeep() throws {
        // Filter.must[0] = Condition{filter: Filter{must[0] = Condition{...}}} nested 200 levels.
        var bytes: [UInt8] = []
        for _ in 0..<200 {
            let condition = [0x12] + varint(bytes.count) + bytes      // Condition.filter = 2
            bytes = [0x0A] + varint(condition.count) + condition       // Filter.must = 1
        }
        let error = #expect(throws: WireError.self) { _ = try RuvectorV1.Filter(decoding: bytes) }
        #expect(error?.code == .tooDeep)

        // 20 levels (40 messages deep) is fine.
        var shallow = RuvectorV1.Filter()
        for _ in 0..<20 { shallow = RuvectorV1.Filter(must: [RuvectorV1.Condition(kind: .filter(shallow))]) }
        #expect(try RuvectorV1.Filter(decoding: shallow.encoded()) == shallow)
    }

    @Test("truncated input is malformed", arguments: [[0x10], [0x10, 0x96], [0x1A, 0x04, 0x12], [0x1A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]])
    func truncated(bytes: [UInt8]) {
        let error = #expect(throws: WireError.self) { _ = try GrpcTesting.SimpleRequest(decoding: bytes) }
        #expect(error?.code == .malformed)
    }

    @Test("seeded random mutations of valid encodings never crash and round-trip when accepted")
    func mutationFuzz() throws {
        let seed: UInt64 = 0x5EED_2026
        var rng = SeededGenerator(seed: seed)
        var search = RuvectorV1.SearchRequest(collection: "docs", vector: RuvectorV1.Vector(values: [1, 2, 3]), k: 5)
        search.filter = RuvectorV1.Filter(must: [RuvectorV1.Condition(kind: .field(RuvectorV1.FieldCondition(
            key: "lang", test: .match(RuvectorV1.Match(kind: .keyword("swift"))))))])
        let seeds: [[UInt8]] = [
            search.encoded(),
            GrpcTesting.SimpleRequest(responseSize: 9, payload: GrpcTesting.Payload(body: [1, 2, 3])).encoded(),
            GrpcReflectionV1.ServerReflectionRequest(host: "h", messageRequest: .fileContainingSymbol("a.B")).encoded(),
        ]
        var accepted = 0, refused = 0
        for iteration in 0..<20_000 {
            var bytes = seeds[iteration % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                switch Int.random(in: 0..<4, using: &rng) {
                case 0 where !bytes.isEmpty: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
                case 2 where !bytes.isEmpty: bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng))
                default: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
                }
            }
            let message: any WireMessage
            do {
                switch iteration % seeds.count {
                case 0: message = try RuvectorV1.SearchRequest(decoding: bytes)
                case 1: message = try GrpcTesting.SimpleRequest(decoding: bytes)
                default: message = try GrpcReflectionV1.ServerReflectionRequest(decoding: bytes)
                }
            } catch {
                refused += 1
                continue
            }
            // Whatever was accepted must survive a re-encode/decode unchanged: a re-parse that
            // throws is a failure of this test, not a refusal of hostile bytes.
            accepted += 1
            do {
                #expect(try reparse(message), "seed \(seed), iteration \(iteration)")
            } catch {
                Issue.record("seed \(seed), iteration \(iteration): an accepted message did not re-parse: \(error)")
            }
        }
        #expect(accepted > 100 && refused > 100, "seed \(seed): accepted \(accepted), refused \(refused)")
    }

    private func reparse(_ message: any WireMessage) throws -> Bool {
        func check<M: WireMessage>(_ message: M) throws -> Bool { try M(decoding: message.encoded()) == message }
        return try check(message)
    }

    private func varint(_ value: Int) -> [UInt8] {
        var value = UInt64(value), out: [UInt8] = []
        repeat {
            let byte = UInt8(value & 0x7F)
            value >>= 7
            out.append(value == 0 ? byte : byte | 0x80)
        } while value != 0
        return out
    }
}

@Suite("embedded descriptors for reflection")
struct EmbeddedDescriptorsTests {
    @Test("every served service is listed and resolvable to its file with dependencies")
    func services() throws {
        let names = Set(EmbeddedDescriptors.serviceNames)
        for service in ["ruvector.v1.VectorService", "ruvector.v1.GraphService", "ruvector.v1.LearnService",
                        "ruvector.v1.RouteService", "ruvector.v1.ClusterService", "grpc.health.v1.Health",
                        "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"] {
            #expect(names.contains(service))
            let file = try #require(EmbeddedDescriptors.fileName(containingSymbol: service))
            #expect(EmbeddedDescriptors.fileDescriptor(named: file) != nil)
        }
        #expect(EmbeddedDescriptors.fileName(containingSymbol: "ruvector.v1.VectorService.Search") == "ruvector/v1/vector.proto")
        #expect(EmbeddedDescriptors.fileName(containingSymbol: "ruvector.v1.Struct.FieldsEntry") == "ruvector/v1/common.proto")
        #expect(EmbeddedDescriptors.transitiveFiles(from: "ruvector/v1/vector.proto")
                == ["ruvector/v1/vector.proto", "ruvector/v1/common.proto"])
        #expect(EmbeddedDescriptors.fileName(containingSymbol: "no.Such") == nil)
    }

    @Test("descriptor bytes are well-formed FileDescriptorProtos naming their file")
    func descriptorBytes() throws {
        for name in EmbeddedDescriptors.fileNames {
            let bytes = try #require(EmbeddedDescriptors.fileDescriptor(named: name))
            // Field 1 (name) comes first: tag 0x0A, length, then the file name.
            #expect(bytes.first == 0x0A)
            #expect(bytes.count > name.utf8.count + 2)
            #expect(Array(bytes[2..<(2 + name.utf8.count)]) == Array(name.utf8))
        }
    }
}
