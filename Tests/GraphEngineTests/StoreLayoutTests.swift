import Testing
import VectorEngine
@testable import GraphEngine

/// The store's read paths that do not read the node (label bitsets, property columns,
/// adjacency entries with the other end and type) against the nodes and relationships
/// themselves, through random changes, copies (copy-on-write by chunk) and `apply`.
@Suite("the store's layout: id tables, label bitsets, property columns, adjacency entries")
struct StoreLayoutTests {
    /// Every derived read agrees with the elements.
    private static func check(_ store: GraphStore, labels: [String], keys: [String],
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let ids = store.allNodeIds()
        #expect(ids.count == store.nodeCount, sourceLocation: sourceLocation)
        // Each node's relationships as the relationships themselves say, ascending ids.
        var starting: [Int: [Relationship]] = [:], ending: [Int: [Relationship]] = [:]
        for rid in store.allRelationshipIds() {
            let r = store.relationship(rid)!
            starting[r.start, default: []].append(r)
            ending[r.end, default: []].append(r)
        }
        for id in 0..<store.nextElementId {
            let node = store.node(id)
            for label in labels {
                #expect(store.node(id, hasLabels: [label]) == (node?.labels.contains(label) ?? false),
                        "node \(id) :\(label)", sourceLocation: sourceLocation)
            }
            for key in keys {
                #expect(store.nodeProperty(id, key) == node?.properties[key], "node \(id).\(key)", sourceLocation: sourceLocation)
            }
            guard node != nil else { continue }
            for direction in [Direction.outgoing, .incoming, .both] {
                for types in [[], ["R"], ["S", "R"], ["missing"]] {
                    var walked: [[Int]] = []
                    store.forEachRelationship(of: id, types, direction) { rid, other in walked.append([rid, other]) }
                    var expected: [[Int]] = []
                    if direction != .incoming {
                        expected += (starting[id] ?? []).filter { types.isEmpty || types.contains($0.type) }.map { [$0.id, $0.end] }
                    }
                    if direction != .outgoing {
                        expected += (ending[id] ?? []).filter { (types.isEmpty || types.contains($0.type)) && !(direction == .both && $0.start == $0.end) }
                            .map { [$0.id, $0.start] }
                    }
                    #expect(walked == expected, "node \(id) \(direction) \(types)", sourceLocation: sourceLocation)
                }
            }
        }
        for label in labels {
            #expect(store.nodeIds(withLabel: label) == ids.filter { store.node($0)!.labels.contains(label) },
                    sourceLocation: sourceLocation)
        }
    }

    @Test("random changes, copies and apply keep every derived read equal to the elements")
    func randomChanges() throws {
        var rng = SeededGenerator(seed: 11)
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        let labels = ["A", "B", "C"], keys = ["k", "w", "s"]
        var store = GraphStore()
        // Enough nodes with "k" and :A for a column and a bitset; "s" on few nodes (no column).
        for i in 0..<6_000 {
            var properties: [String: Value] = ["k": .int(Int64(pick(50)))]
            if pick(3) == 0 { properties["w"] = .float(Double(pick(7))) }
            if pick(500) == 0 { properties["s"] = .string("s\(i)") }
            try store.createNode(labels: pick(5) == 0 ? ["B"] : ["A"], properties: properties)
        }
        for _ in 0..<3_000 {
            let a = pick(6_000), b = pick(20) == 0 ? a : pick(6_000)
            try store.createRelationship(type: pick(3) == 0 ? "S" : "R", from: a, to: b)
        }
        #expect(store.propertyColumns.hasColumn("k"))
        #expect(!store.propertyColumns.hasColumn("s"))
        #expect(store.labelIndex.bitset("A") != nil)
        Self.check(store, labels: labels, keys: keys)

        // A copy is a snapshot: changes to one never show in the other.
        let before = store
        let beforeNodes = before.allNodeIds().map { before.node($0)! }
        for _ in 0..<400 {
            let id = pick(6_000)
            guard store.node(id) != nil else { continue }
            switch pick(7) {
            case 0: try store.setNodeProperty(id, "k", pick(4) == 0 ? .null : .int(Int64(pick(50))))
            case 1: try store.setNodeProperty(id, "w", .string("w"))
            case 2: try store.addLabel(id, labels[pick(3)])
            case 3: store.removeLabel(id, labels[pick(3)])
            case 4: try store.deleteNode(id, detach: true)
            case 5:
                let to = pick(6_000)
                if store.node(to) != nil { try store.createRelationship(type: "R", from: id, to: to) }
            default:
                if let r = store.outgoingRelationships(of: id).first { store.deleteRelationship(r) }
            }
        }
        Self.check(store, labels: labels, keys: keys)
        #expect(before.allNodeIds().map { before.node($0)! } == beforeNodes)
        Self.check(before, labels: labels, keys: keys)

        // The changes applied to the snapshot give the same store.
        var replayed = before
        try replayed.apply(store.takeChanges())
        #expect(replayed.allNodeIds() == store.allNodeIds())
        #expect(replayed.allNodeIds().allSatisfy { replayed.node($0) == store.node($0) })
        Self.check(replayed, labels: labels, keys: keys)

        // Deleting most nodes drops the column and the bitset; reads stay right.
        for id in store.allNodeIds() where id % 200 != 0 { try store.deleteNode(id, detach: true) }
        #expect(!store.propertyColumns.hasColumn("k"))
        #expect(store.labelIndex.bitset("A") == nil)
        Self.check(store, labels: labels, keys: keys)
    }

    @Test("a change naming a negative id (a damaged log or snapshot) is refused before the store changes")
    func negativeIdsRefused() {
        var store = GraphStore()
        var changes = GraphChanges()
        changes.nodes[0] = Node(id: 0, labels: ["A"], properties: [:])
        changes.nodes[-3] = Node(id: -3, labels: ["A"], properties: [:])
        #expect(throws: GraphError.self) { try store.apply(changes) }
        #expect(store.nodeCount == 0)
    }

    @Test("an id table lends elements, counts them, walks them by id and copies by chunk")
    func idTable() {
        var table = IdTable<[Int]>()
        table[5] = [5]
        table[9_000] = [9]
        table[5, default: []].append(6)
        #expect(table.count == 2)
        #expect(table[5] == [5, 6] && table[6] == nil && table[-1] == nil && table[1 << 40] == nil)
        #expect(table.ids == [5, 9_000] && table.values == [[5, 6], [9]])
        let copy = table
        table[5] = nil
        table[9_000]?.append(10)
        #expect(copy[5] == [5, 6] && copy[9_000] == [9] && copy.count == 2)
        #expect(table[5] == nil && table[9_000] == [9, 10] && table.count == 1)
        #expect(table.contains(9_000) && !table.contains(5))
    }

    @Test("ids far apart (each transaction reserves a million) cost an entry each, not a chunk; dense ones get chunks")
    func sparseIds() {
        var table = IdTable<Int>()
        // 1,000 elements a million ids apart, up to 2^40 and past it: no chunk, no chunk list.
        let scattered = (0..<1_000).map { $0 * (1 << 20) } + [1 << 40, (1 << 50) + 3]
        for id in scattered { table[id] = id }
        #expect(table.count == scattered.count && table.allocatedSlots == 0)
        #expect(scattered.allSatisfy { table[$0] == $0 } && table[(1 << 40) + 1] == nil)
        // A dense run gets chunks (moving the loose elements of its range in); order holds.
        for id in 5_000..<20_000 { table[id] = id }
        #expect(table.allocatedSlots > 0 && table.allocatedSlots <= 5 * IdTable<Int>.chunkSize)
        let all = (scattered + Array(5_000..<20_000)).sorted()
        #expect(table.ids == all && table.values == all)
        // A copy stays as it was while the table changes, in chunks and loose alike.
        let copy = table
        for id in 5_000..<20_000 { table[id] = nil }
        table[1 << 40] = 7
        table[8_192, default: 0] += 1
        #expect(copy.ids == all && copy[1 << 40] == 1 << 40 && copy[8_192] == 8_192)
        #expect(table[1 << 40] == 7 && table[8_192] == 1 && table.count == scattered.count + 1)
        #expect(table.allocatedSlots == 0, "emptied chunks are freed")
    }

    @Test("a dense label's bitset is dropped, not grown, when a node far away gets the label")
    func labelBitsetStaysBounded() throws {
        var store = GraphStore()
        for _ in 0..<1_000 { try store.createNode(labels: ["A"]) }
        #expect(store.labelIndex.bitset("A") != nil)
        // As a transaction would: create from a range far above.
        store.useIds((1 << 40)..<((1 << 40) + 10))
        let far = try store.createNode(labels: ["A"])
        #expect(store.labelIndex.bitset("A") == nil)
        #expect(store.node(far, hasLabels: ["A"]) && store.node(3, hasLabels: ["A"]) && !store.node(far + 1, hasLabels: ["A"]))
        #expect(store.nodeIds(withLabel: "A").count == 1_001)
    }
}
