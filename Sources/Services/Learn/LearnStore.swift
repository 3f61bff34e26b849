import Checksums
import LearnEngine
import Storage
import Synchronization
import Wire

/// One collection's learning state on disk, under `<data>/learn/<collection>/`:
/// - `feedback/`: a write-ahead log of validated feedback records (one `RecordFeedbackRequest`
///   each, the query vector resolved), appended and synced before RecordFeedback answers;
/// - `config.pb`: the model settings (`ModelConfig`), written atomically;
/// - `models/model-<version>.bin`: model versions, each a checksummed file (header, status,
///   the engine's opaque bytes) written through a temporary file, fsync, rename and directory
///   fsync; `models/active` names the active version (absent or 0: none).
/// Thread-safe: the log is, and the rest is behind one lock.
final class LearnStore: Sendable {
    /// The WAL record type of a feedback record.
    static let feedbackRecordType: UInt8 = 1
    /// First bytes of a model file ("RVLM" then the format version).
    static let modelMagic: [UInt8] = Array("RVLM".utf8) + [1]

    let directory: String
    private let log: WriteAheadLog
    private let state: Mutex<State>

    private struct State {
        var feedbackRecords: UInt64
        var config: RuvectorV1.ModelConfig
        var activeVersion: UInt64
        var latestVersion: UInt64
        var ranker: LearnedRanker?
    }

    /// A stored model version: its status (metrics as measured when it was stored) and the
    /// engine's bytes.
    struct StoredModel: Sendable {
        var version: UInt64
        var status: RuvectorV1.ModelStatus
        var bytes: [UInt8]
    }

    /// Opens (creating) the state in `directory`, repairing a torn tail of the feedback log.
    init(directory: String, syncPolicy: WALSyncPolicy = .always) throws {
        self.directory = directory
        try AtomicFile.createDirectory(directory)
        try AtomicFile.createDirectory(directory + "/models")
        let (log, _) = try WriteAheadLog.open(directory: directory + "/feedback", options: WALOptions(syncPolicy: syncPolicy, maxRecordBytes: 1 << 20))
        self.log = log
        var config = RuvectorV1.ModelConfig()
        if AtomicFile.exists(directory + "/config.pb") {
            config = try RuvectorV1.ModelConfig(decoding: try AtomicFile.read(directory + "/config.pb"))
        }
        let versions = try Self.modelVersions(in: directory + "/models")
        var active: UInt64 = 0
        if AtomicFile.exists(directory + "/models/active") {
            let text = String(decoding: try AtomicFile.read(directory + "/models/active"), as: UTF8.self)
            guard let parsed = UInt64(text), parsed == 0 || versions.contains(parsed) else {
                throw StorageError(.corrupt, "\(directory)/models/active names no stored model (\(MessageText.quoted(text)))")
            }
            active = parsed
        }
        // Records are never released from this log: its last sequence is the count held.
        state = Mutex(State(feedbackRecords: log.lastSequence,
                            config: config, activeVersion: active, latestVersion: versions.max() ?? 0))
        // The active model ranks searches from the first one after a restart.
        if active > 0, let stored = try model(active) {
            do {
                let ranker = LearnedRanker(version: active, model: try RerankModel(serialised: stored.bytes))
                state.withLock { $0.ranker = ranker }
            } catch {
                throw StorageError(.corrupt, "\(directory)/models/model-\(active).bin holds no readable model: \(error)")
            }
        }
    }

    /// The active model, ready to rank searches (nil: none; searches keep the HNSW order).
    var ranker: LearnedRanker? { state.withLock { $0.ranker } }

    /// Feedback records held.
    var feedbackRecords: UInt64 { state.withLock { $0.feedbackRecords } }
    /// The settings as configured (zero fields = defaults).
    var config: RuvectorV1.ModelConfig { state.withLock { $0.config } }
    /// The active model version (0 = none) and the newest stored one.
    var versions: (active: UInt64, latest: UInt64) { state.withLock { ($0.activeVersion, $0.latestVersion) } }

    /// Appends a validated feedback record and returns once it is on disk (the log's sync
    /// policy); returns the records now held.
    func appendFeedback(_ record: RuvectorV1.RecordFeedbackRequest) throws -> UInt64 {
        _ = try log.append(type: Self.feedbackRecordType, payload: record.encoded())
        return state.withLock { state in
            state.feedbackRecords += 1
            return state.feedbackRecords
        }
    }

    /// Feedback records from the `first` (0-based), at most `limit`: what training reads.
    func feedback(from first: UInt64 = 0, limit: Int = .max) throws -> [RuvectorV1.RecordFeedbackRequest] {
        try log.read(from: first + 1, limit: limit).compactMap { record in
            record.type == Self.feedbackRecordType ? try RuvectorV1.RecordFeedbackRequest(decoding: record.payload) : nil
        }
    }

    /// Replaces the settings (atomically on disk).
    func setConfig(_ config: RuvectorV1.ModelConfig) throws {
        try state.withLock { state in
            try AtomicFile.write(config.encoded(), to: directory + "/config.pb")
            state.config = config
        }
    }

    /// Stores a model as the next version and, when `activate`, makes it the active one (then
    /// `model` must be the model `bytes` hold: it ranks searches from then on); returns its
    /// version. `status` is kept beside the bytes (its version fields are set here).
    func storeModel(_ bytes: [UInt8], status: RuvectorV1.ModelStatus, activate: Bool, model: RerankModel?) throws -> UInt64 {
        precondition(!activate || model != nil, "an activated model must be given to rank searches")
        return try state.withLock { state in
            let version = state.latestVersion + 1
            var status = status
            status.version = version
            status.latestVersion = version
            status.activated = activate
            let header = status.encoded()
            var file = Self.modelMagic
            Self.append(UInt64(header.count), to: &file)
            Self.append(UInt64(bytes.count), to: &file)
            file += header
            file += bytes
            Self.append(UInt64(CRC32C.checksum(file)), to: &file)
            try AtomicFile.write(file, to: "\(directory)/models/model-\(version).bin")
            state.latestVersion = version
            if activate {
                try AtomicFile.write(Array(String(version).utf8), to: directory + "/models/active")
                state.activeVersion = version
                if let model { state.ranker = LearnedRanker(version: version, model: model) }
            }
            return version
        }
    }

    /// The model `version` as stored, its checksum verified; nil when there is none.
    func model(_ version: UInt64) throws -> StoredModel? {
        let path = "\(directory)/models/model-\(version).bin"
        guard version > 0, AtomicFile.exists(path) else { return nil }
        let file = try AtomicFile.read(path)
        let fixed = Self.modelMagic.count + 16
        guard file.count >= fixed + 8, Array(file.prefix(Self.modelMagic.count)) == Self.modelMagic,
              UInt64(CRC32C.checksum(Array(file.dropLast(8)))) == Self.integer(file, at: file.count - 8) else {
            throw StorageError(.corrupt, "model file \(path) is damaged (checksum or header)")
        }
        let headerCount = Self.integer(file, at: Self.modelMagic.count), bodyCount = Self.integer(file, at: Self.modelMagic.count + 8)
        guard UInt64(fixed) + headerCount + bodyCount + 8 == UInt64(file.count) else {
            throw StorageError(.corrupt, "model file \(path) has inconsistent lengths")
        }
        let status = try RuvectorV1.ModelStatus(decoding: Array(file[fixed..<(fixed + Int(headerCount))]))
        return StoredModel(version: version, status: status, bytes: Array(file[(fixed + Int(headerCount))..<(file.count - 8)]))
    }

    /// Syncs and closes the feedback log.
    func close() throws {
        try log.close()
    }

    private static func modelVersions(in directory: String) throws -> [UInt64] {
        try AtomicFile.entries(directory).compactMap { name in
            guard name.hasPrefix("model-"), name.hasSuffix(".bin") else { return nil }
            return UInt64(name.dropFirst("model-".count).dropLast(".bin".count))
        }
    }

    private static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    private static func integer(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << UInt64($1 * 8) }
    }
}
