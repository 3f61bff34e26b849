import Testing
import VectorEngine
@testable import GraphEngine

@Suite struct SortedIdsTests {
    /// Seeded inserts and removes (appends, inserts in the middle, repeats, misses) across many
    /// chunks, checked after every step against a `Set` oracle sorted.
    @Test(arguments: [1, 2, 3])
    func matchesASortedSetOracle(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        var ids = SortedIds(), oracle = Set<Int>()
        let span = 5 * SortedIds.chunkCapacity
        for step in 0..<20_000 {
            let id = step < span ? step : Int(rng.next() % UInt64(span + 100))
            if rng.next() % 3 == 0 {
                #expect(ids.remove(id) == (oracle.remove(id) != nil))
            } else {
                #expect(ids.insert(id) == oracle.insert(id).inserted)
            }
            #expect(ids.count == oracle.count)
            if step % 997 == 0 { #expect(ids.elements == oracle.sorted()) }
        }
        #expect(ids.elements == oracle.sorted())
        for probe in 0..<(span + 100) { #expect(ids.contains(probe) == oracle.contains(probe)) }
        for id in oracle { ids.remove(id) }
        #expect(ids.isEmpty && ids.elements.isEmpty)
    }

    /// What the store's readers rely on: label, adjacency and hyperedge ids in ascending order,
    /// also after deletes and after changes are applied to another store.
    @Test func storeIndexesStaySortedThroughDeletesAndApply() throws {
        var s = GraphStore()
        let hub = try s.createNode(labels: ["Hub"])
        var people: [Int] = []
        for _ in 0..<(3 * SortedIds.chunkCapacity) { people.append(try s.createNode(labels: ["Person"])) }
        var rels: [Int] = []
        for p in people { rels.append(try s.createRelationship(type: "R", from: hub, to: p)) }
        for p in people.filter({ $0 % 7 == 0 }) { try s.deleteNode(p, detach: true) }
        let kept = people.filter { $0 % 7 != 0 }
        #expect(s.nodeIds(withLabel: "Person") == kept)
        #expect(s.outgoingRelationships(of: hub) == rels.filter { s.relationship($0) != nil })
        try s.addLabel(people[0] + 1, "Hub")
        s.removeLabel(hub, "Hub")
        #expect(s.nodeIds(withLabel: "Hub") == [people[0] + 1])

        var copy = GraphStore()
        try copy.apply(s.everything)
        #expect(copy.nodeIds(withLabel: "Person") == kept)
        #expect(copy.outgoingRelationships(of: hub) == s.outgoingRelationships(of: hub))
        #expect(copy.incomingRelationships(of: kept[5]) == s.incomingRelationships(of: kept[5]))
    }
}
