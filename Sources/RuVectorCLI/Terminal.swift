import Foundation
import RuVectorClient

/// Output: tables on stdout, JSON on stdout, messages and the progress bar on stderr.
enum Terminal {
    /// Writes a prompt without a newline (interactive input).
    static func prompt(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func printJSON(_ value: PayloadValue) {
        print(value.jsonText)
    }

    /// Prints rows under a header, each column as wide as its widest cell.
    static func printTable(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }

    /// Prints `key: value` lines aligned.
    static func printFields(_ fields: [(String, String)]) {
        let width = fields.map(\.0.count).max() ?? 0
        for (key, value) in fields { print((key + ":").padding(toLength: width + 1, withPad: " ", startingAt: 0) + " " + value) }
    }
}

/// A progress bar on stderr, redrawn at most ten times a second and once at the end.
final class ProgressBar: @unchecked Sendable {
    private let total: Int?
    private let label: String
    private let enabled: Bool
    private let started = Date()
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var current = 0

    /// Redrawn in place on a terminal; elsewhere (a pipe, a log file) only the final line is written.
    private let interactive = isatty(STDERR_FILENO) != 0

    init(total: Int?, label: String, enabled: Bool) {
        self.total = total
        self.label = label
        self.enabled = enabled
    }

    func update(_ done: Int) {
        lock.lock()
        defer { lock.unlock() }
        current = done
        guard enabled, interactive, Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = Date()
        draw(final: false)
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard enabled else { return }
        draw(final: true)
    }

    private func draw(final: Bool) {
        let seconds = max(Date().timeIntervalSince(started), 1e-6)
        let rate = Int(Double(current) / seconds)
        var text: String
        if let total, total > 0 {
            let fraction = min(1, Double(current) / Double(total))
            let filled = Int(fraction * 30)
            text = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled) + "] "
            text += "\(Int(fraction * 100))% \(current)/\(total) \(label)"
        } else {
            text = "\(current) \(label)"
        }
        text += ", \(rate)/s"
        FileHandle.standardError.write(Data(((interactive ? "\r" : "") + text + (final ? "\n" : "")).utf8))
    }
}

/// JSON forms of the client's values, for --json.
enum JSONForm {
    static func float(_ value: Float) -> PayloadValue {
        // The shortest text that reads back as the same Float, not the Double expansion.
        .double(Double("\(value)") ?? Double(value))
    }

    static func id(_ id: PointID) -> PayloadValue {
        switch id {
        case .num(let n): n <= UInt64(Int64.max) ? .int(Int64(n)) : .string(String(n))
        case .uuid(let u): .string(u)
        }
    }

    static func vector(_ values: [Float]) -> PayloadValue { .list(values.map(float)) }

    static func collection(_ info: CollectionInfo) -> PayloadValue {
        var object: [String: PayloadValue] = [
            "name": .string(info.name), "dimension": .int(Int64(info.dimension)),
            "metric": info.metric.map { .string($0.rawValue) } ?? .null,
            "points_count": .int(Int64(clamping: info.pointsCount)), "index_status": .string(info.indexStatus.rawValue),
            "memory_bytes": .int(Int64(clamping: info.memoryBytes)), "disk_bytes": .int(Int64(clamping: info.diskBytes)),
            "created_unix_micros": .int(info.createdUnixMicros),
            "quantization": info.quantization.map { .string(Describe.quantization($0)) } ?? .null,
            "shards": .int(Int64(info.shards)), "replication_factor": .int(Int64(info.replicationFactor)),
            "write_consistency": info.writeConsistency.map { .string($0.rawValue) } ?? .null,
            "min_replicas": .int(Int64(info.minReplicas)),
            "on_disk": .bool(info.onDisk), "on_disk_vector_bytes": .int(Int64(clamping: info.onDiskVectorBytes)),
            "on_disk_graph": .bool(info.onDiskGraph), "on_disk_graph_bytes": .int(Int64(clamping: info.onDiskGraphBytes)),
        ]
        if let t = info.tiers {
            object["tiers"] = .object([
                "hot": .int(Int64(clamping: t.hot)), "warm": .int(Int64(clamping: t.warm)), "cool": .int(Int64(clamping: t.cool)),
                "cold": .int(Int64(clamping: t.cold)), "archive": .int(Int64(clamping: t.archive)),
                "code_bytes": .int(Int64(clamping: t.codeBytes)), "passes": .int(Int64(clamping: t.passes)),
            ])
        }
        var hnsw: [String: PayloadValue] = [:]
        if let m = info.hnsw.m { hnsw["m"] = .int(Int64(m)) }
        if let ef = info.hnsw.efConstruction { hnsw["ef_construction"] = .int(Int64(ef)) }
        if let ef = info.hnsw.efSearch { hnsw["ef_search"] = .int(Int64(ef)) }
        object["hnsw"] = .object(hnsw)
        return .object(object)
    }

    static func hit(_ hit: Hit) -> PayloadValue {
        var object: [String: PayloadValue] = ["id": id(hit.id), "score": float(hit.score)]
        if let payload = hit.payload { object["payload"] = .object(payload) }
        if let vector = hit.vector { object["vector"] = self.vector(vector) }
        return .object(object)
    }

    static func point(_ point: StoredPoint) -> PayloadValue {
        var object: [String: PayloadValue] = ["id": id(point.id)]
        if let payload = point.payload { object["payload"] = .object(payload) }
        if let vector = point.vector { object["vector"] = self.vector(vector) }
        return .object(object)
    }

    static func snapshot(_ info: SnapshotInfo) -> PayloadValue {
        .object(["name": .string(info.name), "collection": .string(info.collection), "size_bytes": .int(Int64(clamping: info.sizeBytes)),
                 "created_unix_micros": .int(info.createdUnixMicros), "crc32c": .int(Int64(info.crc32c)),
                 "wal_sequence": .int(Int64(clamping: info.walSequence))])
    }

    /// `countsReplicas`: false for results that do not count replicas (a streamed import's),
    /// whose `replicas_acknowledged` would read as 0 whatever happened.
    static func update(_ result: UpdateResult, countsReplicas: Bool = true) -> PayloadValue {
        var object: [String: PayloadValue] = [
            "points_affected": .int(Int64(clamping: result.pointsAffected)), "sequence": .int(Int64(clamping: result.sequence)),
            "applied": .bool(result.applied),
        ]
        if countsReplicas { object["replicas_acknowledged"] = .int(Int64(result.replicasAcknowledged)) }
        return .object(object)
    }
}

/// Human-readable forms for tables.
enum Describe {
    static func quantization(_ quantization: Quantization) -> String {
        switch quantization {
        case .scalar(_, let bits): bits == 4 ? "int4" : "scalar"
        case .float16: "float16"
        case .product(_, let bits): bits == 4 ? "pq4" : "pq8"
        case .binary: "binary"
        case .tiered: "tiered"
        }
    }

    static func time(_ unixMicros: Int64) -> String {
        guard unixMicros > 0 else { return "-" }
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(unixMicros) / 1_000_000))
    }

    static func payload(_ payload: Payload?) -> String {
        payload.map { PayloadValue.object($0).jsonText } ?? ""
    }
}
