@_spi(Fuzzing) import Services
import Storage
import VectorDatabase
import VectorEngine
import Wire

/// Cluster snapshot files (`.rvcsnap` bundles: shards' snapshot files and a manifest) checked
/// and staged as RestoreSnapshot on a cluster does, then every staged shard scrolled, searched
/// and counted. Seeds: bundles of real shard snapshots (1 to 3 shards, L2 and cosine, one with
/// int8 codes), made at start.
///
/// Most mutations take the bundle apart, damage the manifest or a part (the snapshot file
/// mutator, which reseals a snapshot's own checksums), or drop, repeat or swap parts, and seal
/// the bundle again with every checksum right, so the damage reaches the manifest and snapshot
/// decoders rather than stopping at the bundle's CRC.
final class ClusterSnapshotTarget: FuzzTarget {
    static let name = "cluster-snapshot"
    let maxInputBytes = 2 << 20
    private let workDirectory: String
    private var seeds: [[UInt8]] = []
    private let byteMutator: ByteMutator
    private let limits = VectorServiceLimits()

    init(workDirectory: String) throws {
        self.workDirectory = workDirectory
        byteMutator = ByteMutator(maxBytes: maxInputBytes, dictionary: [Array("RVBUNDL1".utf8), Array("RVBNDEND".utf8)])
        let shapes: [(metric: DistanceMetric, wire: RuvectorV1.Metric, quantization: QuantizationKind?, shards: Int)] = [
            (.l2Squared, .l2, nil, 3), (.cosine, .cosine, nil, 1), (.l2Squared, .l2, .scalarInt8, 2),
        ]
        for (index, shape) in shapes.enumerated() {
            var files: [[UInt8]] = []
            for shard in 0..<shape.shards {
                let directory = workDirectory + "/fixture-\(index)-\(shard)"
                let durable = try Fixtures.collection(in: directory, metric: shape.metric, quantization: shape.quantization, count: 16 + shard * 8)
                let info = try durable.snapshot()
                try durable.close()
                files.append(try FuzzFiles.read(directory + "/snapshots/" + info.name))
            }
            var request = RuvectorV1.CreateCollectionRequest(name: "docs", dimension: 8, metric: shape.wire)
            if shape.quantization != nil { request.quantization = RuvectorV1.QuantizationConfig(kind: .scalar(.init())) }
            seeds.append(VectorServiceMapping.clusterSnapshot(shardFiles: files, request: request))
        }
    }

    func seedCorpus() throws -> [[UInt8]] { seeds }

    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) -> Bool {
        // Now and then plain byte damage, for the bundle's own checks.
        guard random.below(5) != 0, let contents = try? SnapshotBundle.parse(input, maxParts: 1024) else { return false }
        var parts = contents.parts.map { Array(input[$0.offset..<($0.offset + $0.sizeBytes)]) }
        var manifest = contents.manifest
        switch random.below(4) {
        case 0:
            byteMutator.mutate(&manifest, random: &random, corpus: [])
        case 1 where !parts.isEmpty:
            let n = random.below(parts.count)
            guard SnapshotFileMutator.mutate(&parts[n], random: &random, byteMutator: byteMutator, corpus: []) else { return false }
        case 2 where !parts.isEmpty:
            let n = random.below(parts.count)
            if random.below(2) == 0 { parts.remove(at: n) } else { parts.insert(parts[n], at: random.below(parts.count + 1)) }
        default:
            // A part from another seed (another configuration or dimension), manifest unchanged.
            guard let other = corpus.randomElement(using: &random), let donor = try? SnapshotBundle.parse(other, maxParts: 1024),
                  let part = donor.parts.randomElement(using: &random), !parts.isEmpty else { return false }
            parts[random.below(parts.count)] = Array(other[part.offset..<(part.offset + part.sizeBytes)])
        }
        input = SnapshotBundle.encode(parts: parts, manifest: manifest)
        return true
    }

    func run(_ input: [UInt8]) throws -> FuzzOutcome {
        let folder = workDirectory + "/run"
        FuzzFiles.removeTree(folder)
        let (request, shards) = try VectorServiceMapping.stageClusterSnapshot(input, in: folder, limits: limits)
        defer {
            for shard in shards { try? shard.close() }
            FuzzFiles.removeTree(folder)
        }
        // What a restore then does with each shard: read every point, and (here) use the index.
        for durable in shards {
            let collection = durable.collection
            guard collection.config.dimension == Int(request.dimension) else {
                throw FuzzFinding("a staged shard of dimension \(collection.config.dimension) passed a manifest of \(request.dimension)")
            }
            var cursor: Int?
            repeat {
                let page = try collection.scroll(after: cursor, limit: 64)
                for point in page.points where point.vector.count != collection.config.dimension {
                    throw FuzzFinding("point \(point.id) has \(point.vector.count) values in a collection of dimension \(collection.config.dimension)")
                }
                _ = page.points.map { durable.key($0.id) }
                cursor = page.next
            } while cursor != nil
            _ = try collection.search(Fixtures.vector(3, dimension: collection.config.dimension), k: 5)
            _ = try collection.count()
        }
        return .accepted
    }
}
