import Storage
import VectorEngine

/// Index state as snapshot sections (collection layout 2): the bulk — vectors, level-0 links,
/// ids — written as the arrays lie in memory, so loading maps the vectors and links in place
/// (``SnapshotSections/region(_:reservingBytes:)``; the engine copies those of 4 MB and more
/// onto huge pages) and copies the rest once, without decoding.
///
/// Sections: `hnsw` (layout version, dimension, metric, parameters, node count, entry point,
/// generator state), `vectors` (Float, node count x dimension), `links0` (UInt32, node count x
/// (2m + 1)), `levels` (UInt8 per node), `upperLinks` (UInt32: the upper-level slots of every
/// node with a level above 0, in id order), `ids` (UInt64 per node), `deleted` (UInt8 0/1 per
/// node), `payloads` (encoded one after the other), `quantizer` when quantization is on
/// (optional: `CollectionCodec+Quantizer.swift`), and `order` (UInt64: the nodes at the last
/// reorder; absent from snapshots written before it was kept). Snapshots of layout 1 hold one
/// `index` section instead (``CollectionCodec/decodeState(_:)``).
extension CollectionCodec {
    static let stateLayout: UInt32 = 2
    /// The section that marks layout 2.
    static let stateHeaderSection = "hnsw"

    static func stateSections(_ state: HNSWState) -> [SnapshotSection] {
        var header = BinaryWriter()
        header.u32(stateLayout)
        header.int(state.dimension)
        header.string(state.metric.rawValue)
        header.int(state.parameters.m); header.int(state.parameters.efConstruction); header.int(state.parameters.efSearch)
        header.u64(state.parameters.seed)
        header.u64(UInt64(state.externalIds.count))
        header.u64(state.entryPoint.map { UInt64($0) + 1 } ?? 0)
        header.u64(state.generatorState)
        var payloads = BinaryWriter()
        for payload in state.payloads { write(payload, &payloads) }
        let quantizer = state.quantizer.map { [quantizerSection($0)] } ?? []
        let order: [SnapshotSection] = state.orderedCount.map { count in
            var w = BinaryWriter()
            w.u64(UInt64(count))
            return [SnapshotSection(orderSection, bytes: w.bytes)]
        } ?? []
        return [
            SnapshotSection(stateHeaderSection, bytes: header.bytes),
            state.borrowedVectors.map { SnapshotSection("vectors", borrowing: UnsafeRawBufferPointer($0.elements), owner: $0.owner) }
                ?? SnapshotSection("vectors", values: state.vectors),
            state.borrowedLevel0Links.map { SnapshotSection("links0", borrowing: UnsafeRawBufferPointer($0.elements), owner: $0.owner) }
                ?? SnapshotSection("links0", values: state.level0Links),
            SnapshotSection("levels", values: state.levels),
            SnapshotSection("upperLinks", values: Array(state.upperLinks.joined())),
            SnapshotSection("ids", values: state.externalIds),
            SnapshotSection("deleted", values: state.deleted.map { $0 ? UInt8(1) : 0 }),
            SnapshotSection("payloads", bytes: payloads.bytes),
        ] + quantizer + order
    }

    /// The section holding ``HNSWState/orderedCount``.
    static let orderSection = "order"

    /// The state in `sections` (layout 2), vectors and level-0 links mapped in place with room
    /// for `roomFactor` times the nodes (appends after the load then copy nothing until the
    /// room runs out). Every count and length is checked against the others and the sections'
    /// sizes; damage throws.
    static func decodeState(_ sections: SnapshotSections, roomFactor: Int = 2) throws -> HNSWState {
        func damaged(_ why: String) -> Damaged { Damaged(description: "index sections: \(why)") }
        guard let headerBytes = sections[stateHeaderSection] else { throw damaged("no '\(stateHeaderSection)' section") }
        var r = BinaryReader(headerBytes)
        let layout = try r.u32()
        guard layout == stateLayout else {
            throw StorageError(.newerFormat, "index layout \(layout) is not one this build reads (\(stateLayout)): upgrade ruvector-server")
        }
        let dimension = try r.int()
        guard let metric = DistanceMetric(rawValue: try r.string()) else { throw damaged("unknown metric") }
        let parameters = HNSWParameters(m: try r.int(), efConstruction: try r.int(), efSearch: try r.int(), seed: try r.u64())
        let count = try r.u64(), entry = try r.u64(), generator = try r.u64()
        guard r.isAtEnd else { throw damaged("trailing bytes in the header") }
        // Bounded before any arithmetic: the engine checks the real limits later.
        guard (1...65_536).contains(dimension), (1...4096).contains(parameters.m), count <= UInt64(Int32.max) else {
            throw damaged("dimension \(dimension), m \(parameters.m) or node count \(count) out of range")
        }
        let n = Int(count), slots0 = 2 * parameters.m + 1
        func region<T: BitwiseCopyable>(_ name: String, _ type: T.Type, perNode: Int) throws -> BorrowedBuffer<T> {
            // The length is checked first: it bounds the node count, and so the room reserved.
            let bytes = n * perNode * MemoryLayout<T>.stride
            guard sections.count(of: name) == bytes,
                  let region = try sections.region(name, reservingBytes: max(n, 64) * max(roomFactor, 1) * perNode * MemoryLayout<T>.stride),
                  region.count == bytes else { throw damaged("section '\(name)' is not \(bytes) bytes") }
            let base = region.base.bindMemory(to: T.self, capacity: region.capacity / MemoryLayout<T>.stride)
            return BorrowedBuffer(base: base, count: n * perNode, capacity: region.capacity / MemoryLayout<T>.stride, owner: region)
        }
        func array<T: BitwiseCopyable>(_ name: String, _ type: T.Type, count: Int) throws -> [T] {
            let copied = try sections.withUnsafeBytes(name) { (raw) throws(Damaged) -> [T] in
                guard raw.count == count * MemoryLayout<T>.stride else {
                    throw damaged("section '\(name)' is \(raw.count) bytes, not \(count * MemoryLayout<T>.stride)")
                }
                return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                    if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw) }
                    initialized = count
                }
            }
            guard let copied else { throw damaged("no '\(name)' section") }
            return copied
        }
        let vectors = try region("vectors", Float.self, perNode: dimension)
        let links0 = try region("links0", UInt32.self, perNode: slots0)
        let levels = try array("levels", UInt8.self, count: n)
        guard levels.allSatisfy({ $0 <= 32 }) else { throw damaged("a level above 32") }
        let upperCount = levels.reduce(0) { $0 + Int($1) } * (parameters.m + 1)
        let upper = try array("upperLinks", UInt32.self, count: upperCount)
        var upperLinks: [[UInt32]] = []
        upperLinks.reserveCapacity(n)
        var next = 0
        for level in levels {
            let length = Int(level) * (parameters.m + 1)
            upperLinks.append(length == 0 ? [] : Array(upper[next..<(next + length)]))
            next += length
        }
        let ids = try array("ids", UInt64.self, count: n)
        let flags = try array("deleted", UInt8.self, count: n)
        guard flags.allSatisfy({ $0 <= 1 }) else { throw damaged("a tombstone flag other than 0 or 1") }
        guard let payloadBytes = sections["payloads"] else { throw damaged("no 'payloads' section") }
        var payloadReader = BinaryReader(payloadBytes)
        var payloads: [Payload] = []
        payloads.reserveCapacity(n)
        for _ in 0..<n { payloads.append(try readPayload(&payloadReader)) }
        guard payloadReader.isAtEnd else { throw damaged("trailing bytes after the payloads") }
        let quantizer = try decodeQuantizer(sections)
        var orderedCount: Int?
        if let bytes = sections[orderSection] {
            var r = BinaryReader(bytes)
            let ordered = try r.u64()
            guard r.isAtEnd, ordered <= count else { throw damaged("section '\(orderSection)': \(ordered) ordered of \(count) nodes") }
            orderedCount = Int(ordered)
        }
        return HNSWState(dimension: dimension, metric: metric, parameters: parameters, vectors: [], levels: levels,
                         level0Links: [], upperLinks: upperLinks, externalIds: ids, deleted: flags.map { $0 != 0 },
                         payloads: payloads, entryPoint: entry == 0 ? nil : UInt32(truncatingIfNeeded: entry - 1),
                         generatorState: generator, borrowedVectors: vectors, borrowedLevel0Links: links0,
                         quantizer: quantizer, orderedCount: orderedCount)
    }
}
