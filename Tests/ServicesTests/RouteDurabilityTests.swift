import Foundation
import LearnEngine
import RouteEngine
import Storage
import Testing
import Wire
import WorkControl
@testable import Services

/// The outcome log's window (compaction in the background, crashes part-way) and breakers that
/// outlive a restart (RouteStore+Durability.swift).
@Suite("router durability: outcome window and breakers")
struct RouteDurabilityTests {
    private func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "routedurability-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func definition(window: UInt32 = 100) -> RuvectorV1.CreateRouterRequest {
        var d = RuvectorV1.CreateRouterRequest(name: "r", candidates: [RuvectorV1.Candidate(name: "cheap", cost: 1, quality: 0.5),
                                                                       RuvectorV1.Candidate(name: "strong", cost: 5, quality: 0.9)],
                                               featureSize: 2, timeSteps: 3, hiddenSize: 8)
        d.outcomeWindow = window
        d.fallback = .strongest
        d.breakerFailures = 2
        d.breakerCoolDownMillis = 1000
        return RouteLimits.resolved(d)
    }

    /// Outcome `n`: a request of its own that succeeded on the cheap candidate.
    private func outcome(_ n: Int) -> RuvectorV1.RecordOutcomeRequest {
        RuvectorV1.RecordOutcomeRequest(router: "r", requestId: "q\(n)", candidate: "cheap", success: true,
                                        features: RuvectorV1.Vector(values: (0..<6).map { Float(($0 + n) % 5) - 2 }))
    }

    private func segments(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory + "/route/r/outcomes").filter { $0.hasSuffix(".log") }.sorted()
    }

    /// Waits (at most 10 s) until no background compaction of `store` is running.
    private func settle(_ store: RouteStore) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while store.compaction.withLock({ $0.running }) {
            try #require(ContinuousClock.now < deadline, "compaction did not finish in 10 s")
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The numbers of the outcomes `store` holds.
    private func held(_ store: RouteStore) throws -> [UInt64] {
        try store.outcomes(from: 0, limit: .max).map(\.number)
    }

    @Test("a router fed far past its window stays bounded, on disk and after a reopen; training reads exactly the window")
    func windowBoundsTheLog() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var catalog: RouteCatalog? = try RouteCatalog(dataDirectory: directory)
        let store = try #require(try catalog?.create(definition()))
        var unbounded = definition(window: 100_000)
        unbounded.name = "unbounded"
        let baseline = try #require(try catalog?.create(unbounded))
        // Appends to a router that compacts and, interleaved, to one that never does (the
        // baseline for a synced append on this machine now): the longest of each is printed.
        var longest = (compacting: Duration.zero, baseline: Duration.zero)
        for n in 0..<1500 {
            var start = ContinuousClock.now
            #expect(try store.appendOutcome(outcome(n)) == UInt64(n + 1))
            longest.compacting = max(longest.compacting, ContinuousClock.now - start)
            start = ContinuousClock.now
            _ = try baseline.appendOutcome(outcome(n))
            longest.baseline = max(longest.baseline, ContinuousClock.now - start)
        }
        print("longest synced outcome append over 1500: \(longest.compacting) with a window of 100 (compacting every 6), "
            + "\(longest.baseline) without compaction")
        try await settle(store)
        let log = store.outcomeLog
        // The window (100), what the last compaction step left (100 / 16) and one segment of about
        // 60 outcomes (4 KiB): without compaction the log would hold 1500 outcomes, about 90 KB.
        #expect(log.records >= 100 && log.records <= 100 + 6 + 100, "held \(log.records)")
        #expect(log.bytes <= 4 * 4096, "\(log.bytes) bytes")
        #expect(try held(store).suffix(100) == Array(1401...1500))
        #expect(store.status().outcomeLogRecords == log.records && store.status().outcomesRecorded == 1500)
        #expect(baseline.outcomeLog.records == 1500)
        _ = catalog?.close()
        catalog = nil

        let reopened = try RouteCatalog(dataDirectory: directory)
        let again = try reopened.store("r")
        #expect(again.outcomesRecorded == 1500 && again.outcomeLog.records <= 206)
        #expect(try held(again).suffix(100) == Array(1401...1500))
        #expect(try again.appendOutcome(outcome(1500)) == 1501)
        // Every outcome is its own labelled request: a run splits exactly the newest 100.
        let status = try RouteTraining.run(store: again, request: RuvectorV1.TrainRouterRequest(router: "r", epochs: 1, seed: 1),
                                           memory: .unlimited(), cancellation: CancellationSignal(), nowMicros: { 0 }, progress: { _ in })
        #expect(status.trainingExamples + status.calibrationCount + status.evaluationCount == 100)
        _ = reopened.close()
    }

    @Test("a compaction cut short after any of its deletions loses no outcome of the window and the log still opens",
          arguments: [1, 2, 3])
    func crashDuringCompaction(deletionsDone: Int) throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var d = definition()
        // The default window, so appends never compact: the test plays compaction's steps itself.
        d.outcomeWindow = 100_000
        var catalog: RouteCatalog? = try RouteCatalog(dataDirectory: directory)
        let store = try #require(try catalog?.create(d))
        _ = catalog?.close()
        catalog = nil
        // A log of many small segments, as a router with a window of 100 writes it.
        let small = WALOptions(segmentSizeBytes: RouteLimits.outcomeSegmentBytes(definition()), syncPolicy: .never, maxRecordBytes: 1 << 20)
        let (log, _) = try WriteAheadLog.open(directory: store.directory + "/outcomes", options: small)
        for n in 0..<600 { _ = try log.append(type: RouteStore.outcomeRecordType, payload: outcome(n).encoded()) }
        try log.close()
        // Compaction to a window of 100 deletes the segments wholly before outcome 501, oldest
        // first; a crash stops it after `deletionsDone` of them.
        let names = try segments(directory)
        let firsts = names.compactMap { UInt64($0.dropFirst(4).dropLast(4)) }
        let doomed = zip(names, firsts.dropFirst()).filter { $0.1 <= 501 }.map(\.0)
        #expect(doomed.count > 3, "\(names)")
        for name in doomed.prefix(deletionsDone) { try FileManager.default.removeItem(atPath: store.directory + "/outcomes/" + name) }

        // The reopened router (window 100) holds outcomes 501...600 and finishes the compaction.
        var reopenedDefinition = d
        reopenedDefinition.outcomeWindow = 100
        try AtomicFile.write(reopenedDefinition.encoded(), to: store.directory + "/router.pb")
        let reopened = try RouteCatalog(dataDirectory: directory)
        let again = try reopened.store("r")
        #expect(again.outcomesRecorded == 600)
        let numbers = try held(again)
        #expect(numbers.suffix(100) == Array(501...600))
        #expect(numbers == Array(numbers.first!...600), "a contiguous suffix")
        #expect(try segments(directory).count == names.count - doomed.count)
        #expect(try again.outcomes(from: 500, limit: 1).first?.outcome == outcome(500))
        _ = reopened.close()
    }

    @Test("a closed router's late work (a queued compaction, a breaker opening) writes nothing: a router recreated under its name is safe")
    func closedRouterWritesNothing() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let catalog = try RouteCatalog(dataDirectory: directory)
        let store = try catalog.create(definition())
        // A log six times its window with no compaction yet: one counts as running meanwhile.
        store.compaction.withLock { $0.running = true }
        for n in 0..<600 { _ = try store.appendOutcome(outcome(n)) }
        store.compaction.withLock { $0.running = false }
        let before = try segments(directory)
        #expect(before.count > 3)
        _ = catalog.close()
        store.compactInBackgroundIfDue(lastSequence: 600)
        try await settle(store)
        store.recordBreakerOutcome(candidate: 0, success: false, nowMillis: 0)
        store.recordBreakerOutcome(candidate: 0, success: false, nowMillis: 0)
        #expect(try segments(directory) == before)
        #expect(!FileManager.default.fileExists(atPath: store.directory + "/breakers.pb"))
    }

    @Test("a damaged breakers.pb is refused at open with a message naming it, as the other router files are")
    func damagedBreakerFile() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var catalog: RouteCatalog? = try RouteCatalog(dataDirectory: directory)
        _ = try catalog?.create(definition())
        _ = catalog?.close()
        catalog = nil
        try AtomicFile.write([0xFF, 0xFF, 0xFF, 0x07], to: directory + "/route/r/breakers.pb")
        let refused = #expect(throws: StorageError.self) { _ = try RouteCatalog(dataDirectory: directory) }
        #expect(refused?.message.contains("breakers.pb") == true)
    }

    @Test("an open breaker stays open across a reopen until its cool-down ends; a closing is remembered too")
    func breakersOutliveAReopen() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var catalog: RouteCatalog? = try RouteCatalog(dataDirectory: directory)
        var store = try #require(try catalog?.create(definition()))
        let features: [Float] = [1, 0, 0, 1, 1, 0]
        // Untrained with the strongest-first fallback: "strong" serves while it may.
        #expect(try store.route(features, requestID: "", nowMillis: 10_000).chosen == "strong")
        store.recordBreakerOutcome(candidate: 1, success: false, nowMillis: 10_000)
        store.recordBreakerOutcome(candidate: 1, success: false, nowMillis: 10_000)   // 2 failures: open until 11 000
        #expect(try store.route(features, requestID: "", nowMillis: 10_100).skippedOpen == ["strong"])

        func reopen() throws {
            _ = catalog?.close()
            catalog = try RouteCatalog(dataDirectory: directory)
            store = try #require(try catalog?.store("r"))
        }
        try reopen()
        let status = store.status().breakers[1]
        #expect(status.state == .open && status.retryAtUnixMicros == 11_000_000)
        let during = try store.route(features, requestID: "", nowMillis: 10_999)
        #expect(during.chosen == "cheap" && during.skippedOpen == ["strong"])
        // The cool-down is over: a trial goes to "strong" (half-open), and the breaker says so after a reopen.
        #expect(try store.route(features, requestID: "", nowMillis: 11_000).chosen == "strong")
        store.recordBreakerOutcome(candidate: 1, success: false, nowMillis: 11_001)   // the trial failed: open until 12 001
        try reopen()
        #expect(store.status().breakers[1].retryAtUnixMicros == 12_001_000)
        #expect(try store.route(features, requestID: "", nowMillis: 12_000).skippedOpen == ["strong"])
        #expect(try store.route(features, requestID: "", nowMillis: 12_001).chosen == "strong")
        try reopen()
        // Half-open when stopped: a trial at once after the reopen; its success closes the breaker for good.
        #expect(store.status().breakers[1].state == .open)
        #expect(try store.route(features, requestID: "", nowMillis: 12_002).chosen == "strong")
        store.recordBreakerOutcome(candidate: 1, success: true, nowMillis: 12_003)
        try reopen()
        #expect(store.status().breakers.allSatisfy { $0.state == .closed })
        #expect(try store.route(features, requestID: "", nowMillis: 12_004).skippedOpen.isEmpty)
        _ = catalog?.close()
    }
}
