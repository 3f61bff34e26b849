/// A weight matrix of an inference model: f32 values, or int8 values with one scale for the whole
/// matrix (symmetric: value = scale * q, q in -127...127, so zero stays exactly zero after pruning).
public struct StoredMatrix: Equatable, Sendable {
    /// How the values are held.
    public enum Storage: Equatable, Sendable {
        /// Row-major f32.
        case float32([Float])
        /// Row-major int8 and the scale that turns them back into weights.
        case int8(scale: Float, values: [Int8])
    }

    /// Rows (outputs).
    public let rows: Int
    /// Columns (inputs).
    public let columns: Int
    /// The values.
    public let storage: Storage

    /// A matrix of `rows x columns` values held as `storage` (whose count must match).
    init(rows: Int, columns: Int, storage: Storage) {
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// The f32 matrix of `values`.
    init(rows: Int, columns: Int, values: [Float]) {
        self.init(rows: rows, columns: columns, storage: .float32(values))
    }

    /// This matrix in int8 with scale max|w| / 127, each weight rounded to the nearest step.
    func quantized() -> StoredMatrix {
        guard case let .float32(values) = storage else { return self }
        let largest = values.reduce(Float(0)) { max($0, abs($1)) }
        let scale = largest > 0 ? largest / 127 : 1
        let q = values.map { Int8(max(-127, min(127, ($0 / scale).rounded()))) }
        return StoredMatrix(rows: rows, columns: columns, storage: .int8(scale: scale, values: q))
    }

    /// The weights as f32 (dequantised when int8).
    public var floats: [Float] {
        switch storage {
        case let .float32(v): v
        case let .int8(scale, q): q.map { Float($0) * scale }
        }
    }

    /// Entries that are not zero.
    public var nonZeroCount: Int {
        switch storage {
        case let .float32(v): v.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        case let .int8(_, q): q.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        }
    }

    /// y = M x (y has `rows` entries, x `columns`).
    @inline(__always)
    func apply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        let n = columns
        switch storage {
        case let .float32(values):
            values.withUnsafeBufferPointer { w in
                for r in 0..<rows {
                    let row = w.baseAddress! + r * n
                    y[r] = Self.dot(n, x, { UnsafeRawPointer(row + $0).loadUnaligned(as: SIMD8<Float>.self) }, { row[$0] })
                }
            }
        case let .int8(scale, values):
            values.withUnsafeBufferPointer { w in
                for r in 0..<rows {
                    let row = w.baseAddress! + r * n
                    y[r] = scale * Self.dot(n, x, {
                        SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(row + $0).loadUnaligned(as: SIMD8<Int8>.self)))
                    }, { Float(row[$0]) })
                }
            }
        }
    }

    /// Σ w_i x_i over `count` entries, eight lanes at a time in two sums; `weights(i)` loads w_i...w_{i+7}
    /// as f32 and `weight(i)` one entry, so f32 and int8 rows share the loop.
    @inline(__always)
    static func dot(_ count: Int, _ x: UnsafePointer<Float>, _ weights: (Int) -> SIMD8<Float>, _ weight: (Int) -> Float) -> Float {
        var a = SIMD8<Float>(), b = SIMD8<Float>()
        var i = 0
        while i + 16 <= count {
            a += weights(i) * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            b += weights(i + 8) * UnsafeRawPointer(x + i + 8).loadUnaligned(as: SIMD8<Float>.self)
            i += 16
        }
        if i + 8 <= count {
            a += weights(i) * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = (a + b).sum()
        while i < count { s += weight(i) * x[i]; i += 1 }
        return s
    }
}
