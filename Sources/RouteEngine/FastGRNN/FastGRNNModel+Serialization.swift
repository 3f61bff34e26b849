import Checksums
import LearnEngine

/// The router model's binary format, version 1 (integers little-endian):
///
///     "RVFG", u16 version, u8 precision (0 f32, 1 int8),
///     u32 inputs, hidden, classes, time steps, W rank, U rank (rank 0 = full),
///     the matrices W.. U.. V in that order, each
///         f32: rows*columns f32 values
///         int8: f32 scale, u32 non-zero count, a bitmap of ceil(rows*columns/8) bytes (bit i set = entry i
///               stored, least significant bit first), then the non-zero int8 values in index order,
///     then f32 b_z[hidden], b_h[hidden], ζ', ν', b_V[classes], and a CRC-32C of everything before it.
///
/// A model's size is the length of this encoding, header and checksum included (`serialisedByteCount`):
/// what a file or a snapshot of the router would hold. The int8 form stores pruned zeros as one bit each.
extension FastGRNNModel {
    /// The format's first bytes.
    public static let serialisationMagic: [UInt8] = Array("RVFG".utf8)
    /// The only version this build reads and writes.
    public static let serialisationVersion: UInt16 = 1
    /// Inputs larger than this are refused before parsing (the largest valid configuration is under it).
    public static let maximumSerialisedBytes = 64 << 20

    /// The encoding above; `init(serialised:)` reads it back exactly.
    public func serialised() -> [UInt8] {
        var out = ByteWriter()
        out.bytes(Self.serialisationMagic)
        out.u16(Self.serialisationVersion)
        out.u8(precision.rawValue)
        for v in [config.inputs, config.hidden, config.classes, config.timeSteps, config.wRank ?? 0, config.uRank ?? 0] {
            out.u32(UInt32(v))
        }
        for m in w + u + [classifier] {
            switch m.storage {
            case let .float32(values):
                for v in values { out.u32(v.bitPattern) }
            case let .int8(scale, values):
                out.u32(scale.bitPattern)
                out.u32(UInt32(m.nonZeroCount))
                var bitmap = [UInt8](repeating: 0, count: (values.count + 7) / 8)
                for (i, q) in values.enumerated() where q != 0 { bitmap[i / 8] |= 1 << (i % 8) }
                out.bytes(bitmap)
                out.bytes(values.filter { $0 != 0 }.map { UInt8(bitPattern: $0) })
            }
        }
        for v in gateBias + updateBias + [zetaLogit, nuLogit] + classifierBias { out.u32(v.bitPattern) }
        out.u32(CRC32C.checksum(out.buffer))
        return out.buffer
    }

    /// The model's size in bytes: the length of `serialised()`.
    public var serialisedByteCount: Int { serialised().count }

    /// Reads `serialised()` output. Throws `corruptModel` for damaged, truncated, oversized or foreign
    /// bytes; never traps, and allocates only after the configuration has been validated.
    public init(serialised bytes: [UInt8]) throws(LearnError) {
        func corrupt(_ m: String) -> LearnError { LearnError(.corruptModel, "router model bytes refused: " + m) }
        guard bytes.count <= Self.maximumSerialisedBytes else { throw corrupt("\(bytes.count) bytes exceed the limit") }
        guard bytes.count >= 4 + 2 + 1 + 24 + 4 else { throw corrupt("truncated (\(bytes.count) bytes)") }
        guard Array(bytes.prefix(4)) == Self.serialisationMagic else { throw corrupt("not a router model (bad magic)") }
        var tail = ByteReader(bytes[(bytes.count - 4)...])
        guard tail.u32() == CRC32C.checksum(bytes[..<(bytes.count - 4)]) else { throw corrupt("checksum mismatch") }
        var r = ByteReader(bytes[4 ..< (bytes.count - 4)])
        guard let version = r.u16(), let precisionByte = r.u8() else { throw corrupt("truncated header") }
        guard version == Self.serialisationVersion else {
            throw corrupt("format version \(version), this build reads \(Self.serialisationVersion)")
        }
        guard let precision = Precision(rawValue: precisionByte) else { throw corrupt("unknown precision \(precisionByte)") }
        var header = [Int]()
        for _ in 0..<6 {
            guard let v = r.u32() else { throw corrupt("truncated header") }
            header.append(Int(v))
        }
        let config = FastGRNNConfig(inputs: header[0], classes: header[2], hidden: header[1], timeSteps: header[3],
                                    wRank: header[4] == 0 ? nil : header[4], uRank: header[5] == 0 ? nil : header[5])
        do { try config.validate() } catch { throw corrupt(error.message) }

        func shapes(_ rank: Int?, outputs: Int, inputs: Int) -> [(Int, Int)] {
            rank.map { [(outputs, $0), ($0, inputs)] } ?? [(outputs, inputs)]
        }
        func matrix(_ rows: Int, _ columns: Int) throws(LearnError) -> StoredMatrix {
            let n = rows * columns
            switch precision {
            case .float32:
                guard let v = r.finiteFloats(n) else { throw corrupt("a \(rows)x\(columns) matrix is truncated or not finite") }
                return StoredMatrix(rows: rows, columns: columns, values: v)
            case .int8:
                guard let scaleBits = r.u32(), let stored = r.u32(), let bitmap = r.take((n + 7) / 8) else { throw corrupt("truncated int8 matrix header") }
                let scale = Float(bitPattern: scaleBits)
                guard scale.isFinite, scale > 0 else { throw corrupt("int8 scale \(scale) is not a positive number") }
                let marked = bitmap.reduce(0) { $0 + $1.nonzeroBitCount }
                // Bits past the last entry must be clear, or two encodings would mean one model.
                guard Int(stored) == marked, n % 8 == 0 || bitmap.last.map({ $0 >> (n % 8) == 0 }) == true else {
                    throw corrupt("int8 bitmap does not match its count")
                }
                guard let raw = r.take(Int(stored)) else { throw corrupt("int8 values truncated") }
                var values = [Int8](repeating: 0, count: n)
                var next = raw.startIndex
                for i in 0..<n where bitmap[bitmap.startIndex + i / 8] & (1 << (i % 8)) != 0 {
                    let q = Int8(bitPattern: raw[next])
                    guard q != 0, q != -128 else { throw corrupt("int8 value \(q) cannot be stored") }
                    values[i] = q
                    next += 1
                }
                return StoredMatrix(rows: rows, columns: columns, storage: .int8(scale: scale, values: values))
            }
        }
        var w = [StoredMatrix](), u = [StoredMatrix]()
        for (rows, columns) in shapes(config.wRank, outputs: config.hidden, inputs: config.inputs) { w.append(try matrix(rows, columns)) }
        for (rows, columns) in shapes(config.uRank, outputs: config.hidden, inputs: config.hidden) { u.append(try matrix(rows, columns)) }
        let classifier = try matrix(config.classes, config.hidden)
        guard let vectors = r.finiteFloats(2 * config.hidden + 2 + config.classes) else {
            throw corrupt("biases truncated or not finite")
        }
        guard r.remaining == 0 else { throw corrupt("\(r.remaining) trailing bytes") }
        let h = config.hidden
        self.init(config: config, w: w, u: u, classifier: classifier, gateBias: Array(vectors[0..<h]),
                  updateBias: Array(vectors[h ..< 2 * h]), classifierBias: Array(vectors[(2 * h + 2)...]),
                  zetaLogit: vectors[2 * h], nuLogit: vectors[2 * h + 1])
    }
}
