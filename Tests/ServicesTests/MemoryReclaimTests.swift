import Logging
import Testing
import VectorDatabase
@testable import Services
@testable import Storage

@Suite("freed heap memory given back")
struct MemoryReclaimTests {
    /// Waits up to two seconds for `work` to have run `count` trims.
    private func trims(_ work: ServerWork, reach count: Int) async throws -> Bool {
        try await eventually(within: .seconds(2)) { work.memoryTrims >= count }
    }

    @Test("requests within the interval share one trim; a later one runs another")
    func coalesced() async throws {
        let work = ServerWork()
        for _ in 0..<5 { work.reclaimMemory() }
        #expect(try await trims(work, reach: 1))
        try await Task.sleep(for: .milliseconds(MemoryReclaimer.intervalMillis * 2))
        #expect(work.memoryTrims == 1)
        work.reclaimMemory()
        #expect(try await trims(work, reach: 2))
    }

    @Test("each automatic snapshot written asks for a trim (a streamed import is one call); a failed one does not")
    func afterAutomaticSnapshots() async throws {
        let work = ServerWork()
        let options = ServiceCatalog.loggingAutomaticSnapshots(DurableCollection.Options(), logger: Logger(label: "test"), work: work)
        let written = SnapshotInfo(name: SnapshotStore.fileName(walSequence: 7), walSequence: 7, createdUnixMicros: 0,
                                   sizeBytes: 4096, crc32c: 0)
        options.onAutomaticSnapshot(AutomaticSnapshotReport(directory: "/nowhere", reason: .changes, snapshot: nil,
                                                            failure: StorageError(.io, "disk full"), durationMicros: 1))
        try await Task.sleep(for: .milliseconds(MemoryReclaimer.intervalMillis * 2))
        #expect(work.memoryTrims == 0)
        options.onAutomaticSnapshot(AutomaticSnapshotReport(directory: "/nowhere", reason: .changes, snapshot: written,
                                                            failure: nil, durationMicros: 1))
        #expect(try await trims(work, reach: 1))
    }
}
