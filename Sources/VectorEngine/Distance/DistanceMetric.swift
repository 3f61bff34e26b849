internal import CVectorKernels

/// How two vectors are compared. Every metric is turned into a *distance*: smaller is closer.
///
/// - `l2Squared`: sum of squared differences.
/// - `cosine`: `1 - cos(a, b)`. Vectors are normalised when stored, so the kernel is a dot product.
/// - `dot`: `-(a · b)` (maximum inner product as a distance).
/// - `manhattan`: sum of absolute differences.
public enum DistanceMetric: String, Sendable, Hashable, CaseIterable {
    /// Squared Euclidean distance.
    case l2Squared
    /// Cosine distance `1 - cos`.
    case cosine
    /// Negated inner product.
    case dot
    /// L1 distance.
    case manhattan

    /// Whether stored vectors (and queries) are normalised to unit length first.
    public var normalizesVectors: Bool { self == .cosine }

    /// The distance for inner product `ip`, for the metrics measured by one (`.cosine` on
    /// normalised vectors, `.dot`); not meaningful for the others.
    @inlinable @inline(__always)
    func fromInnerProduct(_ ip: Float) -> Float { self == .cosine ? 1 - ip : -ip }

    /// The distance between `a` and `b` (same length). For `.cosine`, both must already be
    /// normalised; use ``distance(_:_:)`` with arrays for the convenience path.
    /// Uses the AVX2+FMA C kernels when the CPU has them (checked once), else SIMD16 Swift.
    @inline(__always)
    public func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        if DistanceKernels.useAVX2 {
            switch self {
            case .l2Squared: return CVectorKernels_l2SquaredAVX2(a, b, count)
            case .cosine, .dot: return fromInnerProduct(CVectorKernels_dotAVX2(a, b, count))
            case .manhattan: return CVectorKernels_manhattanAVX2(a, b, count)
            }
        }
        return portableDistance(a, b, count: count)
    }

    /// The distance with the portable SIMD16 Swift kernels only (the scalar-ISA fallback).
    @inlinable
    public func portableDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        switch self {
        case .l2Squared: return DistanceKernels.l2Squared(a, b, count)
        case .cosine, .dot: return fromInnerProduct(DistanceKernels.dot(a, b, count))
        case .manhattan: return DistanceKernels.manhattan(a, b, count)
        }
    }

    /// The distance between two arrays of equal length, normalising first for `.cosine`.
    public func distance(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "vectors must have the same length")
        let x = normalizesVectors ? DistanceKernels.normalized(a) : a
        let y = normalizesVectors ? DistanceKernels.normalized(b) : b
        return x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                guard let xb = xp.baseAddress, let yb = yp.baseAddress else { return 0 }
                return distance(xb, yb, count: a.count)
            }
        }
    }

    /// Distances from one query to `count` vectors stored contiguously at `base`
    /// (row `i` starts at `base + i * dimension`), written into `out`. Allocates nothing.
    public func batchDistance(query: UnsafePointer<Float>, base: UnsafePointer<Float>, count: Int,
                              dimension: Int, into out: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            out[i] = distance(query, base + i * dimension, count: dimension)
        }
    }
}

/// SIMD distance kernels on raw `Float` buffers. They use `SIMD16<Float>` lanes with two
/// accumulators, then `SIMD8`/scalar tails; nothing is allocated. They use `a += x * y`
/// rather than `addProduct`, which without `-mfma` becomes a libm `fmaf` call per lane.
public enum DistanceKernels {
    /// Whether the AVX2+FMA C kernels are used (decided once, at first use, from CPUID).
    /// Set `RUVECTOR_PORTABLE_KERNELS` at build time (`-DRUVECTOR_PORTABLE_KERNELS`) to force the Swift path.
    public static let useAVX2: Bool = {
        #if RUVECTOR_PORTABLE_KERNELS
        return false
        #else
        return CVectorKernels_hasAVX2FMA() != 0
        #endif
    }()

    /// Whether the AVX2 kernels on half-precision codes are used too (the CPU has F16C).
    static let useF16C: Bool = useAVX2 && CVectorKernels_hasF16C() != 0

    /// 16 floats starting at float index `i`.
    @inlinable @inline(__always)
    static func load16(_ p: UnsafeRawPointer, _ i: Int) -> SIMD16<Float> {
        p.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
    }

    /// Sum of squared differences of `n` floats.
    @inlinable @inline(__always)
    public static func l2Squared(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var i = 0
        while i + 32 <= n {
            let d0 = load16(ra, i) - load16(rb, i)
            let d1 = load16(ra, i &+ 16) - load16(rb, i &+ 16)
            acc0 += d0 * d0
            acc1 += d1 * d1
            i &+= 32
        }
        if i + 16 <= n {
            let d0 = load16(ra, i) - load16(rb, i)
            acc0 += d0 * d0
            i &+= 16
        }
        var sum = (acc0 + acc1).sum()
        if i + 8 <= n {
            let d = ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                - rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            sum += (d * d).sum()
            i &+= 8
        }
        while i < n { let d = a[i] - b[i]; sum += d * d; i &+= 1 }
        return sum
    }

    /// Inner product of `n` floats.
    @inlinable @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var i = 0
        while i + 32 <= n {
            acc0 += load16(ra, i) * load16(rb, i)
            acc1 += load16(ra, i &+ 16) * load16(rb, i &+ 16)
            i &+= 32
        }
        if i + 16 <= n {
            acc0 += load16(ra, i) * load16(rb, i)
            i &+= 16
        }
        var sum = (acc0 + acc1).sum()
        if i + 8 <= n {
            sum += (ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)).sum()
            i &+= 8
        }
        while i < n { sum += a[i] * b[i]; i &+= 1 }
        return sum
    }

    /// Sum of absolute differences of `n` floats.
    @inlinable @inline(__always)
    public static func manhattan(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var i = 0
        while i + 32 <= n {
            let d0 = load16(ra, i) - load16(rb, i)
            let d1 = load16(ra, i &+ 16) - load16(rb, i &+ 16)
            acc0 += absolute(d0)
            acc1 += absolute(d1)
            i &+= 32
        }
        var sum = (acc0 + acc1).sum()
        while i < n { sum += abs(a[i] - b[i]); i &+= 1 }
        return sum
    }

    @inlinable @inline(__always)
    static func absolute(_ v: SIMD16<Float>) -> SIMD16<Float> {
        // Clear the sign bits; a lane-wise compare-and-select does not vectorise as well.
        unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
    }

    /// `v / |v|`, or `v` unchanged when it is all zeros.
    public static func normalized(_ v: [Float]) -> [Float] {
        var norm: Float = 0
        for x in v { norm += x * x }
        guard norm > 0 else { return v }
        let inv = 1 / norm.squareRoot()
        return v.map { $0 * inv }
    }
}
