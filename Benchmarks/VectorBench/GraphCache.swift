// vector-bench --cache 1: our built graph saved beside the generated data and loaded again by a
// later run, so search changes can be measured without rebuilding (minutes at 1M). A plain dump
// of the exported state (vectors, levels, links, entry point); only this benchmark reads it.
import Foundation
import VectorEngine

private func append<T>(_ array: [T], to data: inout Data) {
    withUnsafeBytes(of: array.count) { data.append(contentsOf: $0) }
    array.withUnsafeBytes { data.append(contentsOf: $0) }
}

private struct Reader {
    let data: Data
    var at = 0

    mutating func array<T>(of: T.Type) -> [T] {
        let count = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: Int.self) }
        at += MemoryLayout<Int>.size
        let bytes = count * MemoryLayout<T>.stride
        defer { at += bytes }
        return data.withUnsafeBytes { raw in
            [T](unsafeUninitializedCapacity: count) { out, initialized in
                UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[at..<(at + bytes)]))
                initialized = count
            }
        }
    }
}

/// Writes `index`'s graph (no payloads: the benchmark stores none) to `url`.
func saveGraph(_ index: HNSWIndex, _ url: URL) throws {
    let s = index.exportState()
    var data = Data()
    append([s.dimension, s.parameters.m, s.parameters.efConstruction, s.entryPoint.map(Int.init) ?? -1,
            Int(bitPattern: UInt(s.generatorState))], to: &data)
    append(s.vectors, to: &data)
    append(s.levels, to: &data)
    append(s.level0Links, to: &data)
    append(s.upperLinks.flatMap { $0 }, to: &data)
    append(s.externalIds, to: &data)
    try data.write(to: url)
}

/// Reads a graph written by ``saveGraph(_:_:)`` (the index validates it as it imports it).
func loadGraph(_ url: URL) throws -> HNSWIndex {
    var r = Reader(data: try Data(contentsOf: url, options: .alwaysMapped))
    let header = r.array(of: Int.self)
    let (dim, m, efc, entry, generator) = (header[0], header[1], header[2], header[3], header[4])
    let vectors = r.array(of: Float.self), levels = r.array(of: UInt8.self)
    let level0 = r.array(of: UInt32.self), upper = r.array(of: UInt32.self), ids = r.array(of: UInt64.self)
    var upperLinks: [[UInt32]] = []
    var at = 0
    for level in levels {
        let slots = Int(level) * (m + 1)
        upperLinks.append(Array(upper[at..<(at + slots)]))
        at += slots
    }
    let state = HNSWState(dimension: dim, metric: .l2Squared, parameters: .init(m: m, efConstruction: efc, seed: 1),
                          vectors: vectors, levels: levels, level0Links: level0, upperLinks: upperLinks,
                          externalIds: ids, deleted: [Bool](repeating: false, count: ids.count),
                          payloads: [Payload](repeating: [:], count: ids.count),
                          entryPoint: entry < 0 ? nil : UInt32(entry), generatorState: UInt64(UInt(bitPattern: generator)))
    return try HNSWIndex(state: state)
}
