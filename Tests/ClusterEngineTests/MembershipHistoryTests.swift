import Testing
@testable import ClusterEngine

@Suite("membership model and history reader")
struct MembershipHistoryTests {
    typealias Model = MembershipModel

    @Test("each output is legal only in the states that could produce it", arguments: [
        // (kind, output, legal when absent, legal when present, state after)
        (Model.Input.Kind.create, Model.Output.created, true, false, true),
        (.create, .alreadyExists, false, true, true),
        (.create, .unknown, true, true, true),
        (.delete, .deleted, false, true, false),
        (.delete, .notFound, true, false, false),
        (.delete, .unknown, true, true, false),
        (.read, .read(exists: true), false, true, true),
        (.read, .read(exists: false), true, false, false),
        (.create, .deleted, false, false, nil),
        (.delete, .read(exists: false), false, false, nil),
        (.read, .created, false, false, nil),
    ] as [(Model.Input.Kind, Model.Output, Bool, Bool, Bool?)])
    func step(kind: Model.Input.Kind, output: Model.Output, legalAbsent: Bool, legalPresent: Bool, after: Bool?) {
        let input = Model.Input(kind, key: "k")
        let (absentLegal, absentNext) = Model.step(false, input, output)
        let (presentLegal, presentNext) = Model.step(true, input, output)
        #expect(absentLegal == legalAbsent)
        #expect(presentLegal == legalPresent)
        if let after {
            if absentLegal { #expect(absentNext == after) }
            if presentLegal { #expect(presentNext == after) }
        }
    }

    @Test("the reader takes every field, inf and comments")
    func reads() throws {
        let operations = try HistoryFormats.membership("""
            # client call return op key output

            0 1000 2500 create c3 created
            1\t1200\tinf\tdelete\tc3\tunknown # node 2 DEADLINE_EXCEEDED
            2 2600 2900 read c3 present
            2 2600 2900 read c4 absent
            3 3000 3100 create c4 already-exists
            3 3200 3300 delete c5 not-found
            4 3400 3400 delete c4 deleted
            """)
        #expect(operations.count == 7)
        #expect(operations[0].client == 0 && operations[0].call == 1000 && operations[0].returned == 2500)
        #expect(operations[0].input == Model.Input(.create, key: "c3") && operations[0].output == .created)
        #expect(operations[1].returned == Int.max && operations[1].output == .unknown)
        #expect(operations[2].output == .read(exists: true) && operations[3].output == .read(exists: false))
        #expect(operations[3].input.key == "c4")
        #expect(operations.map(\.output).suffix(3) == [.alreadyExists, .notFound, .deleted])
    }

    @Test("a malformed line is refused with its line number", arguments: [
        "0 10 20 create k",                    // five fields
        "0 10 20 create k # created",          // five before the note
        "0 10 20 create k created extra",      // seven
        "-1 10 20 create k created",           // negative client
        "0 ten 20 create k created",
        "0 30 20 create k created",            // returns before its call
        "0 10 20 upsert k created",
        "0 10 20 create k deleted",            // not an output of create
        "0 10 20 read k true",
        "0 10 inf create k created",           // inf without unknown
        "0 10 20 delete k unknown",            // unknown with a return time
    ])
    func malformed(line: String) {
        let text = "# header\n0 1 2 create k created\n" + line + "\n"
        #expect {
            _ = try HistoryFormats.membership(text)
        } throws: { error in
            (error as? HistoryFormats.Malformed)?.line == 3
        }
    }

    func verdict(_ history: String) throws -> LinearizabilityVerdict {
        LinearizabilityChecker.check(Model.self, try HistoryFormats.membership(history), partitionedBy: { $0.key })
    }

    @Test("a stale read after a completed create is caught; overlapping operations may reorder")
    func staleAndOverlapping() throws {
        #expect(try verdict("""
            0 10 20 create k created
            1 30 40 read k absent
            """) == .notLinearizable)
        // The read overlaps the create: it may come first.
        #expect(try verdict("""
            0 10 30 create k created
            1 20 40 read k absent
            2 25 35 read k present
            """) == .linearizable)
        // Two overlapping reads of a key created before both: neither may miss it.
        #expect(try verdict("""
            0 10 20 create k created
            1 30 50 read k present
            2 35 45 read k absent
            """) == .notLinearizable)
    }

    @Test("a delete answering not-found after a completed create is caught, as is a create of an existing key")
    func staleWrites() throws {
        #expect(try verdict("""
            0 10 20 create k created
            1 30 40 delete k not-found
            """) == .notLinearizable)
        #expect(try verdict("""
            0 10 20 create k created
            1 30 40 create k created
            """) == .notLinearizable)
        #expect(try verdict("""
            0 10 20 create k created
            1 30 40 create k already-exists
            0 50 60 delete k deleted
            1 70 80 delete k not-found
            2 90 95 read k absent
            """) == .linearizable)
        // already-exists with nothing ever created.
        #expect(try verdict("0 10 20 create k already-exists\n") == .notLinearizable)
    }

    @Test("an unknown outcome may take effect any time after its call, or never")
    func unknownOutcomes() throws {
        // The unknown create shows up late, after a read that missed it.
        #expect(try verdict("""
            0 10 inf create k unknown
            1 20 30 read k absent
            1 40 50 read k present
            1 60 70 delete k deleted
            """) == .linearizable)
        // Never seen: as if it never happened (or happened last).
        #expect(try verdict("""
            0 10 inf create k unknown
            1 20 30 read k absent
            1 40 50 read k absent
            """) == .linearizable)
        // But not before its call.
        #expect(try verdict("""
            1 5 8 read k present
            0 10 inf create k unknown
            """) == .notLinearizable)
        // It takes effect once: present, absent after a delete, present again needs another create.
        #expect(try verdict("""
            0 10 inf create k unknown
            1 20 30 read k present
            1 40 50 delete k deleted
            1 60 70 read k present
            """) == .notLinearizable)
    }

    @Test("many pending unknown outcomes: each takes effect at most once, and the search ends",
          arguments: [(40, LinearizabilityVerdict.linearizable), (41, .notLinearizable)])
    func manyUnknowns(flips: Int, expected: LinearizabilityVerdict) {
        // 40 unknown creates and 40 unknown deletes, all called first; then sequential reads
        // flipping absent/present: each flip needs one of them, so 41 flips cannot be explained.
        var operations: [HistoryOperation<Model.Input, Model.Output>] = []
        for i in 0..<40 {
            operations.append(.init(client: i, call: i, returned: Int.max, input: Model.Input(.create, key: "k"), output: .unknown))
            operations.append(.init(client: 40 + i, call: i, returned: Int.max, input: Model.Input(.delete, key: "k"), output: .unknown))
        }
        for flip in 0...(2 * flips) {
            operations.append(.init(client: 100, call: 100 + 2 * flip, returned: 101 + 2 * flip, input: Model.Input(.read, key: "k"),
                                    output: .read(exists: flip % 2 == 1)))
        }
        // Decided within the default budget (about 0.5 s) only because interchangeable unknown
        // operations are tried one per kind; trying them all gives up (unknown) at 50M steps, 36 s.
        #expect(LinearizabilityChecker.check(Model.self, operations) == expected)
    }

    @Test("the partitioned check names the key that is not linearizable and counts its operations")
    func namesTheKey() throws {
        let operations = try HistoryFormats.membership("""
            0 10 20 create a created
            1 30 40 read a present
            0 10 20 create b created
            1 30 40 read b absent
            2 50 60 read b present
            """)
        let result = LinearizabilityChecker.checkPartitions(Model.self, operations, partitionedBy: { $0.key })
        #expect(result.verdict == .notLinearizable)
        #expect(result.failing?.key == "b" && result.failing?.operations == 3)
        let good = LinearizabilityChecker.checkPartitions(Model.self, Array(operations.prefix(2)), partitionedBy: { $0.key })
        #expect(good.verdict == .linearizable && good.failing == nil && good.undecided.isEmpty)
    }
}
