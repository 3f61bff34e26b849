import Checksums
import ClusterEngine
import ClusterNode
import Logging
import RPC
import Storage
import Synchronization
import VectorDatabase
import Wire

/// A replica's side of one shard's replication: opens `ClusterService/Replicate` to the
/// primary from the local copy's last sequence, applies the records in order (a batch of
/// whatever has arrived at a time: one log append and one sync per batch) and acknowledges
/// each batch. When the primary no longer has the records it needs, or the local log diverged
/// from the primary's (a former primary's unreplicated tail), it fetches the primary's
/// snapshot with `TransferShard` and continues from there. Runs until cancelled (the shard
/// moved, its primary changed, or the server stops); reconnects after failures.
struct ShardFollower: Sendable {
    let id: ShardStore.ShardID
    let primary: NodeID
    let epoch: UInt64
    let node: ClusterNode
    let sharding: ShardedCollections
    let logger: Logger

    /// Trailer a primary sets when this copy must be transferred again.
    static let resyncTrailer = "ruvector-resync"
    /// Trailer carrying the primary's epoch history (hex) with a transferred snapshot.
    static let historyTrailer = "ruvector-epoch-history"

    func run() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await follow()
                failures = 0
            } catch is CancellationError {
                return
            } catch let error as RPCError where error.trailingMetadata[Self.resyncTrailer] != nil {
                logger.info("shard copy transferred again from its primary", metadata: [
                    "shard": "\(id)", "primary": "\(primary)", "reason": "\(error.message)"])
                do { try await transfer() } catch {
                    failures += 1
                    logger.warning("shard transfer failed; retrying", metadata: ["shard": "\(id)", "error": "\(error)"])
                }
            } catch {
                failures += 1
                if failures == 1 || failures % 50 == 0 {
                    logger.info("shard replication stream ended; reconnecting", metadata: [
                        "shard": "\(id)", "primary": "\(primary)", "error": "\(error)"])
                }
            }
            guard !Task.isCancelled else { return }
            try? await Task.sleep(for: .milliseconds(min(1000, 50 * max(1, failures))))
        }
    }

    /// One stream: start, then apply and acknowledge until it ends.
    private func follow() async throws {
        guard let local = sharding.store.get(id) else { throw RPCError(.unavailable, "no local copy of shard \(id) yet") }
        let channel = try await node.channel(to: primary)
        let call = try await channel.makeCall(path: "/ruvector.v1.ClusterService/Replicate")
        defer { call.cancel() }
        let start = RuvectorV1.ReplicationStart(collection: id.collection, shard: id.number, fromSequence: local.durable.lastSequence + 1,
                                                replicaNodeId: node.id, epoch: epoch, lastRecordEpoch: local.lastRecordEpoch)
        try await call.send(RuvectorV1.ReplicationAck(kind: .start(start)).encoded())
        let buffer = RecordBuffer()
        let reader = Task {
            do {
                for try await message in call.responses {
                    let record = try RuvectorV1.ReplicationRecord(decoding: message)
                    guard record.type <= UInt32(UInt8.max) else {
                        throw RPCError(.dataLoss, "record \(record.sequence) has type \(record.type)")
                    }
                    var check = [UInt8(truncatingIfNeeded: record.type)]
                    check += record.payload
                    guard CRC32C.checksum(check) == record.crc32c else {
                        throw RPCError(.dataLoss, "record \(record.sequence) of shard \(id) failed its CRC check")
                    }
                    buffer.push(record)
                }
                let result = await call.result()
                buffer.finish(result.status.code == .ok ? nil : RPCError(result.status.code, result.status.message,
                                                                         trailingMetadata: result.trailingMetadata))
            } catch {
                buffer.finish(error)
            }
        }
        defer { reader.cancel() }
        while let batch = try await buffer.takeAll() {
            try Task.checkCancellation()
            let applied = try await sharding.blocking { try Self.apply(batch, to: local) }
            try await call.send(RuvectorV1.ReplicationAck(kind: .appliedSequence(applied)).encoded())
        }
    }

    /// Logs received records in order and queues them for the index (acknowledged once durable:
    /// the next batch is logged while this one is indexed, so indexing does not hold up the
    /// primary's writes that wait for replicas); a record of a newer epoch first records where
    /// that epoch begins. Returns the copy's last sequence.
    private static func apply(_ batch: [RuvectorV1.ReplicationRecord], to local: LocalShard) throws -> UInt64 {
        var records: [WALRecord] = []
        records.reserveCapacity(batch.count)
        for record in batch {
            if record.epoch > (local.epochHistory.starts.last?.epoch ?? 0) {
                if !records.isEmpty { try local.durable.applyReplicated(records, acknowledge: .logged); records.removeAll() }
                try local.beginEpoch(record.epoch, at: record.sequence)
            }
            records.append(WALRecord(sequence: record.sequence, type: UInt8(record.type), payload: record.payload))
        }
        if !records.isEmpty { try local.durable.applyReplicated(records, acknowledge: .logged) }
        return local.durable.lastSequence
    }

    /// Replaces the local copy with the primary's snapshot (and its epoch history).
    private func transfer() async throws {
        let channel = try await node.channel(to: primary)
        let request = RuvectorV1.TransferShardRequest(collection: id.collection, shard: id.number, chunkBytes: 1 << 20)
        let call = try await channel.makeCall(path: "/ruvector.v1.ClusterService/TransferShard", timeout: .seconds(600))
        defer { call.cancel() }
        try await call.send(request.encoded())
        call.closeSend()
        var file: [UInt8] = []
        var trailer: RuvectorV1.FileTrailer?
        for try await message in call.responses {
            let chunk = try RuvectorV1.FileChunk(decoding: message)
            guard chunk.offset == UInt64(file.count) else {
                throw RPCError(.dataLoss, "shard transfer chunk at offset \(chunk.offset), expected \(file.count)")
            }
            file += chunk.data
            if let last = chunk.trailer { trailer = last }
        }
        let result = await call.result()
        guard let trailer, trailer.sizeBytes == UInt64(file.count), trailer.crc32c == CRC32C.checksum(file) else {
            throw RPCError(.dataLoss, "the transferred snapshot of shard \(id) is incomplete or failed its CRC check")
        }
        guard let hex = result.trailingMetadata[Self.historyTrailer], let bytes = Self.bytes(hex: hex) else {
            throw RPCError(.dataLoss, "the primary sent no epoch history with the snapshot of shard \(id)")
        }
        let history = try EpochHistory(decoding: bytes)
        guard let incarnation = node.metadata.metadata.collections[id.collection]?.createdIndex else {
            throw RPCError(.unavailable, "collection \(MessageText.quoted(id.collection)) was deleted during the transfer")
        }
        let (store, id) = (sharding.store, id)
        let installed = try await sharding.blocking { [file] in
            try store.install(id, snapshotFile: file, history: history, incarnation: incarnation)
        }
        logger.info("shard copy installed from its primary's snapshot", metadata: [
            "shard": "\(id)", "bytes": "\(file.count)", "sequence": "\(installed.durable.lastSequence)"])
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let high = value(utf8[i]), let low = value(utf8[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }
}

/// Records received and not yet applied: the reader pushes, the applier takes everything
/// there is (waiting for at least one). The primary sends at most
/// `ReplicationSource.maxUnacknowledgedRecords` past the last acknowledgement, which bounds it.
final class RecordBuffer: Sendable {
    private struct State {
        var records: [RuvectorV1.ReplicationRecord] = []
        var finished = false
        var failure: (any Error)?
        var waiter: CheckedContinuation<Void, Never>?
        var cancelled = false
    }

    private let state = Mutex(State())

    func push(_ record: RuvectorV1.ReplicationRecord) {
        let waiter = state.withLock { state in
            state.records.append(record)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func finish(_ failure: (any Error)?) {
        let waiter = state.withLock { state in
            state.finished = true
            state.failure = failure
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Everything received so far (at least one record); nil once the stream ended cleanly.
    func takeAll() async throws -> [RuvectorV1.ReplicationRecord]? {
        while true {
            let taken = state.withLock { state -> Result<[RuvectorV1.ReplicationRecord]?, any Error>? in
                if !state.records.isEmpty {
                    defer { state.records.removeAll(keepingCapacity: true) }
                    return .success(state.records)
                }
                if state.finished { return state.failure.map { .failure($0) } ?? .success(nil) }
                return nil
            }
            if let taken { return try taken.get() }
            try Task.checkCancellation()
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { state -> Bool in
                        if !state.records.isEmpty || state.finished || state.cancelled { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state in
                    state.cancelled = true
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume()
            }
        }
    }
}
