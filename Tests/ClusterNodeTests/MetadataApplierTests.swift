import ClusterEngine
import Foundation
import Logging
import NIOPosix
import Testing
@testable import ClusterNode

/// A proposer waits for its entry by index and term (`MetadataApplier.waitApplied`): an entry
/// of another term at that index is another leader's, which replaced the proposal, and must not
/// hand its outcome to the proposer. The proposer's task can reach the wait after the index was
/// applied (a slow hop under load), so the check holds on that path too.
@Suite("metadata applier: waiting for one's own entry")
struct MetadataApplierTests {
    private func applier(_ group: MultiThreadedEventLoopGroup) throws -> MetadataApplier {
        let directory = NSTemporaryDirectory() + "applier-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let snapshot = Snapshot(index: 0, term: 0, configuration: Configuration(voters: [1]), data: ClusterMetadata().encoded())
        return try MetadataApplier(loop: group.next(), snapshot: snapshot, effects: nil, directory: directory,
                                   logger: Logger(label: "test"))
    }

    private func create(_ name: String) -> [UInt8] {
        ClusterMetadata.encode(.createCollection(.init(name: name, dimension: 4, metric: 1, request: [], createdIndex: 0)))
    }

    @Test("a wait that begins after its index was applied in another term fails; in its own term it gets the outcome")
    func waitAfterApply() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let applier = try applier(group)
        // Index 1 applied in term 3 (another leader's create of "docs"), index 2 in term 3 too.
        applier.enqueue(snapshot: nil, entries: [Entry(term: 3, index: 1, payload: .command(create("docs"))),
                                                 Entry(term: 3, index: 2, payload: .command(create("docs")))])
        #expect(try await applier.waitApplied(1, term: 3, timeout: .seconds(5)) == .applied)
        #expect(try await applier.waitApplied(2, term: 3, timeout: .seconds(5)) == .alreadyExists)
        // The proposer of term 2 whose entry sat at index 1 before it was replaced.
        let replaced = await #expect(throws: ClusterError.self) { try await applier.waitApplied(1, term: 2, timeout: .seconds(5)) }
        #expect(replaced?.code == .unavailable)
        // Without a term (a forwarded proposal, answered once the leader applied it), the outcome.
        #expect(try await applier.waitApplied(1, timeout: .seconds(5)) == .applied)
        try await group.shutdownGracefully()
    }

    @Test("a wait that begins before its index is applied fails when another term's entry arrives there")
    func waitBeforeApply() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let applier = try applier(group)
        let mine = Task { try await applier.waitApplied(1, term: 2, timeout: .seconds(5)) }
        try await Task.sleep(for: .milliseconds(100))
        applier.enqueue(snapshot: nil, entries: [Entry(term: 3, index: 1, payload: .command(create("docs")))])
        await #expect(throws: ClusterError.self) { try await mine.value }
        try await group.shutdownGracefully()
    }

    private func snapshot(index: UInt64, term: UInt64) -> Snapshot {
        Snapshot(index: index, term: term, configuration: Configuration(voters: [1]), data: ClusterMetadata().encoded())
    }

    @Test("an entry covered by an installed snapshot: its own term's proposer learns it is applied, outcome unknown; any other proposer cannot tell")
    func snapshotCoversTheEntry() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let applier = try applier(group)
        // Waiting before the snapshot arrives: one proposer of term 2 at index 3, one of term 1 at index 2.
        let ours = Task { try await applier.waitApplied(3, term: 2, timeout: .seconds(5)) }
        let older = Task { try await applier.waitApplied(2, term: 1, timeout: .seconds(5)) }
        let forwarded = Task { try await applier.waitApplied(3, timeout: .seconds(5)) }
        try await Task.sleep(for: .milliseconds(100))
        // Through index 5, whose entry is of term 2: entries 1-5 are the term-2 leader's log.
        applier.enqueue(snapshot: snapshot(index: 5, term: 2), entries: [])
        #expect(try await ours.value == nil)
        let unknown = await #expect(throws: ClusterError.self) { try await older.value }
        #expect(unknown?.code == .deadlineExceeded)
        // A forwarded proposal reads the outcome here: not known, so the call cannot answer with one.
        #expect(try await forwarded.value == nil)
        #expect(throws: ClusterError.self) { try MetadataApplier.known(nil) }
        // The same answers for waits that begin after the snapshot was installed.
        #expect(try await applier.waitApplied(4, term: 2, timeout: .seconds(5)) == nil)
        await #expect(throws: ClusterError.self) { try await applier.waitApplied(4, term: 1, timeout: .seconds(5)) }
        // A snapshot ending in a later term: no proposer of term 2 can tell whether its entry survived.
        applier.enqueue(snapshot: snapshot(index: 9, term: 4), entries: [Entry(term: 4, index: 10, payload: .command(create("docs")))])
        await #expect(throws: ClusterError.self) { try await applier.waitApplied(7, term: 2, timeout: .seconds(5)) }
        #expect(try await applier.waitApplied(9, term: 4, timeout: .seconds(5)) == nil)
        // Entries applied after it are known again.
        #expect(try await applier.waitApplied(10, term: 4, timeout: .seconds(5)) == .applied)
        try await group.shutdownGracefully()
    }
}
