import ArgumentParser
import RuVectorClient

extension ClusterCommand {
    /// `ruvector cluster shards`: the shard map with each replica's lag.
    struct Shards: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every shard of the sharded collections: primary, replicas, epoch, replica lag, primary sequence.",
            discussion: """
                The shard map comes from the cluster's metadata (linearizable unless --stale-ok); each shard's primary \
                is asked how far behind its replicas are, in write-ahead log records and in milliseconds (the age of \
                the oldest write each does not have; "never": no acknowledgement yet, "?": the primary did not answer within half a \
                second). MOVES lists the nodes receiving a copy of the shard (a move in progress: they follow the \
                primary's log until the move switches them in), "-" when none.
                """)
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Only this collection's shards.") var collection: String?
        @Flag(name: .customLong("stale-ok"), help: "Answer from the called node's metadata alone (works without a leader; may lag).")
        var staleOK = false

        func run() async throws {
            let shards = try await connection.run { db -> [ClusterState.ShardAssignment] in
                let all = try await db.clusterState(staleOK: staleOK, withShardProgress: true).shards
                guard let collection else { return all }
                let chosen = all.filter { $0.collection == collection }
                if chosen.isEmpty {
                    throw RuVectorClientError(.notFound, "the cluster's shard map has no collection '\(collection)'")
                }
                return chosen
            }
            if connection.json { return Terminal.printJSON(.list(shards.map(JSONForm.shard))) }
            Terminal.printTable(["COLLECTION", "SHARD", "PRIMARY", "REPLICAS", "EPOCH", "LAG-RECORDS", "LAG-MS", "PRIMARY-SEQ", "MOVES"],
                                shards.map { shard in
                let lag = shard.replicaLag
                let moves = [shard.incoming.isEmpty ? nil : "to " + shard.incoming.map(String.init).joined(separator: ","),
                             shard.handoff == 0 ? nil : "primary to \(shard.handoff)"].compactMap { $0 }
                return [shard.collection, String(shard.shard), String(shard.primary),
                        shard.replicas.isEmpty ? "-" : shard.replicas.map(String.init).joined(separator: ","), String(shard.epoch),
                        lag.map { $0.isEmpty ? "-" : $0.map { String($0.records) }.joined(separator: ",") } ?? "?",
                        lag.map { $0.isEmpty ? "-" : $0.map { $0.millis == .max ? "never" : String($0.millis) }.joined(separator: ",") } ?? "?",
                        lag == nil ? "?" : String(shard.primarySequence),
                        moves.isEmpty ? "-" : moves.joined(separator: "; ")]
            })
        }
    }

    /// `ruvector cluster shard-status`: the called node's own copies of shards.
    struct ShardStatusCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "shard-status",
            abstract: "The shard copies held by the node called: role, epoch, last and applied sequence, points, checksum, replicas' progress.",
            discussion: """
                Asks one node (--server) about its own copies. With --checksums every copy's points are read and \
                summed into an order-independent checksum: copies of one shard holding the same points show the same \
                checksum on every node.
                """)
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Only this collection's shards.") var collection: String?
        @Flag(name: .long, help: "Compute each copy's checksum of its points (reads every point).") var checksums = false

        func run() async throws {
            let status = try await connection.run { try await $0.shardStatus(collection: collection ?? "", checksums: checksums) }
            if connection.json { return Terminal.printJSON(JSONForm.shardStatus(status)) }
            Swift.print("node \(status.nodeID)")
            Terminal.printTable(["COLLECTION", "SHARD", "ROLE", "EPOCH", "LAST-SEQ", "APPLIED-SEQ", "RECORD-EPOCH", "POINTS", "CHECKSUM", "REPLICAS"],
                                status.copies.map { copy in
                [copy.collection, String(copy.shard), copy.isPrimary ? "primary" : "replica", String(copy.epoch), String(copy.lastSequence),
                 String(copy.appliedSequence),
                 String(copy.lastRecordEpoch), String(copy.points), copy.checksum.map { String($0, radix: 16) } ?? "-",
                 copy.replicas.isEmpty ? "-" : copy.replicas.map { r in
                     "\(r.nodeID): acked \(r.ackedSequence), lag \(r.lagRecords) records / \(r.lagMillis) ms" + (r.connected ? "" : ", disconnected")
                 }.joined(separator: "; ")]
            })
        }
    }
}

extension JSONForm {
    static func shard(_ shard: ClusterState.ShardAssignment) -> PayloadValue {
        .object([
            "collection": .string(shard.collection), "shard": .int(Int64(shard.shard)), "primary": .int(Int64(clamping: shard.primary)),
            "replicas": .list(shard.replicas.map { .int(Int64(clamping: $0)) }), "epoch": .int(Int64(clamping: shard.epoch)),
            "replica_lag": shard.replicaLag.map { lags in
                .list(lags.map { lag in
                    .object(["node": .int(Int64(clamping: lag.nodeID)), "records": .int(Int64(clamping: lag.records)),
                             "millis": lag.millis == .max ? .null : .int(Int64(clamping: lag.millis))])
                })
            } ?? .null,
            "primary_sequence": shard.replicaLag == nil ? .null : .int(Int64(clamping: shard.primarySequence)),
            // Nodes receiving a copy.
            "moves_in_progress": .list(shard.incoming.map { .int(Int64(clamping: $0)) }),
            // The copy the primary is being handed to (null: none).
            "primary_handoff": shard.handoff == 0 ? .null : .int(Int64(clamping: shard.handoff)),
        ])
    }

    static func shardStatus(_ status: ShardStatus) -> PayloadValue {
        .object([
            "node": .int(Int64(clamping: status.nodeID)),
            "copies": .list(status.copies.map { copy in
                .object([
                    "collection": .string(copy.collection), "shard": .int(Int64(copy.shard)), "primary": .bool(copy.isPrimary),
                    "epoch": .int(Int64(clamping: copy.epoch)), "last_sequence": .int(Int64(clamping: copy.lastSequence)),
                    "applied_sequence": .int(Int64(clamping: copy.appliedSequence)),
                    "last_record_epoch": .int(Int64(clamping: copy.lastRecordEpoch)), "points": .int(Int64(clamping: copy.points)),
                    // A string: checksums use all 64 bits, beyond what JSON numbers keep exactly.
                    "checksum": copy.checksum.map { .string(String($0, radix: 16)) } ?? .null,
                    "replicas": .list(copy.replicas.map { r in
                        .object(["node": .int(Int64(clamping: r.nodeID)), "acked_sequence": .int(Int64(clamping: r.ackedSequence)),
                                 "lag_records": .int(Int64(clamping: r.lagRecords)), "lag_millis": .int(Int64(clamping: r.lagMillis)),
                                 "connected": .bool(r.connected)])
                    }),
                ])
            }),
        ])
    }
}
