#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import GraphEngine
import Storage
import Testing
@testable import GraphPersistence

@Suite("durable graph: one owner per folder, automatic snapshots in the background")
struct DurableGraphGuardsTests {
    private func temporaryDirectory() -> String {
        var template = Array("/tmp/ruvector-graph-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    @Test("a second open of the folder is refused until the first is closed")
    func openTwice() throws {
        let directory = temporaryDirectory()
        let db = try DurableGraphDatabase.open(directory, options: .manualSnapshots(syncPolicy: .never))
        _ = try db.execute("CREATE (:Doc {n: 1})")
        let error = #expect(throws: StorageError.self) { _ = try DurableGraphDatabase.open(directory) }
        #expect(error?.code == .locked)
        try db.close()
        #expect(throws: (any Error).self) { _ = try db.execute("CREATE (:Doc {n: 2})") }
        let reopened = try DurableGraphDatabase.open(directory)
        #expect(reopened.committedStore.nodeCount == 1)
        try reopened.close()
    }

    @Test("commits past the changes bound get a snapshot from the background, not inside the commit")
    func changesBound() throws {
        let background = DispatchQueue(label: "test.background")
        background.suspend()
        let options = DurableGraphDatabase.Options(syncPolicy: .never, autoSnapshotWALBytes: 0, autoSnapshotChanges: 100,
                                                   autoSnapshotReplayMillis: 0, autoSnapshotInterval: .zero,
                                                   runInBackground: { background.async(execute: $0) })
        let directory = temporaryDirectory()
        let db = try DurableGraphDatabase.open(directory, options: options)
        _ = try db.execute("UNWIND range(1, 150) AS i CREATE (:Doc {n: i})")
        #expect(db.unsnapshotted.changes == 150)
        _ = try db.execute("UNWIND range(1, 10) AS i CREATE (:Tag {n: i})")
        let store = try SnapshotStore(directory: directory + "/snapshots")
        #expect(try store.list().isEmpty, "the commits returned with the snapshot still queued")
        background.resume()
        background.sync {}
        #expect(try store.list().count == 1 && db.unsnapshotted.changes == 0)
        try db.close()
        let reopened = try DurableGraphDatabase.open(directory, options: options)
        #expect(reopened.recovery.replayedRecords == 0 && reopened.committedStore.nodeCount == 160)
        try reopened.close()
    }
}
