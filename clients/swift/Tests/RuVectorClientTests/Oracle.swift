import RuVectorClient

/// Seeded data and brute-force answers the server's results are checked against.
struct SplitMix64: RandomNumberGenerator {
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

enum Oracle {
    static let languages = ["swift", "c", "rust", "go"]

    /// `count` points with ids 1...count, random vectors and payloads of every scalar kind.
    static func points(count: Int, dimension: Int, seed: UInt64) -> [Point] {
        var rng = SplitMix64(seed: seed)
        return (1...count).map { i in
            let vector = (0..<dimension).map { _ in Float.random(in: -1...1, using: &rng) }
            let payload: Payload = [
                "lang": .string(languages[i % languages.count]),
                "year": .int(Int64(2000 + i % 25)),
                "rating": .double(Double(i % 10) / 2),
                "tags": .list([.string("t\(i % 3)"), .string("all")]),
                "draft": .bool(i % 7 == 0),
            ]
            return Point(id: .num(UInt64(i)), vector: vector, payload: payload)
        }
    }

    static func normalised(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? v.map { $0 / norm } : v
    }

    /// The score the API reports (larger is better) for `metric`.
    static func score(_ a: [Float], _ b: [Float], _ metric: Metric) -> Float {
        switch metric {
        case .l2: return -zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        case .manhattan: return -zip(a, b).reduce(0) { $0 + abs($1.0 - $1.1) }
        case .dot: return zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        case .cosine: return zip(normalised(a), normalised(b)).reduce(0) { $0 + $1.0 * $1.1 }
        }
    }

    /// The exact top k by score among the points that pass `predicate`.
    static func topK(_ query: [Float], _ points: [Point], k: Int, metric: Metric,
                     where predicate: (Point) -> Bool = { _ in true }) -> [(id: PointID, score: Float)] {
        points.filter(predicate).map { ($0.id, score(query, $0.vector, metric)) }
            .sorted { $0.1 > $1.1 }
            .prefix(k).map { (id: $0.0, score: $0.1) }
    }

    /// The filter `lang == swift AND year >= 2010 AND NOT draft` evaluated on a point.
    static let swiftRecent = Filter(must: [.match("lang", .keyword("swift")), .range("year", gte: 2010)],
                                    mustNot: [.match("draft", .boolean(true))])

    static func isSwiftRecent(_ point: Point) -> Bool {
        point.payload["lang"] == "swift" && (point.payload["year"]?.intValue ?? 0) >= 2010 && point.payload["draft"] != true
    }

    /// `tags contains t1 OR lang in [c, go]`.
    static let tagOrLang = Filter(should: [.match("tags", .keyword("t1")), .match("lang", .anyKeywords(["c", "go"]))])

    static func isTagOrLang(_ point: Point) -> Bool {
        (point.payload["tags"]?.listValue ?? []).contains("t1") || ["c", "go"].contains(point.payload["lang"]?.stringValue ?? "")
    }
}
