#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Storage
import Synchronization
import Testing
import VectorEngine
@testable import VectorDatabase

/// Every path and size under `root` (mtime too): a refused request must leave it unchanged.
func tree(_ root: String) -> [String: String] {
    var result: [String: String] = [:]
    func walk(_ path: String, _ relative: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        result[relative] = "\(info.st_mode) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        guard (info.st_mode & S_IFMT) == S_IFDIR, let entries = try? AtomicFile.entries(path) else { return }
        for name in entries { walk(path + "/" + name, relative + "/" + name) }
    }
    walk(root, "")
    return result
}

@Suite("collections: one owner per folder, nothing on disk for a refused request")
struct CollectionGuardsTests {
    let config = CollectionConfig(name: "docs", dimension: 4, metric: .l2Squared,
                                  hnsw: HNSWParameters(m: 8, efConstruction: 32, efSearch: 32))

    @Test("opening a collection twice in one process is refused until the first is closed")
    func openTwice() throws {
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: config, options: .init(syncPolicy: .never))
        try db.upsert([VectorPoint(id: 1, vector: [1, 2, 3, 4])])
        for open in [{ _ = try DurableCollection.open(directory) },
                     { _ = try DurableCollection.create(in: directory, config: self.config) }] {
            let error = #expect(throws: StorageError.self) { try open() }
            #expect(error?.code == .locked)
        }
        try db.close()
        #expect(throws: StorageError.self) { try db.upsert([VectorPoint(id: 2, vector: [1, 2, 3, 4])]) }
        #expect(throws: StorageError.self) { try db.snapshot() }
        let reopened = try DurableCollection.open(directory)
        #expect(try reopened.collection.count() == 1)
        try reopened.close()
    }

    @Test("a refused name or configuration leaves the data directory exactly as it was",
          arguments: ["", ".", "..", "../x", "../../../../tmp/ruvector-escape", "a/b", "a\\b", ".restore-docs",
                      ".replaced-docs", "collection.bin", "LOCK.", "tab\tname", "nul\u{0}name", "caf\u{E9}",
                      String(repeating: "n", count: 201), String(repeating: "n", count: 300)])
    func refusedNames(_ name: String) throws {
        let data = temporaryDirectory()
        let catalog = try CollectionCatalog(dataDirectory: data, options: .init(syncPolicy: .never))
        _ = try catalog.create(config)
        let before = tree(data)
        var bad = config
        bad.name = name
        let error = #expect(throws: (any Error).self) { _ = try catalog.create(bad) }
        #expect((error as? StorageError)?.code == .invalidArgument)
        #expect((error as? StorageError)?.message.contains("1 to 200 characters of A-Z a-z 0-9 _ -") == true)
        #expect(((error as? StorageError)?.message.count ?? 0) < 200, "the name is echoed cut short")
        #expect(throws: StorageError.self) { _ = try catalog.restore(name, snapshotFile: []) }
        #expect(tree(data) == before)
        #expect(!AtomicFile.exists("/tmp/ruvector-escape"))
    }

    @Test("a refused configuration creates no folder")
    func refusedConfiguration() throws {
        let data = temporaryDirectory()
        let catalog = try CollectionCatalog(dataDirectory: data, options: .init(syncPolicy: .never))
        let before = tree(data)
        var bad = config
        bad.hnsw.m = 0
        #expect(throws: (any Error).self) { _ = try catalog.create(bad) }
        bad = config
        bad.dimension = 0
        #expect(throws: (any Error).self) { _ = try catalog.create(bad) }
        #expect(tree(data) == before)
    }

    @Test("an I/O failure says what failed without the server's path; the log form has it")
    func ioErrorWithoutPath() throws {
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: config, options: .init(syncPolicy: .never))
        try db.upsert([VectorPoint(id: 1, vector: [1, 2, 3, 4])])
        // A file where the snapshots folder was: writing a snapshot fails (ENOTDIR), even as root.
        try AtomicFile.removeTree(directory + "/snapshots")
        try AtomicFile.write([1], to: directory + "/snapshots")
        let error = #expect(throws: StorageError.self) { try db.snapshot() }
        #expect(error?.code == .io)
        #expect(error?.message.contains("/") == false, "\(String(describing: error))")
        #expect(error?.clientMessage.contains("Not a directory") == true)
        #expect(error?.description.contains(directory) == true, "the log line names the path")
        try db.close()
    }
}
