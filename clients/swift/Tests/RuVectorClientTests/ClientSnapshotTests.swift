import Foundation
import RuVectorClient
import Testing

/// Snapshots: create, list, download to a file, restore by name and from an uploaded file.
@Suite struct ClientSnapshotTests {
    @Test func snapshotRoundTrip() async throws {
        try await TestServer.with { db, server in
            try await db.createCollection(name: "snap", dimension: 5, metric: .l2)
            let points = Oracle.points(count: 150, dimension: 5, seed: 8)
            try await db.upsert(points, into: "snap")
            let query: [Float] = [0.1, -0.2, 0.3, 0.4, -0.5]
            let before = try await db.search(query, in: "snap", k: 10)

            let info = try await db.createSnapshot(of: "snap")
            #expect(info.collection == "snap" && info.sizeBytes > 0 && !info.name.isEmpty)
            let listed = try await db.listSnapshots(of: "snap")
            #expect(listed.contains { $0.name == info.name && $0.sizeBytes == info.sizeBytes && $0.crc32c == info.crc32c })

            // Download in small chunks: the file has the advertised size (size and CRC32C are checked by the client).
            let path = server.dataDirectory.appendingPathComponent("downloaded.snapshot").path
            let written = try await db.downloadSnapshot(info.name, of: "snap", to: path, chunkBytes: 4096)
            #expect(written == info.sizeBytes)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(UInt64(bytes.count) == info.sizeBytes)
            #expect(!FileManager.default.fileExists(atPath: path + ".part"))

            // Change the collection, then restore it by name: the snapshot's content is back.
            try await db.delete(ids: (1...50).map { .num(UInt64($0)) }, from: "snap")
            try await db.upsert([Point(id: 999, vector: [9, 9, 9, 9, 9])], into: "snap")
            #expect(try await db.count(in: "snap") == 101)
            let restored = try await db.restoreSnapshot(named: info.name, into: "snap")
            #expect(restored.pointsCount == 150)
            #expect(try await db.search(query, in: "snap", k: 10) == before)

            // Change it again, then restore from the downloaded file; and into a new collection.
            try await db.delete(ids: [1, 2, 3], from: "snap")
            let uploaded = try await db.restoreSnapshot(fromFile: path, into: "snap", chunkBytes: 8192)
            #expect(uploaded.pointsCount == 150)
            #expect(try await db.search(query, in: "snap", k: 10) == before)
            let copy = try await db.restoreSnapshot(fromFile: path, into: "copy")
            #expect(copy.name == "copy" && copy.pointsCount == 150 && copy.dimension == 5)
            #expect(try await db.get([42], from: "copy", withVectors: true).first?.vector == points[41].vector)
        }
    }

    @Test func snapshotErrors() async throws {
        try await TestServer.with { db, server in
            try await db.createCollection(name: "e", dimension: 3, metric: .dot)
            try await db.upsert([Point(id: 1, vector: [1, 2, 3])], into: "e")
            let info = try await db.createSnapshot(of: "e")

            let target = server.dataDirectory.appendingPathComponent("never.snapshot").path
            let missing = await #expect(throws: RuVectorClientError.self) {
                try await db.downloadSnapshot("no-such-snapshot", of: "e", to: target)
            }
            #expect(missing?.code == .invalidArgument || missing?.code == .notFound)
            #expect(!FileManager.default.fileExists(atPath: target) && !FileManager.default.fileExists(atPath: target + ".part"))

            let noCollection = await #expect(throws: RuVectorClientError.self) { try await db.createSnapshot(of: "absent") }
            #expect(noCollection?.code == .notFound)
            let noFile = await #expect(throws: RuVectorClientError.self) {
                try await db.restoreSnapshot(fromFile: "/nonexistent/file.snapshot", into: "e")
            }
            #expect(noFile?.code == .fileError)

            // A damaged file (one byte flipped in the middle) is refused and the collection stays as it was.
            let path = server.dataDirectory.appendingPathComponent("damaged.snapshot").path
            try await db.downloadSnapshot(info.name, of: "e", to: path)
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            bytes[bytes.count / 2] ^= 0xFF
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            await #expect(throws: RuVectorClientError.self) { try await db.restoreSnapshot(fromFile: path, into: "e") }
            #expect(try await db.count(in: "e") == 1)
        }
    }
}
