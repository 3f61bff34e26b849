import Testing
@testable import VectorEngine

/// `HNSWIndex.neighbourhood`: the candidates and their layer-0 links as the learned re-ranker
/// reads them.
@Suite struct NeighbourhoodTests {
    func build(count: Int = 2000) throws -> (HNSWIndex, [[Float]]) {
        let data = Array(clusteredData(count: count, dimension: 16, seed: 3))
        let index = try HNSWIndex(dimension: 16, metric: .l2Squared, parameters: .init(m: 16, efConstruction: 100, seed: 3))
        for (i, v) in data.enumerated() { try index.upsert(id: UInt64(i), vector: v, payload: [:]) }
        return (index, data)
    }

    @Test func centresComeFirstAndEveryLinkIsAStoredLayerZeroLink() throws {
        let (index, data) = try build()
        let centres = try index.search(data[7], k: 100, ef: 100).map(\.id)
        let area = index.neighbourhood(of: centres, linksPerNode: 16)
        #expect(area.centres == centres && Array(area.nodes.prefix(centres.count)) == centres)
        #expect(Set(area.nodes).count == area.nodes.count && area.vectors.count == area.nodes.count)
        for (i, id) in area.nodes.enumerated() { #expect(area.vectors[i] == index.vector(id: id)) }
        let stored = index.access.shared { g, _ in
            centres.map { id in Array(g.neighbors(g.internalOf[id]!, level: 0)).map { g.externalIds[Int($0)] } }
        }
        for (c, links) in area.links.enumerated() {
            #expect(links.map { area.nodes[Int($0)] } == Array(stored[c].prefix(16)))
        }
        print("100 candidates, 16 links each: \(area.nodes.count - centres.count) linked points outside the candidates")
    }

    @Test func theCapOnExtraNodesShortensEveryListAlikeAndKeepsLinksAmongCandidates() throws {
        let (index, data) = try build()
        let centres = try index.search(data[11], k: 50, ef: 100).map(\.id)
        let full = index.neighbourhood(of: centres, linksPerNode: 16)
        let capped = index.neighbourhood(of: centres, linksPerNode: 16, maxExtraNodes: 60)
        #expect(capped.nodes.count - centres.count == min(60, full.nodes.count - centres.count))
        for c in centres.indices {
            let kept = capped.links[c].map { capped.nodes[Int($0)] }
            let all = full.links[c].map { full.nodes[Int($0)] }
            // A subsequence of the full list holding every link to another candidate.
            #expect(kept.allSatisfy(all.contains))
            #expect(all.filter(centres.contains).allSatisfy(kept.contains))
        }
        // Round by round: the first link of every candidate fits under this cap.
        #expect(capped.links.allSatisfy { !$0.isEmpty })
    }

    @Test func deletedPointsAndUnknownIdsAreLeftOut() throws {
        let (index, data) = try build(count: 500)
        let centres = try index.search(data[0], k: 20, ef: 64).map(\.id)
        let firstLink = try #require(index.neighbourhood(of: [centres[0]], linksPerNode: 32).nodes.dropFirst().first { !centres.contains($0) })
        #expect(index.delete(id: centres[1]) && index.delete(id: firstLink))
        let area = index.neighbourhood(of: centres + [999_999], linksPerNode: 8)
        #expect(area.centres == centres.filter { $0 != centres[1] })
        #expect(!area.nodes.contains(centres[1]) && !area.nodes.contains(firstLink))
        #expect(index.neighbourhood(of: centres, linksPerNode: 0).links.allSatisfy { $0.isEmpty })
    }
}
