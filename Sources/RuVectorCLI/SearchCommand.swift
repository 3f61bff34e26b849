import ArgumentParser
import RuVectorClient

/// `ruvector search`: nearest neighbours of one vector, or of every vector in a file.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find the nearest neighbours of a vector (or of each vector in a file).",
        discussion: """
            --json prints a list of hits for --vector, and a list of such lists for --vector-file. \
            Scores are similarities, larger is better. On a cluster every shard is searched; with --allow-partial \
            (--vector only) shards that cannot answer are left out and named on stderr.
            """)

    /// Most queries read from a --vector-file.
    static let maxQueries = 100_000

    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Collection to search.") var collection: String
    @Option(name: .long, help: "The query as a JSON list of numbers, e.g. '[0.1, 0.2]'.") var vector: String?
    @Option(name: .customLong("vector-file"), help: "Queries from a .npy, .fvecs or JSON-lines file (ids ignored).") var vectorFile: String?
    @Option(name: .long, help: "Neighbours per query.") var k: Int = 10
    @Option(name: .long, help: "Search candidate list (default: the collection's).") var ef: Int?
    @Flag(name: .long, help: "Exact brute-force search over every point (the ground truth; slower).") var exact = false
    @Option(name: .long, help: #"Payload filter as JSON, e.g. '{"lang": "swift"}' (see README)."#) var filter: String?
    @Option(name: .long, help: "Skip this many best hits (paging).") var offset: Int = 0
    @Option(name: .customLong("score-threshold"), help: "Only hits scoring at least this.") var scoreThreshold: Float?
    @Flag(name: .customLong("with-payload"), help: "Show payloads.") var withPayload = false
    @Flag(name: .customLong("with-vectors"), help: "Show vectors.") var withVectors = false
    @Option(name: .customLong("payload-key"), help: "Show only this payload key (repeatable; implies --with-payload).")
    var payloadKeys: [String] = []
    @OptionGroup var read: ReadFromOptions
    @Flag(name: .customLong("allow-partial"),
          help: "On a cluster: answer from the shards that can when some cannot (--vector only); the missing ones are named on stderr.")
    var allowPartial = false

    var showPayload: Bool { withPayload || !payloadKeys.isEmpty }

    /// A vector given on the command line as a JSON list of numbers.
    static func vector(json text: String, option: String) throws -> [Float] {
        let value: PayloadValue
        do { value = try PayloadValue(json: text) } catch { throw CLIError.usage("\(option) is not valid JSON: \(error.message)") }
        guard let list = value.listValue, !list.isEmpty else { throw CLIError.usage("\(option) must be a JSON list of numbers") }
        let numbers = list.compactMap(\.doubleValue)
        guard numbers.count == list.count else { throw CLIError.usage("\(option) must hold numbers only") }
        return numbers.map(Float.init)
    }

    func queries() throws -> [[Float]] {
        switch (vector, vectorFile) {
        case (let text?, nil):
            return [try Self.vector(json: text, option: "--vector")]
        case (nil, let path?):
            let file = try VectorFile(path: path, format: nil, startID: 0)
            try file.checkFvecsDimensions()
            return try file.allVectors(limit: Self.maxQueries)
        default:
            throw CLIError.usage("give exactly one of --vector and --vector-file")
        }
    }

    func run() async throws {
        // Queries and filter are checked before connecting.
        let vectors: [[Float]]
        let parsedFilter: Filter?
        do {
            if allowPartial && vector == nil { throw CLIError.usage("--allow-partial works with --vector only") }
            vectors = try queries()
            parsedFilter = try filter.map(FilterOption.parse)
        } catch {
            throw CLIError.exit(for: error)
        }
        let answers = try await connection.run { db -> [[Hit]] in
            let template = SearchQuery(vector: [], k: k, ef: ef, exact: exact, filter: parsedFilter, withPayload: showPayload,
                                       withVectors: withVectors, scoreThreshold: scoreThreshold, offset: offset, payloadKeys: payloadKeys,
                                       readFrom: read.readFrom)
            if vector != nil {
                var query = template
                query.vector = vectors[0]
                let result = try await db.searchResult(query, in: collection, allowPartial: allowPartial)
                if !result.isComplete {
                    let shards = result.missingShards.map(String.init).joined(separator: ", ")
                    Terminal.printError("warning: partial answer: \(result.missingShards.count == 1 ? "shard" : "shards") \(shards) "
                                        + "of \(collection) did not answer")
                }
                return [result.hits]
            }
            // Many queries: one SearchStream call, answers put back in query order.
            return try await db.searchStream(vectors.map { vector in
                var query = template
                query.vector = vector
                return query
            }, in: collection)
        }
        if connection.json {
            let lists = answers.map { PayloadValue.list($0.map(JSONForm.hit)) }
            return Terminal.printJSON(vector != nil ? lists[0] : .list(lists))
        }
        for (index, hits) in answers.enumerated() {
            if answers.count > 1 { print("query \(index)") }
            var header = ["RANK", "ID", "SCORE"]
            if showPayload { header.append("PAYLOAD") }
            if withVectors { header.append("VECTOR") }
            Terminal.printTable(header, hits.enumerated().map { rank, hit in
                var row = [String(offset + rank + 1), hit.id.description, String(hit.score)]
                if showPayload { row.append(Describe.payload(hit.payload)) }
                if withVectors { row.append(JSONForm.vector(hit.vector ?? []).jsonText) }
                return row
            })
        }
    }
}
