import Storage
import VectorEngine

extension DurableCollection {
    /// Applies the logged records after the snapshot at open, in log order. Runs of upserts
    /// are merged into batches of up to `maxBatchPoints`; a batch of `parallelMinPoints` or
    /// more is linked on `DurabilityOptions.replayThreads` threads
    /// (``VectorCollection/upsert(_:threads:)``), a smaller one a point at a time, so a short
    /// log (most restarts) rebuilds exactly the graph of before the crash while a long one (a
    /// bulk import's) replays on every core. A delete ends the run, so every delete sees
    /// exactly the points it saw live.
    struct Replay {
        /// Points merged into one batch at most (bounds the memory a run of upserts holds).
        static let maxBatchPoints = 10_000
        /// Batches of fewer points are linked one point at a time, exactly as live.
        static let parallelMinPoints = 2_000

        let collection: VectorCollection
        let threads: Int
        private var pending: [VectorPoint] = []
        /// Records applied, their bytes, and the points they upserted or deleted.
        private(set) var records = 0
        private(set) var bytes = 0
        private(set) var changes = 0

        init(collection: VectorCollection, threads: Int) {
            self.collection = collection
            self.threads = max(1, threads)
        }

        /// Applies (or queues into the current batch) one record.
        mutating func apply(_ record: WALRecord, uuids: inout UUIDAssignments) throws {
            records += 1
            bytes += record.payload.count
            switch CollectionCodec.RecordType(rawValue: record.type) {
            case .upsert?:
                let points = try CollectionCodec.decodeUpsert(record.payload)
                changes += points.count
                if collection.config.quantization != nil && collection.index.quantization == nil {
                    // The quantizer is trained at the end of the upsert that reaches the training
                    // count: until then each record is applied alone, as it was live, so training
                    // samples the same points and later searches walk the same codes.
                    try flush()
                    try collection.upsert(points, threads: threadsFor(points.count))
                } else {
                    pending += points
                    if pending.count >= Self.maxBatchPoints { try flush() }
                }
            case .delete?:
                try flush()
                let ids = try CollectionCodec.decodeDelete(record.payload)
                changes += ids.count
                collection.delete(ids: ids)
                uuids.remove(ids)
            case .assignUUIDs?:
                try uuids.apply(record.payload)
            case nil:
                throw StorageError(.corrupt, "unknown record type \(record.type) at sequence \(record.sequence)")
            }
        }

        /// Applies the current batch.
        mutating func flush() throws {
            guard !pending.isEmpty else { return }
            try collection.upsert(pending, threads: threadsFor(pending.count))
            pending.removeAll(keepingCapacity: true)
        }

        private func threadsFor(_ points: Int) -> Int { points >= Self.parallelMinPoints ? threads : 1 }
    }
}
