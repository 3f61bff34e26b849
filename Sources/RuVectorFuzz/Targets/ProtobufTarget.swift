@_spi(Fuzzing) import Services
import VectorDatabase
import VectorEngine
import Wire

/// Bytes into the decoder of every request type (`WireMessage.init(decoding:)`, protobuf-c
/// behind the Wire validator), then into VectorService's mapping for the requests it maps:
/// collection configurations (a collection is then made from it and given a few points),
/// points (inserted into an in-memory collection), filters and searches (run against a
/// small collection). Invariant: a decoded message re-encodes to bytes that decode to the
/// same encoding.
///
/// Input: one byte choosing the request type (`SampleRequests.requestTypes`), then the message.
final class ProtobufTarget: FuzzTarget {
    static let name = "protobuf"
    let maxInputBytes = 64 << 10
    private let catalog: CollectionCatalog
    private let docs: DurableCollection
    private let limits = VectorServiceLimits()
    private var scratch: VectorCollection
    private var scratchUpserts = 0

    init(workDirectory: String) throws {
        catalog = try Fixtures.catalog(in: workDirectory + "/data")
        guard let docs = catalog.get("docs") else { throw FuzzSetupError("the fixture collection is missing") }
        self.docs = docs
        scratch = try VectorCollection(Self.scratchConfig)
    }

    private static let scratchConfig = CollectionConfig(name: "scratch", dimension: 8, metric: .l2Squared)

    var dictionary: [[UInt8]] {
        [Array("docs".utf8), Array("550e8400-e29b-41d4-a716-446655440003".utf8), [0x0A, 0x04] + Array("docs".utf8),
         [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x12, 0x00], [0x1A, 0x00], [0x22, 0x00]]
    }

    func seedCorpus() throws -> [[UInt8]] {
        SampleRequests.all.compactMap { message in
            SampleRequests.typeIndex(of: message).map { [UInt8($0)] + message.encoded() }
        }
    }

    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) -> Bool {
        guard let selector = input.first else { return false }
        if random.below(16) == 0 {
            // The same bytes read as another type.
            input[0] = UInt8(random.below(SampleRequests.requestTypes.count))
            return true
        }
        var message = Array(input.dropFirst())
        guard ProtobufMutator.mutate(&message, random: &random) else { return false }
        input = [selector] + message
        return true
    }

    func run(_ input: [UInt8]) throws -> FuzzOutcome {
        guard let selector = input.first else { return .rejected }
        let type = SampleRequests.requestTypes[Int(selector) % SampleRequests.requestTypes.count]
        let message = try type.init(decoding: Array(input.dropFirst()))
        let encoded = message.encoded()
        let again: any WireMessage
        do { again = try type.init(decoding: encoded) } catch {
            throw FuzzFinding("\(type.protoFullName): its own encoding of a decoded message does not decode: \(error)")
        }
        guard again.encoded() == encoded else {
            throw FuzzFinding("\(type.protoFullName): decode(encode(message)) encodes differently")
        }
        try map(message)
        return .accepted
    }

    /// What VectorService does with the request, without a server.
    private func map(_ message: any WireMessage) throws {
        switch message {
        case let request as RuvectorV1.CreateCollectionRequest:
            let config = try VectorServiceMapping.config(request, limits: limits)
            let collection = try VectorCollection(config)
            try collection.upsert((0..<3).map { VectorPoint(id: UInt64($0), vector: Fixtures.vector($0, dimension: config.dimension)) })
            _ = try collection.search(Fixtures.vector(1, dimension: config.dimension), k: 2)
        case let request as RuvectorV1.UpsertRequest:
            let points = try VectorServiceMapping.points(request, catalog: catalog, limits: limits).enumerated().map { index, point in
                VectorPoint(id: UInt64(index), vector: point.vector, payload: point.payload)
            }
            try scratch.validate(points)
            try scratch.upsert(points)
            _ = try scratch.search(Fixtures.vector(2, dimension: 8), k: 3)
            scratchUpserts += 1
            if scratchUpserts % 1000 == 0 { scratch = try VectorCollection(Self.scratchConfig) }
        case var request as RuvectorV1.SearchRequest:
            request.collection = "docs"
            _ = try VectorServiceMapping.search(request, catalog: catalog, limits: limits)
        case let request as RuvectorV1.SearchBatchRequest:
            for var search in request.searches.prefix(limits.maxSearchesPerBatch) {
                search.collection = "docs"
                _ = try VectorServiceMapping.search(search, catalog: catalog, limits: limits)
            }
        case let request as RuvectorV1.CountRequest:
            _ = try docs.collection.count(filter: try VectorServiceMapping.filter(request.filter, ids: docs, limits: limits))
        case let request as RuvectorV1.ScrollRequest:
            _ = try docs.collection.count(filter: try VectorServiceMapping.filter(request.filter, ids: docs, limits: limits))
        case let request as RuvectorV1.DeleteRequest:
            if case .filter(let filter)? = request.selector {
                _ = try docs.collection.count(filter: try VectorServiceMapping.filter(filter, ids: docs, limits: limits))
            }
        default:
            break
        }
    }

    func finish() {
        for durable in catalog.list() { try? durable.close() }
    }
}
