import RuVectorClient
import Testing

/// Collections and point calls against the real server, checked against the data sent.
@Suite struct ClientPointsTests {
    @Test func collectionLifecycleAndErrors() async throws {
        try await TestServer.with { db, _ in
            let created = try await db.createCollection(name: "docs", dimension: 8, metric: .l2,
                                                        hnsw: HNSWConfig(m: 12, efConstruction: 100, efSearch: 40))
            #expect(created.name == "docs" && created.dimension == 8 && created.metric == .l2)
            #expect(created.hnsw.m == 12 && created.hnsw.efConstruction == 100 && created.hnsw.efSearch == 40)
            try await db.createCollection(name: "other", dimension: 3, metric: .cosine, quantization: .scalar())

            let described = try await db.collection(named: "docs")
            #expect(described.pointsCount == 0 && described.indexStatus == .ready)
            #expect(try await db.listCollections().map(\.name).sorted() == ["docs", "other"])

            let duplicate = await #expect(throws: RuVectorClientError.self) {
                try await db.createCollection(name: "docs", dimension: 8)
            }
            #expect(duplicate?.code == .alreadyExists && duplicate?.grpcStatus == 6)
            let badDimension = await #expect(throws: RuVectorClientError.self) {
                try await db.createCollection(name: "zero", dimension: 0)
            }
            #expect(badDimension?.code == .invalidArgument && badDimension?.message.contains("dimension") == true)

            try await db.upsert(Oracle.points(count: 20, dimension: 8, seed: 1), into: "docs")
            #expect(try await db.deleteCollection("docs") == 20)
            let missing = await #expect(throws: RuVectorClientError.self) { try await db.collection(named: "docs") }
            #expect(missing?.code == .notFound && missing?.grpcStatus == 5 && missing?.message.contains("docs") == true)
            #expect(try await db.listCollections().map(\.name) == ["other"])
        }
    }

    @Test func upsertGetCountDelete() async throws {
        try await TestServer.with { db, _ in
            try await db.createCollection(name: "points", dimension: 6, metric: .l2)
            let points = Oracle.points(count: 400, dimension: 6, seed: 7)
            let result = try await db.upsert(points, into: "points", wait: .durable)
            #expect(result.pointsAffected == 400 && result.applied)

            // Get returns what was stored (L2 keeps vectors as they are), in request order, skipping missing ids.
            let got = try await db.get([17, 3, 99_999, 250], from: "points", withVectors: true)
            #expect(got.map(\.id) == [17, 3, 250])
            for point in got {
                let sent = try #require(points.first { $0.id == point.id })
                #expect(point.payload == sent.payload)
                #expect(point.vector == sent.vector)
            }
            let trimmed = try await db.get([5], from: "points", payloadKeys: ["draft"])
            #expect(trimmed.first?.payload == ["draft": points[4].payload["draft"] ?? nil])
            let bare = try await db.get([5], from: "points", withPayload: false)
            #expect(bare.first?.payload == nil && bare.first?.vector == nil)

            // Counts against the same predicates evaluated here.
            #expect(try await db.count(in: "points") == 400)
            #expect(try await db.count(in: "points", filter: Oracle.swiftRecent) == UInt64(points.filter(Oracle.isSwiftRecent).count))
            #expect(try await db.count(in: "points", filter: Oracle.tagOrLang) == UInt64(points.filter(Oracle.isTagOrLang).count))
            let ratingRange = Filter(must: [.range("rating", gt: 1.0, lte: 3.5)])
            #expect(try await db.count(in: "points", filter: ratingRange)
                    == UInt64(points.filter { (1.0...3.5).contains($0.payload["rating"]?.doubleValue ?? -1) && $0.payload["rating"] != 1.0 }.count))

            // Replacing a point changes its payload, not the count.
            try await db.upsert([Point(id: 3, vector: [1, 2, 3, 4, 5, 6], payload: ["lang": "zig"])], into: "points")
            #expect(try await db.get([3], from: "points").first?.payload == ["lang": "zig"])
            #expect(try await db.count(in: "points") == 400)

            // Delete by ids (a missing id is not counted), then by filter.
            let byIDs = try await db.delete(ids: [1, 2, 3, 100_000], from: "points")
            #expect(byIDs.pointsAffected == 3)
            let remaining = points.filter { ![1, 2, 3].contains($0.id) }
            let drafts = remaining.filter { $0.payload["draft"] == true }.count
            let byFilter = try await db.delete(filter: .where("draft", equals: true), from: "points")
            #expect(byFilter.pointsAffected == UInt64(drafts))
            #expect(try await db.count(in: "points") == UInt64(remaining.count - drafts))

            let empty = await #expect(throws: RuVectorClientError.self) { try await db.delete(filter: Filter(), from: "points") }
            #expect(empty?.code == .invalidInput)
            let wrongDimension = await #expect(throws: RuVectorClientError.self) {
                try await db.upsert([Point(id: 1, vector: [1, 2])], into: "points")
            }
            #expect(wrongDimension?.code == .invalidArgument)
            let noCollection = await #expect(throws: RuVectorClientError.self) { try await db.count(in: "nope") }
            #expect(noCollection?.code == .notFound)
        }
    }

    @Test func upsertSplitsLargeInputs() async throws {
        try await TestServer.with { db, _ in
            // A small graph keeps the debug server's index build short.
            try await db.createCollection(name: "big", dimension: 2, metric: .l2, hnsw: HNSWConfig(m: 4, efConstruction: 8))
            let points = (0..<12_500).map { Point(id: .num(UInt64($0)), vector: [Float($0), 1]) }
            let result = try await db.upsert(points, into: "big")
            #expect(result.pointsAffected == 12_500)
            #expect(try await db.count(in: "big") == 12_500)
            #expect(try await db.get((12_490..<12_500).map { .num(UInt64($0)) }, from: "big").count == 10)
        }
    }

    @Test func scrollFollowsTheCursor() async throws {
        try await TestServer.with { db, _ in
            try await db.createCollection(name: "scroll", dimension: 4, metric: .dot)
            let points = Oracle.points(count: 333, dimension: 4, seed: 11)
            try await db.upsert(points, into: "scroll")

            var seen: [PointID] = []
            for try await point in db.scroll("scroll", pageSize: 37) {
                seen.append(point.id)
                #expect(point.payload == points.first { $0.id == point.id }?.payload)
            }
            #expect(seen == points.map(\.id))  // in the order written (ids 1...333 here), each once

            var filtered: [PointID] = []
            for try await point in db.scroll("scroll", filter: Oracle.swiftRecent, pageSize: 10, withPayload: false) {
                #expect(point.payload == nil)
                filtered.append(point.id)
            }
            #expect(filtered == points.filter(Oracle.isSwiftRecent).map(\.id))

            let first = try await db.scrollPage(in: "scroll", limit: 100)
            #expect(first.points.count == 100 && first.next != nil)
            let second = try await db.scrollPage(in: "scroll", after: first.next, limit: 300)
            #expect(second.points.count == 233 && second.next == nil)

            let badLimit = await #expect(throws: RuVectorClientError.self) { try await db.scrollPage(in: "scroll", limit: 0) }
            #expect(badLimit?.code == .invalidInput)
        }
    }

    @Test func unreachableServerIsUnavailable() async throws {
        // Start and stop a server to find a port nobody listens on.
        let server = try TestServer()
        server.stop()
        server.removeData()
        let error = await #expect(throws: RuVectorClientError.self) {
            _ = try await RuVectorClient(host: "127.0.0.1", port: server.port)
        }
        #expect(error?.code == .unavailable)
    }
}
