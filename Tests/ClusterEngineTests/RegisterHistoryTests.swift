import Testing
@testable import ClusterEngine

@Suite("register history reader (shard soak)")
struct RegisterHistoryTests {
    typealias Model = KeyValueModel

    @Test("the reader takes every field, inf, absent and notes")
    func reads() throws {
        let operations = try HistoryFormats.registers("""
            # client call return op key value

            0 1000 2500 write p7 41
            1\t1200\tinf\twrite\tp7\t42 # node 2 DEADLINE_EXCEEDED
            2 2600 2900 read p7 41
            2 3000 3100 read p9 absent # node 3
            """)
        #expect(operations.count == 4)
        #expect(operations[0].client == 0 && operations[0].call == 1000 && operations[0].returned == 2500)
        #expect(operations[0].input == Model.Input(.put, key: "p7", value: "41"))
        #expect(operations[1].returned == Int.max && operations[1].input == Model.Input(.put, key: "p7", value: "42"))
        #expect(operations[2].input == Model.Input(.get, key: "p7") && operations[2].output == "41")
        // Absent is the register's initial state.
        #expect(operations[3].input.key == "p9" && operations[3].output == Model.initialState)
    }

    @Test("a malformed line is refused with its line number", arguments: [
        "0 10 20 write k",                     // five fields
        "0 10 20 write k # 4",                 // five before the note
        "0 10 20 write k 4 extra",             // seven
        "-1 10 20 write k 4",                  // negative client
        "0 ten 20 write k 4",
        "0 30 20 write k 4",                   // returns before its call
        "0 10 20 put k 4",                     // not an operation of this format
        "0 10 20 write k absent",              // the word for nothing, written
        "0 10 inf read k 4",                   // a read without an answer
    ])
    func malformed(line: String) {
        let text = "# header\n0 1 2 write k 3\n" + line + "\n"
        #expect {
            _ = try HistoryFormats.registers(text)
        } throws: { error in
            (error as? HistoryFormats.Malformed)?.line == 3
        }
    }

    func verdict(_ history: String) throws -> LinearizabilityVerdict {
        LinearizabilityChecker.check(Model.self, try HistoryFormats.registers(history), partitionedBy: { $0.key })
    }

    @Test("a stale read after a completed write is caught; overlapping operations may reorder")
    func staleAndOverlapping() throws {
        #expect(try verdict("""
            0 10 20 write k 1
            1 30 40 read k absent
            """) == .notLinearizable)
        #expect(try verdict("""
            0 10 20 write k 1
            0 30 40 write k 2
            1 50 60 read k 1
            """) == .notLinearizable)
        // The read overlaps the second write: either value.
        #expect(try verdict("""
            0 10 20 write k 1
            0 30 60 write k 2
            1 40 50 read k 1
            2 45 55 read k 2
            """) == .linearizable)
        // Once a reader saw 2, a later reader may not see 1 (new, then old).
        #expect(try verdict("""
            0 10 20 write k 1
            0 30 90 write k 2
            1 40 50 read k 2
            2 60 70 read k 1
            """) == .notLinearizable)
        // A value no one wrote.
        #expect(try verdict("0 10 20 write k 1\n1 30 40 read k 7\n") == .notLinearizable)
    }

    @Test("an unknown write may take effect any time after its call, or never, but not before")
    func unknownWrites() throws {
        #expect(try verdict("""
            0 10 inf write k 5
            1 20 30 read k absent
            1 40 50 read k 5
            """) == .linearizable)
        #expect(try verdict("""
            0 10 inf write k 5
            1 20 30 read k absent
            1 40 50 read k absent
            """) == .linearizable)
        #expect(try verdict("""
            1 1 5 read k 5
            0 10 inf write k 5
            """) == .notLinearizable)
        // It takes effect once: 5, then 6 acknowledged, then 5 again cannot be.
        #expect(try verdict("""
            0 10 inf write k 5
            1 20 30 read k 5
            1 40 50 write k 6
            1 60 70 read k 5
            """) == .notLinearizable)
    }

    @Test("keys are separate registers; the failing one is named")
    func namesTheKey() throws {
        let operations = try HistoryFormats.registers("""
            0 10 20 write a 1
            1 30 40 read a 1
            0 10 20 write b 1
            1 30 40 read b absent
            """)
        let result = LinearizabilityChecker.checkPartitions(Model.self, operations, partitionedBy: { $0.key })
        #expect(result.verdict == .notLinearizable)
        #expect(result.failing?.key == "b" && result.failing?.operations == 2)
    }
}
