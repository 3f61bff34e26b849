#if canImport(Glibc)
import Glibc
#endif
import ClusterEngine
import Storage
import Testing
@testable import ClusterNode

@Suite("Raft storage on the WAL")
struct RaftStorageTests {
    private func temporaryDirectory() -> String {
        var template = Array("/tmp/ruvector-raft-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    @Test("the WAL storage reloads exactly what the in-memory one holds, through overwrites and compactions")
    func walMatchesMemory() throws {
        let directory = temporaryDirectory()
        var memory = MemoryRaftStorage(founding: Configuration(voters: []))
        // Small segments, so compactions really delete files.
        var disk = try WALRaftStorage(directory: directory, founding: Configuration(voters: []), syncPolicy: .never,
                                      segmentSizeBytes: 4096)
        var random = SystemRandomNumberGenerator()
        var term: UInt64 = 1, last: UInt64 = 0, snapshotIndex: UInt64 = 0
        for step in 0..<2_000 {
            var ready = Ready()
            switch Int.random(in: 0..<10, using: &random) {
            case 0:
                term += 1
                ready.hardState = HardState(term: term, vote: UInt64.random(in: 0...3, using: &random), commit: snapshotIndex)
            case 1 where last > snapshotIndex + 3:
                // A new leader overwrites a suffix.
                let from = UInt64.random(in: (snapshotIndex + 1)...last, using: &random)
                ready.entries = (from...(from + 2)).map { Entry(term: term, index: $0, payload: .command(Array("o\(step)".utf8))) }
                last = from + 2
            case 2 where last > snapshotIndex + 5:
                let index = UInt64.random(in: (snapshotIndex + 1)...(last - 2), using: &random)
                let snapshot = Snapshot(index: index, term: term, configuration: Configuration(voters: [1, 2, 3]),
                                        data: Array(repeating: UInt8(step % 256), count: 300))
                try memory.saveCompaction(snapshot)
                try disk.saveCompaction(snapshot)
                snapshotIndex = index
                continue
            default:
                let count = UInt64.random(in: 1...4, using: &random)
                ready.entries = ((last + 1)...(last + count)).map { index in
                    Entry(term: term, index: index, payload: index % 7 == 0 ? .configuration(.addLearner(index)) : .command(Array("e\(index)".utf8)))
                }
                last += count
            }
            try memory.save(ready)
            try disk.save(ready)
        }
        let expected = try memory.load()
        try disk.close()
        let reopened = try WALRaftStorage(directory: directory, founding: Configuration(voters: []), segmentSizeBytes: 4096).load()
        #expect(reopened.hardState == expected.hardState)
        #expect(reopened.snapshot == expected.snapshot)
        #expect(reopened.entries == expected.entries)
        #expect(expected.snapshot.index > 100 && expected.entries.count > 0)
        // Compactions deleted the segments they made useless: what is left is about the live state.
        let files = try AtomicFile.entries(directory)
        #expect(files.count < 20, "files left: \(files.count)")
        disk = try WALRaftStorage(directory: directory, founding: Configuration(voters: []), segmentSizeBytes: 4096)
        #expect(!disk.isEmpty)
        try disk.close()
    }
}
