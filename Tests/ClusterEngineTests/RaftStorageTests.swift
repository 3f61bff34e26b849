#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ClusterEngine

@Suite("Raft storage")
struct RaftStorageTests {
    @Test("the WAL storage reloads exactly what the in-memory one holds, after every Ready of a simulated run")
    func walMatchesMemory() throws {
        var template = Array("/tmp/ruvector-raft-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        var cluster = RaftCluster(voters: [1, 2, 3])
        let founding = Configuration(voters: [1, 2, 3])
        var memory = MemoryRaftStorage(founding: founding)
        let disk = try WALRaftStorage(directory: directory + "/node1", founding: founding, syncPolicy: .never)
        cluster.nodes[1]?.campaign()
        for round in 0..<300 {
            if round % 7 == 0 { try? cluster.nodes[cluster.leader ?? 1]?.propose(Array("cmd\(round)".utf8)) }
            if round % 50 == 25 {
                try cluster.compact(1)
                try memory.saveCompaction(cluster.nodes[1]!.snapshot)
                var wal: any RaftStorage = disk
                try wal.saveCompaction(cluster.nodes[1]!.snapshot)
            }
            if round == 120 { cluster.partition = [[1], [2, 3]] }      // node 1 loses leadership; its log gets overwritten
            if round == 200 { cluster.partition = nil }
            for id in cluster.nodes.keys.sorted() { cluster.tick(id) }
            // Node 1's Readies go to both storages (the cluster's own disk model is bypassed here).
            while let node = cluster.nodes[1], node.hasReady {
                let ready = node.ready()
                try memory.save(ready)
                try disk.save(ready)
                cluster.network += ready.messages
                cluster.nodes[1]!.advance(ready)
            }
            cluster.processReadies()
            _ = cluster.deliverAll()
        }
        let expected = try memory.load()
        try disk.close()
        let reopened = try WALRaftStorage(directory: directory + "/node1", founding: founding).load()
        #expect(reopened.hardState == expected.hardState && reopened.snapshot == expected.snapshot)
        #expect(reopened.entries == expected.entries)
        #expect(expected.entries.count > 5 && expected.hardState.term > 1)
        // A node built from the reloaded state has the same log as the live one.
        let restarted = RaftNode(id: 1, hardState: reopened.hardState, snapshot: reopened.snapshot, entries: reopened.entries)
        #expect(restarted.entries == cluster.nodes[1]!.entries)
    }
}
