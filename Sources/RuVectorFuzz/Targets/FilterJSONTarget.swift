@_spi(Fuzzing) import RuVectorClient
@_spi(Fuzzing) import Services
import VectorDatabase
import VectorEngine
import Wire

/// JSON from users: `PayloadValue(json:)` (the CLI's payloads and `--param` values) and
/// `Filter(json:)` (its `--filter`), followed all the way to the server: the client's wire
/// message, encoded and decoded as the server decodes it, mapped by VectorService and run as a
/// filtered search over a small collection. Invariant: a parsed value's compact text parses
/// back to the same value.
///
/// The server's JSON config file (`ServerSettings`) is read by swift-foundation's JSONDecoder
/// in the server executable and is not reached from here (see docs/fuzzing.md).
final class FilterJSONTarget: FuzzTarget {
    static let name = "filter-json"
    let maxInputBytes = 16 << 10
    private let catalog: CollectionCatalog
    private let limits = VectorServiceLimits()
    private let tokenMutator: TokenMutator

    init(workDirectory: String) throws {
        catalog = try Fixtures.catalog(in: workDirectory + "/data")
        tokenMutator = TokenMutator(dictionary: Self.words, maxBytes: maxInputBytes)
    }

    var dictionary: [[UInt8]] { Self.words.map { Array($0.utf8) } }

    func seedCorpus() throws -> [[UInt8]] { Self.seeds.map { Array($0.utf8) } }

    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) -> Bool {
        tokenMutator.mutate(&input, random: &random, corpus: corpus)
    }

    func run(_ input: [UInt8]) throws -> FuzzOutcome {
        let value = try ClientPayloadValue(jsonBytes: input)
        let text = value.jsonText
        let again: ClientPayloadValue
        do { again = try ClientPayloadValue(json: text) } catch {
            throw FuzzFinding("the JSON text of a parsed value does not parse: \(error) in \(text.prefix(200))")
        }
        guard again == value else { throw FuzzFinding("JSON round trip changed the value: \(text.prefix(200))") }

        let filter = try Filter(json: String(decoding: input, as: UTF8.self))
        let wire = filter.wireMessage
        // What the server decodes: a key holding U+0000 is refused here, as on the wire.
        let received = try RuvectorV1.Filter(decoding: wire.encoded())
        guard received.encoded() == wire.encoded() else { throw FuzzFinding("the filter's wire encoding did not round trip") }
        let search = RuvectorV1.SearchRequest(collection: "docs", vector: RuvectorV1.Vector(values: Fixtures.vector(5, dimension: 8)),
                                              k: 10, filter: received)
        _ = try VectorServiceMapping.search(search, catalog: catalog, limits: limits)
        var exact = search
        exact.params = RuvectorV1.SearchParams(exact: true)
        _ = try VectorServiceMapping.search(exact, catalog: catalog, limits: limits)
        return .accepted
    }

    static let seeds = [
        #"{"lang": "swift", "year": 2024}"#, #"{"must": [{"key": "lang", "match": "rust"}]}"#,
        #"{"must": [{"key": "year", "range": {"gte": 2010, "lt": 2020}}], "must_not": [{"key": "draft", "match": true}]}"#,
        #"{"should": [{"key": "lang", "match": {"any": ["go", "swift"]}}, {"key": "year", "match": {"except": [2001, 2002]}}], "min_should": 1}"#,
        #"{"must": [{"filter": {"should": [{"key": "tags", "match": "t1"}, {"is_empty": "empty"}]}}, {"is_null": "note"}]}"#,
        #"{"must": [{"has_id": [1, 2, "550e8400-e29b-41d4-a716-446655440003"]}, {"key": "meta", "exists": true}]}"#,
        #"{"must": [{"key": "score", "range": {"gt": -1.5e3, "lte": 3.25}}], "should": [], "must_not": []}"#,
        #"{"must": [{"key": "meta.inner.k", "match": "v"}, {"key": "tags", "match": 2}]}"#,
        #"[1, -2, 3.5e-7, "\u00e9\ud83d\ude00\n", true, false, null, {"a": [[]], "b": {}}]"#,
        #"{"min_should": 2, "should": [{"key": "a", "exists": false}, {"key": "b", "match": -9223372036854775808}]}"#,
    ]

    static let words = [
        #"{"#, #"}"#, #"["#, #"]"#, #","#, #":"#, #""must""#, #""should""#, #""must_not""#, #""min_should""#, #""key""#,
        #""match""#, #""any""#, #""except""#, #""range""#, #""gt""#, #""gte""#, #""lt""#, #""lte""#, #""exists""#,
        #""filter""#, #""has_id""#, #""is_empty""#, #""is_null""#, #""lang""#, #""year""#, #""tags""#, "true", "false",
        "null", "0", "-0", "1e400", "9223372036854775807", "-9223372036854775809", #""\u0000""#, #""\ud800""#,
    ]
}
