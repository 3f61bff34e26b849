import RPC
import Testing
@testable import Services

@Suite("Raft snapshot assembly")
struct SnapshotAssemblyTests {
    private let key = SnapshotAssembly.Key(leader: 1, index: 40, term: 3)

    @Test("an interrupted transfer resumes at the bytes held; a newer snapshot of the same leader replaces it")
    func resumeAndReplace() throws {
        let assembly = SnapshotAssembly()
        let data = (0..<10).map { UInt8($0) }
        #expect(assembly.resume(key) == 0)
        #expect(try assembly.append(key, offset: 0, Array(data[0..<4]), total: 10) == nil)
        // The stream broke; the next one asks where to start.
        #expect(assembly.resume(key) == 4)
        #expect(try assembly.append(key, offset: 4, Array(data[4..<10]), total: 10) == data)
        // Complete: nothing is held any more.
        #expect(assembly.resume(key) == 0)
        _ = try assembly.append(key, offset: 0, [9, 9], total: 10)
        let newer = SnapshotAssembly.Key(leader: 1, index: 80, term: 3)
        #expect(assembly.resume(newer) == 0)
        #expect(throws: RPCError.self) { try assembly.append(key, offset: 2, [1], total: 10) }
    }

    @Test("chunks that do not follow what is held, or pass the announced size, are refused")
    func badChunks() throws {
        let assembly = SnapshotAssembly()
        _ = assembly.resume(key)
        #expect(throws: RPCError.self) { try assembly.append(key, offset: 3, [1], total: 10) }
        #expect(throws: RPCError.self) { try assembly.append(key, offset: 0, Array(repeating: 0, count: 11), total: 10) }
        #expect(throws: RPCError.self) { try assembly.append(SnapshotAssembly.Key(leader: 2, index: 1, term: 1), offset: 0, [1], total: 1) }
    }
}
