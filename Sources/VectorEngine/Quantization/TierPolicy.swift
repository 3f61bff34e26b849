/// Compression tier of one vector, from most to least searched-for (the seed's table):
///
/// | tier | code | size (384 dims) | vs f32 |
/// |---|---|---:|---:|
/// | hot | f32 copy | 1,536 B | 1x |
/// | warm | f16 | 768 B | 2x smaller |
/// | cool | PQ8, 2 dims a byte | 192 B | 8x |
/// | cold | PQ4, 2 dims a nibble | 96 B | 16x |
/// | archive | sign bits | 48 B | 32x |
public enum CompressionTier: Int, Sendable, Hashable, CaseIterable, Comparable {
    /// Full `Float` copy: exact walk distances.
    case hot
    /// Half precision.
    case warm
    /// Product quantization, 8-bit codes.
    case cool
    /// Product quantization, 4-bit codes.
    case cold
    /// Sign bits, measured as ±(mean |x_j|) per dimension so its distances share the other tiers' scale.
    case archive

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// How ``QuantizationKind/tiered(_:)`` chooses each vector's tier.
///
/// A vector's *rate* is how often searches return it, per million queries, decayed over
/// re-tiering passes. Its tier follows the seed's bands relative to ``hotThreshold`` `H`:
/// hot at `H` or more, warm from `H/2`, cool from `H/8`, cold from `H/80`, archive below.
/// A new vector starts hot at rate `H`; if never returned its rate halves each pass (with the
/// default decay), so it steps down to warm after one pass, cool after two, cold after four
/// and archive after seven. Vectors present when the tiers are first built start warm. The
/// neighbours of a busy vector count as at least ``neighbourShare`` of its rate, up to the cool band.
/// Promotion re-encodes from the full vector, so a vector that comes back is exact again.
public struct TierPolicy: Sendable, Hashable {
    /// Returns per million queries at or above which a vector is hot.
    public var hotThreshold: Double
    /// Searches between automatic re-tiering passes (run in the background); 0 = only
    /// explicit ``HNSWIndex/retier()`` calls.
    public var retierIntervalQueries: Int
    /// Weight each pass keeps of the past (0 ..< 1).
    public var decay: Double
    /// Sub-vectors of the cool and cold tiers' product quantizers; 0 = half the dimension
    /// (2 dimensions a sub-vector: PQ8 8x and PQ4 16x smaller than f32).
    public var pqSubspaces: Int

    /// Band lower bounds as fractions of ``hotThreshold``: hot, warm, cool, cold (the seed's
    /// 80 / 40 / 10 / 1 % of accesses, relative to the hot band's).
    public static let bandFractions: [Double] = [1, 0.5, 0.125, 0.0125]

    /// A vector's rate for choosing its tier is at least this share of its busiest graph
    /// neighbour's, up to the cool band: the neighbours of a vector 8 times past the hot
    /// threshold are at least cool, so a walk into a popular region measures its surroundings
    /// with PQ8 or better rather than sign bits.
    public static let neighbourShare = 0.125

    /// Creates a policy; by default a vector returned by 0.1% of queries or more is hot.
    public init(hotThreshold: Double = 1_000, retierIntervalQueries: Int = 10_000, decay: Double = 0.5,
                pqSubspaces: Int = 0) {
        self.hotThreshold = hotThreshold; self.retierIntervalQueries = retierIntervalQueries
        self.decay = decay; self.pqSubspaces = pqSubspaces
    }

    /// The tier for a rate (returns per million queries).
    public func tier(forRate rate: Double) -> CompressionTier {
        for (i, fraction) in Self.bandFractions.enumerated() where rate >= hotThreshold * fraction {
            return CompressionTier(rawValue: i) ?? .archive
        }
        return .archive
    }

    /// The PQ sub-vector count used for `dimension`.
    public func subspaces(dimension: Int) -> Int { pqSubspaces > 0 ? pqSubspaces : max(1, dimension / 2) }

    /// Bytes of one vector's code in `tier`.
    public func codeBytes(_ tier: CompressionTier, dimension: Int) -> Int {
        switch tier {
        case .hot: return dimension * 4
        case .warm: return QuantizationKind.float16.codeBytes(dimension: dimension)
        case .cool: return QuantizationKind.pq8(subspaces: subspaces(dimension: dimension)).codeBytes(dimension: dimension)
        case .cold: return QuantizationKind.pq4(subspaces: subspaces(dimension: dimension)).codeBytes(dimension: dimension)
        case .archive: return Self.archiveCodeBytes(dimension: dimension)
        }
    }

    /// Bytes of an archive-tier code: one sign bit per dimension, packed (the scaled binary
    /// code of `_QuantizedStore`).
    static func archiveCodeBytes(dimension: Int) -> Int { (dimension + 7) / 8 }

    /// Throws `.invalidArgument` for a policy that cannot work at `dimension`.
    public func validate(dimension: Int) throws(VectorEngineError) {
        func require(_ ok: Bool, _ message: String) throws(VectorEngineError) {
            if !ok { throw VectorEngineError(code: .invalidArgument, message: message) }
        }
        try require(hotThreshold.isFinite && hotThreshold > 0 && hotThreshold <= 1_000_000,
                    "tier hot threshold \(hotThreshold) must be in (0, 1000000] returns per million queries")
        try require(retierIntervalQueries >= 0 && retierIntervalQueries <= 100_000_000,
                    "re-tier interval \(retierIntervalQueries) must be in 0...100000000 queries")
        try require(decay >= 0 && decay < 1, "tier decay \(decay) must be in [0, 1)")
        try require(pqSubspaces >= 0 && pqSubspaces <= dimension,
                    "tier PQ subspaces \(pqSubspaces) must be in 0...dimension (\(dimension))")
    }
}
