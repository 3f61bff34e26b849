import GraphPersistence
import Storage
import VectorDatabase
import VectorEngine

/// Write-ahead log segments mutated on disk, then recovered: the log alone
/// (`WriteAheadLog.open`, which must repair a torn tail and refuse other damage), a vector
/// collection over it (`DurableCollection.open`: replay decodes every record) and the graph
/// (`DurableGraphDatabase.open`). Seeds are the segments real collections and a real graph
/// wrote at start. Invariants: whatever opened once opens again after an append and a close,
/// with nothing more to repair and the appended record (or point, or node) still there.
///
/// Input: one byte choosing log / collection / graph, the segment's first sequence (UInt64
/// LE, its file name), then the segment's bytes.
final class WALTarget: FuzzTarget {
    static let name = "wal"
    let maxInputBytes = 1 << 20
    private let workDirectory: String
    private let collectionConfig: [UInt8]
    private let collectionSegment: [UInt8]
    private let graphSegment: [UInt8]
    private let byteMutator: ByteMutator

    init(workDirectory: String) throws {
        self.workDirectory = workDirectory
        let collectionDirectory = workDirectory + "/fixture-collection"
        let durable = try Fixtures.collection(in: collectionDirectory, count: 24)
        _ = try durable.delete(ids: [0, 5, 7])
        try Fixtures.fill(durable, count: 6)
        try durable.close()
        collectionConfig = try FuzzFiles.read(collectionDirectory + "/collection.bin")
        collectionSegment = try Self.onlySegment(in: collectionDirectory + "/wal")
        let graphDirectory = workDirectory + "/fixture-graph"
        try Fixtures.graph(in: graphDirectory).close()
        graphSegment = try Self.onlySegment(in: graphDirectory + "/wal")
        byteMutator = ByteMutator(maxBytes: maxInputBytes, dictionary: [])
    }

    private static func onlySegment(in directory: String) throws -> [UInt8] {
        let names = try FuzzFiles.entries(directory).filter { $0.hasPrefix("wal-") }.sorted()
        guard let last = names.last else { throw FuzzSetupError("no log segment in '\(directory)'") }
        return try FuzzFiles.read(directory + "/" + last)
    }

    func seedCorpus() throws -> [[UInt8]] {
        let one = WALSegmentMutator.littleEndian(UInt64(1))
        return [[0] + one + collectionSegment, [1] + one + collectionSegment, [2] + one + graphSegment,
                [0] + one + Array(collectionSegment.prefix(16)), [1] + one + Array(collectionSegment.dropLast(3))]
    }

    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) -> Bool {
        guard input.count >= 9 else { return false }
        switch random.below(10) {
        case 0:
            input[0] = UInt8(random.below(3))
        case 1:
            let sequences: [UInt64] = [0, 1, 2, 1000, UInt64.max, UInt64.max - 1, 1 << 63]
            input.replaceSubrange(1..<9, with: WALSegmentMutator.littleEndian(sequences[random.below(sequences.count)]))
        default:
            var segment = Array(input[9...])
            guard WALSegmentMutator.mutate(&segment, random: &random, bytes: byteMutator, corpus: corpus.map { Array($0.dropFirst(9)) }) else {
                return false
            }
            input = Array(input[..<9]) + segment
        }
        return true
    }

    func run(_ input: [UInt8]) throws -> FuzzOutcome {
        guard input.count >= 9 else { return .rejected }
        let first = WALSegmentMutator.le64(input, 1)
        let segment = Array(input[9...])
        let directory = workDirectory + "/run"
        FuzzFiles.removeTree(directory)
        try FuzzFiles.createDirectories(directory + "/wal")
        let digits = String(first)
        try FuzzFiles.write(segment, to: directory + "/wal/wal-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".log")
        switch input[0] % 3 {
        case 0: try recoverLog(directory + "/wal")
        case 1: try recoverCollection(directory)
        default: try recoverGraph(directory)
        }
        return .accepted
    }

    private func recoverLog(_ directory: String) throws {
        let options = WALOptions(syncPolicy: .never)
        let (log, report) = try WriteAheadLog.open(directory: directory, options: options)
        let records = try log.read(from: 0)
        guard records.count == report.records else {
            throw FuzzFinding("open counted \(report.records) records but read returned \(records.count)")
        }
        let payload: [UInt8] = [1, 2, 3]
        _ = try log.append(type: 9, payload: payload)
        try log.close()
        let (again, second) = try reopened { try WriteAheadLog.open(directory: directory, options: options) }
        guard second.droppedBytes == 0, second.records == report.records + 1 else {
            throw FuzzFinding("second open: \(second.records) records (expected \(report.records + 1)), dropped \(second.droppedBytes) bytes: "
                              + (second.droppedReason ?? "") + "; first open dropped \(report.droppedBytes): " + (report.droppedReason ?? ""))
        }
        let reread = try again.read(from: 0)
        guard Array(reread.dropLast()) == records, reread.last?.payload == payload else {
            throw FuzzFinding("records changed between two opens of a repaired log")
        }
        try again.close()
    }

    private func recoverCollection(_ directory: String) throws {
        try FuzzFiles.write(collectionConfig, to: directory + "/collection.bin")
        let durable = try DurableCollection.open(directory, options: Fixtures.options)
        let dimension = durable.collection.config.dimension
        _ = try durable.collection.search(Fixtures.vector(3, dimension: dimension), k: 5)
        try durable.upsert(keyed: [.init(key: .number(1_000_000), vector: Fixtures.vector(1, dimension: dimension), payload: Fixtures.payload(1))])
        let count = try durable.collection.count()
        try durable.close()
        let again = try reopened { try DurableCollection.open(directory, options: Fixtures.options) }
        let recovered = try again.collection.count()
        try again.close()
        guard recovered == count else { throw FuzzFinding("\(count) points before close, \(recovered) after reopening") }
    }

    private func recoverGraph(_ directory: String) throws {
        let graph = try DurableGraphDatabase.open(directory, options: Fixtures.options)
        _ = try graph.execute("MATCH (n)-[r]->(m) RETURN count(r)")
        _ = try graph.execute("CREATE (:Added {v: 1})")
        let nodes = graph.committedStore.nodeCount
        try graph.close()
        let again = try reopened { try DurableGraphDatabase.open(directory, options: Fixtures.options) }
        let recovered = again.committedStore.nodeCount
        try again.close()
        guard recovered == nodes else { throw FuzzFinding("\(nodes) nodes before close, \(recovered) after reopening") }
    }

    /// A second open of what opened once (and was repaired then) must succeed.
    private func reopened<T>(_ open: () throws -> T) throws -> T {
        do { return try open() } catch { throw FuzzFinding("a log that opened once does not open again: \(error)") }
    }

    func finish() {}
}
