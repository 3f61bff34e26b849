import Checksums
import Testing
@testable import Storage

/// A bundle read back holds the parts written (a failed part dropped), and any damage is
/// refused before a part is used.
@Suite struct SnapshotBundleTests {
    private func written(_ parts: [[UInt8]], manifest: [UInt8], abortedAfter: Int? = nil) throws -> (bytes: [UInt8], crc: UInt32) {
        let path = temporaryDirectory() + "/b.rvcsnap"
        let writer = try SnapshotBundle.Writer(path: path)
        for (n, part) in parts.enumerated() {
            if n == abortedAfter {
                writer.beginPart()
                try writer.append([UInt8](repeating: 0xEE, count: 5000))
                writer.abortPart()
            }
            writer.beginPart()
            try writer.append(Array(part.prefix(part.count / 2)))
            try writer.append(Array(part.dropFirst(part.count / 2)))
            writer.endPart()
        }
        let (size, crc) = try writer.finish(manifest: manifest)
        let bytes = try AtomicFile.read(path)
        #expect(size == bytes.count)
        #expect(!AtomicFile.exists(path + ".partial"))
        #expect(try SnapshotBundle.open(path: path).crc32c == crc)
        return (bytes, crc)
    }

    @Test func roundTripAndDroppedPart() throws {
        let parts: [[UInt8]] = [Array(0..<200), [], Array(repeating: 7, count: 3000)]
        for aborted in [nil, 0, 2] as [Int?] {
            let (bytes, crc) = try written(parts, manifest: Array("manifest".utf8), abortedAfter: aborted)
            #expect(CRC32C.checksum(bytes) == crc)
            let contents = try SnapshotBundle.parse(bytes, maxParts: 8)
            #expect(contents.manifest == Array("manifest".utf8))
            #expect(contents.parts.map { Array(bytes[$0.offset..<($0.offset + $0.sizeBytes)]) } == parts)
        }
    }

    @Test func damageIsRefused() throws {
        let (bytes, _) = try written([Array(0..<200), Array(repeating: 9, count: 100)], manifest: [1, 2, 3])
        for index in stride(from: 0, to: bytes.count, by: 7) {
            var flipped = bytes
            flipped[index] ^= 0x10
            #expect(throws: StorageError.self) { try SnapshotBundle.parse(flipped, maxParts: 8) }
        }
        for cut in [0, 10, bytes.count / 2, bytes.count - 1] {
            #expect(throws: StorageError.self) { try SnapshotBundle.parse(Array(bytes.prefix(cut)), maxParts: 8) }
        }
        #expect(throws: StorageError.self) { try SnapshotBundle.parse(bytes, maxParts: 1) }
    }
}
