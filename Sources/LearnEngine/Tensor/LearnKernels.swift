internal import CLearnKernels

/// Which instruction set LearnEngine's `Float` kernels run on this machine, for logs and benchmarks.
public enum LearnKernelInstructionSet {
    /// "AVX-512F", "AVX2+FMA" or "portable".
    public static var name: String {
        switch LearnKernels.best {
        case .avx512: "AVX-512F"
        case .avx2: "AVX2+FMA"
        case .portable: "portable"
        }
    }
}

/// The `Float` hot loops over the C kernels in CLearnKernels: the two matrix products every linear
/// layer runs, tanh, softmax and the GRU's gates (AVX-512F, AVX2+FMA or portable C, the best the
/// CPU runs, chosen once). The paths agree within
/// float rounding, not bit for bit; one path on one machine always gives the same bits.
/// The only importer of CLearnKernels. Pure functions: safe from any number of threads.
enum LearnKernels {
    /// An instruction-set path of the kernels.
    enum Level: CaseIterable, Sendable {
        case portable, avx2, avx512

        fileprivate var c: CLearnKernels_Level {
            switch self {
            case .portable: CLearnKernels_portable
            case .avx2: CLearnKernels_avx2
            case .avx512: CLearnKernels_avx512
            }
        }
    }

    /// The best path this CPU runs.
    static let best: Level = {
        switch CLearnKernels_bestLevel() {
        case CLearnKernels_avx512: .avx512
        case CLearnKernels_avx2: .avx2
        default: .portable
        }
    }()

    /// Every path this CPU runs (the tests compare each with a scalar reference).
    static var supported: [Level] {
        switch best {
        case .avx512: [.portable, .avx2, .avx512]
        case .avx2: [.portable, .avx2]
        case .portable: [.portable]
        }
    }

    /// y[rows x outputs] = x[rows x inputs] * w[outputs x inputs]^T + bias (when given).
    static func gemmNT(x: UnsafePointer<Float>, rows: Int, inputs: Int,
                       weight: UnsafePointer<Float>, outputs: Int, bias: UnsafePointer<Float>?,
                       into y: UnsafeMutablePointer<Float>, level: Level = best) {
        guard rows > 0, outputs > 0 else { return }
        CLearnKernels_gemmNT(level.c, x, rows, inputs, weight, outputs, bias, y)
    }

    /// c[rows x columns] += a * b[depth x columns], element (i, p) of a at a[i * aRowStride + p * aColumnStride].
    static func gemmAccumulate(a: UnsafePointer<Float>, aRowStride: Int, aColumnStride: Int,
                               rows: Int, depth: Int, b: UnsafePointer<Float>, columns: Int,
                               into c: UnsafeMutablePointer<Float>, level: Level = best) {
        guard rows > 0, depth > 0, columns > 0 else { return }
        CLearnKernels_gemmAccumulate(level.c, a, aRowStride, aColumnStride, rows, depth, b, columns, c)
    }

    /// x[i] = tanh x[i] for i in 0..<count.
    static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int, level: Level = best) {
        CLearnKernels_tanh(level.c, x, count)
    }

    /// Softmax of x[0..<count] in place.
    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int, level: Level = best) {
        CLearnKernels_softmax(level.c, x, count)
    }

    /// The GRU's gates and new state for `rows` rows of `width` (see `GRUCell`): gi, gh [rows x 3 width],
    /// h [rows x width] in; r, z, n, out [rows x width] written.
    static func gruGates(gi: UnsafePointer<Float>, gh: UnsafePointer<Float>, h: UnsafePointer<Float>,
                         rows: Int, width: Int, r: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>,
                         n: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, level: Level = best) {
        CLearnKernels_gruGates(level.c, gi, gh, h, rows, width, r, z, n, out)
    }
}
