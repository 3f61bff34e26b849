import ClusterEngine
import Logging
import NIOCore
import Storage
import Synchronization

/// What a node does locally when the metadata changes (create or delete a collection's files).
/// Called on the applier's thread, in log order.
public protocol MetadataEffects: Sendable {
    /// A committed command was applied to the metadata with `outcome` (`metadata` is the
    /// state right after it); returns whether it changed anything on this node besides the
    /// metadata (files created or deleted).
    func applied(_ command: ClusterMetadata.Command, outcome: ClusterMetadata.Outcome, index: UInt64,
                 metadata: ClusterMetadata) throws -> Bool
    /// The metadata was replaced by a snapshot from the leader: make the local state match it.
    func restored(_ metadata: ClusterMetadata) throws
    /// A batch of entries was applied and `metadata` published (what `ClusterNode.metadata`
    /// reads from now on): work that reads the node's metadata starts here.
    func published(_ metadata: ClusterMetadata)
}

/// Applies committed entries to the metadata, in order, on a thread of its own (so a slow
/// side effect, such as creating a collection's files, never delays heartbeats), and wakes
/// the calls waiting for an index to be applied.
///
/// Side effects are idempotent (create when missing, delete when present) and their progress
/// is persisted (`effects-applied`): a restarted node replays the log into the metadata but
/// repeats no side effect it already made, so an old "delete x" replayed after a newer
/// "create x" cannot delete the new collection's data.
final class MetadataApplier: @unchecked Sendable {
    let loop: any EventLoop
    private let effects: (any MetadataEffects)?
    private let effectsPath: String
    private let logger: Logger
    /// Owned by `loop`.
    private var metadata: ClusterMetadata
    private var applied: UInt64
    private var effectsApplied: UInt64
    /// The term of each applied entry whose outcome is kept (`outcomes`), so a waiter that
    /// arrives after its index was applied can tell its own entry from one that replaced it.
    private var termsApplied: [UInt64: UInt64] = [:]
    private var outcomes: [UInt64: ClusterMetadata.Outcome] = [:]
    /// The last index and its term of the newest snapshot this applier started from or installed:
    /// entries up to it have no term or outcome here.
    private var snapshotPoint: (index: UInt64, term: UInt64)
    private var waiters: [UInt64: [UInt64: (term: UInt64?, continuation: CheckedContinuation<ClusterMetadata.Outcome?, any Error>)]] = [:]
    private var nextToken: UInt64 = 0
    /// Outcomes kept for forwarded calls to read once they applied this far.
    private static let outcomesKept = 4096
    /// What a proposer hears when another entry took its proposal's place in the log.
    private static let replaced = ClusterError(.unavailable, "leadership changed before the change was committed; it was not applied: retry")
    /// What a proposer hears when its entry's index was covered by a snapshot before it learned
    /// whose entry sat there.
    private static let unknown = ClusterError(.deadlineExceeded,
        "this node received a snapshot covering the change before it learned whether the change was applied; it may have been: check before retrying")

    /// What other threads read: the metadata and how far it is applied.
    let published: Mutex<(metadata: ClusterMetadata, applied: UInt64)>
    /// Told (on the applier's loop) when `applied` passes a multiple of the compaction interval.
    var onApplied: (@Sendable (UInt64, ClusterMetadata) -> Void)?

    init(loop: any EventLoop, snapshot: Snapshot, effects: (any MetadataEffects)?, directory: String, logger: Logger) throws {
        self.loop = loop
        self.effects = effects
        self.logger = logger
        effectsPath = directory + "/effects-applied"
        metadata = try ClusterMetadata(decoding: snapshot.data)
        applied = snapshot.index
        snapshotPoint = (snapshot.index, snapshot.term)
        if AtomicFile.exists(effectsPath) {
            var r = BinaryReader(try AtomicFile.read(effectsPath))
            effectsApplied = (try? r.u64()) ?? 0
        } else {
            effectsApplied = 0
        }
        published = Mutex((metadata, applied))
    }

    /// Applies a batch from a Ready (on any thread; runs on the applier's loop, in order).
    func enqueue(snapshot: Snapshot?, entries: [Entry]) {
        loop.execute { self.apply(snapshot: snapshot, entries: entries) }
    }

    private func apply(snapshot: Snapshot?, entries: [Entry]) {
        // Waiters wake only after `published` shows what they waited for: a linearizable read
        // that returns from its wait reads the published metadata next.
        var resolutions: [(index: UInt64, term: UInt64?, outcome: ClusterMetadata.Outcome?)] = []
        // Only a batch with side effects moves the persisted mark (an fsync or three): replaying
        // entries without effects after a restart does nothing twice.
        var hadEffects = false
        if let snapshot, snapshot.index > applied {
            do {
                metadata = try ClusterMetadata(decoding: snapshot.data)
                try effects?.restored(metadata)
                applied = snapshot.index
                snapshotPoint = (snapshot.index, snapshot.term)
                effectsApplied = max(effectsApplied, snapshot.index)
                try persistEffectsApplied()
                logger.info("metadata snapshot installed", metadata: [
                    "index": "\(snapshot.index)", "members": "\(metadata.members.count)", "collections": "\(metadata.collections.count)"])
            } catch {
                logger.error("cannot install the metadata snapshot", metadata: ["index": "\(snapshot.index)", "error": "\(error)"])
            }
            // Waiters at or below the snapshot: whose entries are there, and their outcomes, is unknown.
            for index in waiters.keys where index <= applied { resolutions.append((index, nil, nil)) }
        }
        for entry in entries where entry.index == applied + 1 {
            var outcome = ClusterMetadata.Outcome.applied
            if case .command(let bytes) = entry.payload {
                do {
                    let command = try ClusterMetadata.decode(bytes)
                    outcome = metadata.apply(command, index: entry.index)
                    if entry.index > effectsApplied, let effects {
                        if try effects.applied(command, outcome: outcome, index: entry.index, metadata: metadata) { hadEffects = true }
                    }
                } catch {
                    logger.error("a committed metadata entry could not be applied here", metadata: [
                        "index": "\(entry.index)", "error": "\(error)"])
                }
            }
            applied = entry.index
            outcomes[entry.index] = outcome
            termsApplied[entry.index] = entry.term
            let forgotten = entry.index - UInt64(min(Int(entry.index), Self.outcomesKept))
            outcomes[forgotten] = nil
            termsApplied[forgotten] = nil
            resolutions.append((entry.index, entry.term, outcome))
        }
        if applied > effectsApplied { effectsApplied = applied }
        if hadEffects {
            do { try persistEffectsApplied() } catch {
                logger.error("cannot record applied metadata effects", metadata: ["error": "\(error)"])
            }
        }
        let (metadata, applied) = (self.metadata, self.applied)
        published.withLock { $0 = (metadata, applied) }
        effects?.published(metadata)
        for resolution in resolutions { resolve(resolution.index, term: resolution.term, outcome: resolution.outcome) }
        onApplied?(applied, metadata)
    }

    private func persistEffectsApplied() throws {
        var w = BinaryWriter()
        w.u64(effectsApplied)
        try AtomicFile.write(w.bytes, to: effectsPath)
    }

    private func resolve(_ index: UInt64, term: UInt64?, outcome: ClusterMetadata.Outcome?) {
        guard let list = waiters.removeValue(forKey: index) else { return }
        for waiter in list.values {
            waiter.continuation.resume(with: answer(index, expected: waiter.term, entryTerm: term, outcome: outcome))
        }
    }

    /// What a wait for `index` (proposed in term `expected`, if given) gets, the entry there
    /// having been applied in `entryTerm` with `outcome` (nil: not known here, the entry was
    /// covered by a snapshot or applied too long ago).
    private func answer(_ index: UInt64, expected: UInt64?, entryTerm: UInt64?,
                        outcome: ClusterMetadata.Outcome?) -> Result<ClusterMetadata.Outcome?, any Error> {
        guard let expected else { return .success(outcome) }
        if let entryTerm { return entryTerm == expected ? .success(outcome) : .failure(Self.replaced) }
        // The snapshot's last entry is of the proposer's term: the proposer led that term and
        // appended both, so by Log Matching the entry at `index` is its own (its outcome unknown).
        if index <= snapshotPoint.index && snapshotPoint.term == expected { return .success(nil) }
        return .failure(Self.unknown)
    }

    /// Waits until entry `index` is applied and returns its outcome, nil when this node does not
    /// know it (a snapshot covered the entry: `outcome(ofWaitFor:)` turns that into an error for
    /// calls that answer with it). With `term`, the entry must be the one proposed in that term
    /// (another leader may have replaced it: then it throws).
    func waitApplied(_ index: UInt64, term: UInt64? = nil, timeout: Duration) async throws -> ClusterMetadata.Outcome? {
        let ticket = Ticket()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ClusterMetadata.Outcome?, any Error>) in
                loop.execute {
                    if index <= self.applied {
                        // Applied before this wait began (the proposer's task was slow to get here):
                        // the entry there may be another leader's that replaced the proposal (seen
                        // as two creates of one name both answered "created" under faults).
                        continuation.resume(with: self.answer(index, expected: term, entryTerm: self.termsApplied[index],
                                                              outcome: self.outcomes[index]))
                        return
                    }
                    self.nextToken += 1
                    let token = self.nextToken
                    self.waiters[index, default: [:]][token] = (term, continuation)
                    ticket.place = (index, token)
                    if ticket.cancelled { self.fail(index, token, with: CancellationError()) }
                    self.loop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
                        self.fail(index, token, with: ClusterError(.deadlineExceeded,
                            "the change was not applied on this node in time; it may still be"))
                    }
                }
            }
        } onCancel: {
            loop.execute {
                ticket.cancelled = true
                if let (index, token) = ticket.place { self.fail(index, token, with: CancellationError()) }
            }
        }
    }

    private func fail(_ index: UInt64, _ token: UInt64, with error: any Error) {
        guard let waiter = waiters[index]?.removeValue(forKey: token) else { return }
        if waiters[index]?.isEmpty == true { waiters[index] = nil }
        waiter.continuation.resume(throwing: error)
    }

    /// Fails every waiting call (the node is stopping: its loops will not run their timeouts).
    func stop() async {
        let failed = loop.submit {
            let waiting = self.waiters
            self.waiters = [:]
            for list in waiting.values {
                for waiter in list.values {
                    waiter.continuation.resume(throwing: ClusterError(.unavailable, "the node is shutting down"))
                }
            }
        }
        _ = try? await failed.get()
    }

    /// `outcome` (from `waitApplied`) for a call that answers with it: unknown is an error.
    static func known(_ outcome: ClusterMetadata.Outcome?) throws -> ClusterMetadata.Outcome {
        guard let outcome else { throw unknown }
        return outcome
    }

    /// The metadata as of the last applied entry, and that entry's index.
    var current: (metadata: ClusterMetadata, applied: UInt64) { published.withLock { $0 } }
}

/// Where a waiting call's continuation is, so its task's cancellation can find it (touched
/// on the applier's loop only).
private final class Ticket: @unchecked Sendable {
    var place: (index: UInt64, token: UInt64)?
    var cancelled = false
}

extension Duration {
    /// The duration in whole nanoseconds (negative durations give 0).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
