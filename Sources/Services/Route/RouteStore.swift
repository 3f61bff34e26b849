import LearnEngine
import RPC
import RouteEngine
import Storage
import Synchronization
import Wire

/// One router's state, on disk under `<data>/route/<router>/` and in memory:
/// - `router.pb`: the definition (a resolved `CreateRouterRequest`), written atomically at creation;
/// - `outcomes/`: a write-ahead log of validated outcomes (`RecordOutcomeRequest`, features
///   resolved), appended and synced before RecordOutcome answers: what Train learns from. Only the
///   newest `outcome_window` are kept: older segments are deleted in the background
///   (RouteStore+Durability.swift);
/// - `model-<version>.bin`: the engine's "RVFG" model, then `model.pb` (a `RouterStatus` with the
///   version, calibration and held-out metrics) written atomically: the second write commits it;
/// - `routes.pb`: the semantic routes with their examples (`ListRoutesResponse`), atomically;
/// - `breakers.pb`: the breakers that are open or half-open (a `RouterStatus` holding only
///   `breakers`), written atomically whenever a breaker opens or closes, read back at open.
/// In memory only: closed breakers' failure counts, the round-robin cursor, counters, and the
/// features of the last `RouteLimits.pendingRequests` routed requests (so outcomes need not resend them).
final class RouteStore: Sendable {
    /// The WAL record type of an outcome.
    static let outcomeRecordType: UInt8 = 1

    let name: String
    let directory: String
    /// The resolved definition (immutable for the router's life).
    let definition: RuvectorV1.CreateRouterRequest
    let candidates: [RouteCandidate]
    let policy: RoutePolicy
    let log: WriteAheadLog
    /// Outcomes kept in the log (the definition's `outcome_window`).
    let outcomeWindow: UInt64
    let state: Mutex<State>
    /// When the next background compaction of the outcome log is due, and whether one is running.
    let compaction = Mutex(Compaction())
    /// Held while a compaction deletes segments and while `breakers.pb` is written (so the last
    /// write carries the newest breakers); true once the router is closed: a deleted router's
    /// late work must not touch a new router created under the same name.
    let closedToBackgroundWrites = Mutex(false)
    /// Raised while a training run of this router is queued or running.
    let training = Mutex<CancellationHandle?>(nil)

    /// What a training run holds to cancel itself.
    struct CancellationHandle: Sendable {
        let cancel: @Sendable () -> Void
    }

    struct State {
        var model: FastGRNNModel?
        var conformal: SplitConformal?
        /// The stored status of the model (zero: untrained).
        var modelStatus = RuvectorV1.RouterStatus()
        var breakers: [CircuitBreaker]
        var routedPerCandidate: [UInt64]
        var roundRobinCursor = 0
        var requestsRouted: UInt64 = 0
        var outcomesRecorded: UInt64
        var pending = PendingRequests(capacity: RouteLimits.pendingRequests)
        var routes: [RuvectorV1.SemanticRoute] = []
        var semantic: SemanticRouter?
        var nextRequestNumber: UInt64 = 0
    }

    /// Opens a router's state, repairing a torn tail of the outcome log.
    init(directory: String, syncPolicy: WALSyncPolicy = .always) throws {
        self.directory = directory
        let definition = RouteLimits.resolved(try RuvectorV1.CreateRouterRequest(decoding: try AtomicFile.read(directory + "/router.pb")))
        do { try RouteLimits.check(definition) } catch {
            throw StorageError(.corrupt, "\(directory)/router.pb holds no valid router: \(error)")
        }
        self.definition = definition
        name = definition.name
        candidates = RouteLimits.candidates(definition)
        policy = RouteLimits.policy(definition)
        let (log, _) = try WriteAheadLog.open(directory: directory + "/outcomes",
                                              options: WALOptions(segmentSizeBytes: RouteLimits.outcomeSegmentBytes(definition),
                                                                  syncPolicy: syncPolicy, maxRecordBytes: 1 << 20))
        self.log = log
        outcomeWindow = UInt64(definition.outcomeWindow)
        var state = State(breakers: try Self.restoredBreakers(directory: directory, definition: definition),
                          routedPerCandidate: candidates.map { _ in 0 }, outcomesRecorded: log.lastSequence)
        if AtomicFile.exists(directory + "/model.pb") {
            let status = try RuvectorV1.RouterStatus(decoding: try AtomicFile.read(directory + "/model.pb"))
            let path = "\(directory)/model-\(status.modelVersion).bin"
            let model: FastGRNNModel
            do {
                model = try FastGRNNModel(serialised: try AtomicFile.read(path))
            } catch {
                throw StorageError(.corrupt, "\(path) holds no readable model: \(error)")
            }
            guard model.config == RouteLimits.engineConfig(definition) else {
                throw StorageError(.corrupt, "\(path) does not fit the router's shapes")
            }
            state.model = model
            state.modelStatus = status
            state.conformal = SplitConformal(alpha: Double(status.conformalAlpha), calibrationCount: Int(status.calibrationCount),
                                             threshold: status.conformalThreshold)
        }
        if AtomicFile.exists(directory + "/routes.pb") {
            let routes = try RuvectorV1.ListRoutesResponse(decoding: try AtomicFile.read(directory + "/routes.pb")).routes
            state.routes = routes
            state.semantic = try Self.semanticRouter(routes)
        }
        self.state = Mutex(state)
        // A log that grew past the window before (a crash before its compaction, an older server)
        // is bounded before the router serves.
        try compactOutcomes()
    }

    /// Outcomes held.
    var outcomesRecorded: UInt64 { state.withLock { $0.outcomesRecorded } }

    /// The definition with the router's counters.
    var info: RuvectorV1.RouterInfo {
        state.withLock { s in
            RuvectorV1.RouterInfo(definition: definition, modelVersion: s.modelStatus.modelVersion,
                                  outcomesRecorded: s.outcomesRecorded, routeCount: UInt32(s.routes.count))
        }
    }

    /// Appends a validated outcome (features resolved) and returns once it is on disk; returns the
    /// outcomes recorded so far. Starts a background compaction of the log when one is due.
    func appendOutcome(_ record: RuvectorV1.RecordOutcomeRequest) throws -> UInt64 {
        let sequence = try log.append(type: Self.outcomeRecordType, payload: record.encoded())
        let recorded = state.withLock { s in
            s.outcomesRecorded = max(s.outcomesRecorded, sequence)
            return s.outcomesRecorded
        }
        compactInBackgroundIfDue(lastSequence: sequence)
        return recorded
    }

    /// Outcomes after the `first` recorded (0-based: outcome `first` + 1 on), at most `limit`, each
    /// with its 1-based number: what training reads. Outcomes compacted away are skipped, so the
    /// numbers may start later than `first` + 1.
    func outcomes(from first: UInt64, limit: Int) throws -> [(number: UInt64, outcome: RuvectorV1.RecordOutcomeRequest)] {
        try log.read(from: first + 1, limit: limit).compactMap { record in
            record.type == Self.outcomeRecordType ? (record.sequence, try RuvectorV1.RecordOutcomeRequest(decoding: record.payload)) : nil
        }
    }

    /// Stores a trained model as the next version and serves it from now on. `status` carries the
    /// metrics; its version and calibration fields are set here. Returns the stored status.
    func storeModel(_ model: FastGRNNModel, conformal: SplitConformal, status: RuvectorV1.RouterStatus) throws -> RuvectorV1.RouterStatus {
        // One training run per router at a time is the only writer: the files are written outside
        // the lock, so requests keep routing with the old model until the swap.
        let previous = state.withLock { $0.modelStatus.modelVersion }
        var status = status
        status.modelVersion = previous + 1
        status.router = name
        // The calibration is what restores the prediction sets at the next open.
        status.conformalThreshold = conformal.threshold
        status.calibrationCount = UInt64(conformal.calibrationCount)
        status.conformalAlpha = Float(conformal.alpha)
        try AtomicFile.write(model.serialised(), to: "\(directory)/model-\(status.modelVersion).bin")
        try AtomicFile.write(status.encoded(), to: directory + "/model.pb")
        let old = "\(directory)/model-\(previous).bin"
        if previous > 0, AtomicFile.exists(old) { try? AtomicFile.removeTree(old) }
        state.withLock { s in
            s.model = model
            s.conformal = conformal
            s.modelStatus = status
        }
        return status
    }

    /// The stored model and its status (nil: untrained).
    var storedModel: (model: FastGRNNModel, status: RuvectorV1.RouterStatus)? {
        state.withLock { s in s.model.map { ($0, s.modelStatus) } }
    }

    /// Syncs and closes the outcome log, after any compaction or breaker write in progress.
    func close() throws {
        closedToBackgroundWrites.withLock { $0 = true }
        try log.close()
    }
}

/// The features of recently routed requests by id, the oldest forgotten first once there are more
/// than `capacity` requests or `maxValues` feature values (so a router with wide requests keeps
/// fewer of them, and none holds more than `maxValues` x 4 bytes).
struct PendingRequests {
    let capacity: Int
    let maxValues: Int
    private var features: [String: [Float]] = [:]
    /// Ids in arrival order from `head` on; the prefix before `head` is already forgotten.
    private var order: [String] = []
    private var head = 0
    private var values = 0

    init(capacity: Int, maxValues: Int = RouteLimits.pendingValues) {
        self.capacity = capacity
        self.maxValues = maxValues
    }

    mutating func insert(_ id: String, _ new: [Float]) {
        if let old = features.updateValue(new, forKey: id) {
            values -= old.count
        } else {
            order.append(id)
        }
        values += new.count
        while order.count - head > capacity || values > maxValues, head < order.count {
            if let dropped = features.removeValue(forKey: order[head]) { values -= dropped.count }
            head += 1
        }
        if head > capacity {
            order.removeFirst(head)
            head = 0
        }
    }

    func features(of id: String) -> [Float]? { features[id] }
}
