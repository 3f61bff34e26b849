import GraphEngine
import VectorEngine
import WorkControl

/// Cypher text into the parser, the analyzer and the executor, on a copy of a small graph,
/// with a short deadline and a 64 MiB memory budget, so a slow or growing query is stopped,
/// not a hang or an exhausted machine. Seeds: the queries of the
/// openCypher TCK (read at run time from `RUVECTOR_TCK_DIR`, default /work/shared/tck, when
/// present) and of Tests/GraphEngineTests/Scenarios, plus a few built in.
final class CypherTarget: FuzzTarget {
    static let name = "cypher"
    let maxInputBytes = 8 << 10
    /// Past 50 ms a query stops with `.timeout`; 5 s means the deadline is not checked somewhere.
    var inputTimeBoundSeconds: Double { 5 }
    static let deadline = Duration.milliseconds(50)

    private let graph: GraphDatabase
    private let parameters: [String: Value] = [
        "x": .int(1), "name": .string("Ann"), "list": .list([.int(1), .int(2), .null]),
        "map": .map(["a": .int(1), "b": .string("s")]), "f": .float(1.5), "n": .null,
    ]
    private let tokenMutator: TokenMutator
    /// What one query may hold: past it the engine stops the query (a thrown error, which is
    /// the engine refusing input, not a finding).
    static let memoryLimitBytes = 64 << 20

    init() {
        var graph = GraphDatabase()
        // People, a movie, a chain: enough for patterns, variable lengths and aggregations to produce rows.
        _ = try? graph.execute("""
            CREATE (a:Person {name: 'Ann', age: 30, tags: ['x', 'y']})-[:KNOWS {since: 2001}]->(b:Person {name: 'Bo', age: 25}),
                   (b)-[:KNOWS]->(c:Person:Admin {name: 'Cy', score: 1.5}), (c)-[:LIKES]->(a),
                   (a)-[:LIKES]->(m:Movie {title: 'M', year: 1999}), (c)-[:ACTED_IN {role: 'r'}]->(m)
            """)
        _ = try? graph.execute("UNWIND range(1, 12) AS i CREATE (:N {i: i, s: toString(i)})")
        _ = try? graph.execute("MATCH (a:N), (b:N) WHERE b.i = a.i + 1 CREATE (a)-[:NEXT {w: a.i}]->(b)")
        self.graph = graph
        tokenMutator = TokenMutator(dictionary: Self.words, maxBytes: maxInputBytes)
    }

    var dictionary: [[UInt8]] { Self.words.map { Array(" \($0) ".utf8) } }

    func seedCorpus() throws -> [[UInt8]] {
        var queries = Self.builtIn
        let tck = Environment.value("RUVECTOR_TCK_DIR") ?? "/work/shared/tck"
        queries += FeatureQueries.read(directory: tck + "/features")
        queries += FeatureQueries.read(directory: RepositoryPaths.root + "/Tests/GraphEngineTests/Scenarios")
        var seen = Set<String>()
        return queries.filter { seen.insert($0).inserted }.map { Array($0.utf8) }
    }

    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) -> Bool {
        tokenMutator.mutate(&input, random: &random, corpus: corpus)
    }

    func run(_ input: [UInt8]) throws -> FuzzOutcome {
        let query = String(decoding: input, as: UTF8.self)
        var database = graph
        let bounds = WorkBounds(memory: CallBudget(limitBytes: Self.memoryLimitBytes, server: .unlimited(), work: "the query"),
                                cancellation: .never)
        _ = try database.execute(query, parameters: parameters, deadline: ContinuousClock.now.advanced(by: Self.deadline), bounds: bounds)
        return .accepted
    }

    static let builtIn = [
        // Values that grow without bound: stopped by the memory budget (issue 16).
        "RETURN size(reduce(s = 'xx', i IN range(1, 40) | s + s)) AS n",
        "RETURN size([x IN range(1, 1000000) | range(1, 1000000)]) AS n",
        "MATCH (n) RETURN n", "MATCH (a)-[r]->(b) RETURN a, type(r), b", "MATCH p = (a)-[*1..3]->(b) RETURN length(p)",
        "OPTIONAL MATCH (x:Missing) RETURN x", "MATCH (n:Person) WHERE n.age > $x RETURN n.name ORDER BY n.name SKIP 0 LIMIT 2",
        "UNWIND $list AS v RETURN v, count(*)", "WITH $map AS m RETURN m.a, keys(m)", "MERGE (n:P {k: 1}) ON CREATE SET n.c = 1 RETURN n",
        "MATCH (n:N) SET n.t = n.i * 2 REMOVE n.s RETURN sum(n.t)", "MATCH (n:N {i: 3}) DETACH DELETE n",
        "MATCH (a:Person {name: 'Ann'}), (b:Person {name: 'Cy'}) RETURN shortestPath((a)-[*]-(b))",
        "RETURN [x IN range(1, 5) WHERE x % 2 = 0 | x * x] AS sq, {a: 1, b: [1, 2]} AS m",
        "MATCH (n) WHERE n.name =~ 'A.*' RETURN DISTINCT labels(n)", "RETURN CASE WHEN 1 < 2 THEN 'a' ELSE 'b' END",
        "MATCH (n) RETURN n.name AS name UNION RETURN 'x' AS name", "CREATE (a:T {v: 1.5e3})-[:R]->(b:T) RETURN id(a) < id(b)",
        "MATCH (n) WHERE exists { MATCH (n)-[:KNOWS]->() } RETURN n.name", "RETURN toInteger('42'), toFloat('1.5'), substring('abc', 1)",
        "MATCH (n:Person) WITH n ORDER BY n.age DESC LIMIT 1 RETURN collect(n.name)",
        // Temporal values: constructors, zones, arithmetic, between, truncation, components.
        "RETURN datetime({year: 2017, month: 10, day: 29, hour: 2, minute: 30, timezone: 'Europe/Stockholm'}) + duration({hours: 1.5})",
        "RETURN duration.between(date('1984-10-11'), datetime('2015-07-21T21:40:32.142+0100')).days, date.truncate('week', date('2015-W30-2'))",
        "RETURN duration('P1Y2.5MT-3.000000001S') * 2.5, localtime('12:00') - duration('PT90M'), datetime.fromepoch(416779, 999999999).epochMillis",
    ]

    /// Keywords, functions, operators and names of the graph above.
    static let words = [
        "MATCH", "OPTIONAL", "WHERE", "RETURN", "WITH", "UNWIND", "AS", "CREATE", "MERGE", "ON", "SET", "REMOVE", "DELETE",
        "DETACH", "ORDER", "BY", "SKIP", "LIMIT", "DISTINCT", "UNION", "ALL", "CASE", "WHEN", "THEN", "ELSE", "END", "AND",
        "OR", "XOR", "NOT", "IN", "IS", "NULL", "STARTS", "ENDS", "CONTAINS", "EXISTS", "CALL", "YIELD", "ASC", "DESC",
        "count(*)", "collect(", "sum(", "avg(", "min(", "max(", "range(", "size(", "length(", "nodes(", "relationships(",
        "shortestPath(", "allShortestPaths(", "keys(", "labels(", "type(", "id(", "properties(", "coalesce(", "head(",
        "tail(", "reverse(", "toString(", "toInteger(", "toFloat(", "substring(", "split(", "replace(", "abs(", "sqrt(",
        "rand()", "reduce(", "any(", "none(", "single(", "=~", "<>", "<=", ">=", "->", "<-", "-[", "]-", "*", "*..", "*1..",
        "..", "|", "+", "%", "^", "$x", "$list", "$map", "$name", "$missing", "(", ")", "[", "]", "{", "}", ":", ",", ".",
        "n", "m", "r", "p", ":Person", ":N", ":KNOWS", ":NEXT", "name", "age", "i", "-1", "0", "null", "true", "false",
        "date(", "localtime(", "time(", "localdatetime(", "datetime(", "duration(", "duration.between(", "duration.inMonths(",
        "duration.inSeconds(", "datetime.fromepoch(", "datetime.truncate(", "date.statement()", "'2015-07-21T21:40:32.142+0100'",
        "'2015-W53-7'", "'P1Y2.5MT3S'", "{year: 2015, week: 53}", "timezone: 'Europe/Stockholm'", "timezone: '+18:00'",
        ".epochMillis", ".weekYear", ".offsetSeconds", ".monthsOfYear", "9223372036854775807", "-999999999",
    ]
}

/// The query texts of Gherkin `.feature` files: every `"""` block; Scenario Outline
/// placeholders are filled from the scenario's first Examples rows.
enum FeatureQueries {
    static func read(directory: String) -> [String] {
        files(under: directory).flatMap { path -> [String] in
            guard let bytes = try? FuzzFiles.read(path) else { return [] }
            return queries(in: String(decoding: bytes, as: UTF8.self))
        }
    }

    private static func files(under directory: String) -> [String] {
        guard let names = try? FuzzFiles.entries(directory) else { return [] }
        return names.sorted().flatMap { name -> [String] in
            let path = directory + "/" + name
            if name.hasSuffix(".feature") { return [path] }
            return name.contains(".") ? [] : files(under: path)
        }
    }

    static func queries(in text: String) -> [String] {
        var out: [String] = []
        var blocks: [String] = []
        var examples: [[String]] = []
        var inExamples = false
        func endScenario() {
            let header = examples.first ?? []
            let rows = examples.dropFirst().prefix(3)
            for block in blocks {
                if rows.isEmpty || !block.contains("<") { out.append(block); continue }
                for row in rows {
                    var filled = block
                    for (name, value) in zip(header, row) { filled = filled.replacing("<\(name)>", with: value) }
                    out.append(filled)
                }
            }
            blocks = []
            examples = []
            inExamples = false
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
        var index = 0
        while index < lines.count {
            let line = lines[index].trimmingSpaces
            index += 1
            if line.hasPrefix("Scenario") {
                endScenario()
            } else if line.hasPrefix("Examples:") {
                inExamples = true
            } else if line.hasPrefix("\"\"\"") {
                var block: [String] = []
                while index < lines.count, !lines[index].trimmingSpaces.hasPrefix("\"\"\"") {
                    block.append(lines[index].trimmingSpaces)
                    index += 1
                }
                index += 1
                blocks.append(block.joined(separator: "\n"))
            } else if inExamples, line.hasPrefix("|") {
                examples.append(line.split(separator: "|").map { String($0).trimmingSpaces })
            }
        }
        endScenario()
        return out
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let isSpace = { (c: Character) in c == " " || c == "\t" || c == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}

extension Array where Element == UInt8 {
    /// Offsets where `pattern` starts.
    func occurrences(of pattern: [UInt8]) -> [Int] {
        guard !pattern.isEmpty, count >= pattern.count else { return [] }
        return (0...(count - pattern.count)).filter { self[$0..<($0 + pattern.count)].elementsEqual(pattern) }
    }

    /// Whether a run of at least `digits` digits appears from `start` before the next `end` byte.
    func hasLongNumber(from start: Int, before end: UInt8, digits: Int) -> Bool {
        var run = 0
        for byte in self[start...] {
            if byte == end { return false }
            run = byte >= 0x30 && byte <= 0x39 ? run + 1 : 0
            if run >= digits { return true }
        }
        return false
    }
}
