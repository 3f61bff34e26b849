/// A compressed representation of stored vectors, used for the graph walk; the best
/// candidates are then rescored on the full `Float` vectors.
public enum QuantizationKind: Sendable, Hashable {
    /// One byte per component: per-dimension min/max scaling.
    case scalarInt8
    /// Half a byte per component: each vector is coded as the nearest of up to 256 k-means
    /// centroids plus its residual to it, scaled per dimension to 4 bits, and a distance
    /// correction (5 bytes a vector besides the components). Residuals are small where the
    /// data clusters, so 16 levels keep most of int8's precision at half its size.
    case scalarInt4
    /// Two bytes per component (IEEE half precision).
    case float16
    /// Product quantization: `subspaces` sub-vectors, 256 centroids each (one byte per sub-vector).
    case pq8(subspaces: Int)
    /// Product quantization with 16 centroids per sub-vector (half a byte per sub-vector).
    case pq4(subspaces: Int)
    /// One sign bit per component, compared by Hamming distance.
    case binary
    /// Each vector in the tier its search traffic earns: hot f32, warm f16, cool PQ8, cold PQ4,
    /// archive sign bits (see ``TierPolicy``).
    case tiered(TierPolicy)

    /// Bytes per encoded vector for `dimension`; for `.tiered`, that of the warm tier
    /// (each tier has its own: ``TierPolicy/codeBytes(_:dimension:)``).
    public func codeBytes(dimension: Int) -> Int {
        switch self {
        case .scalarInt8: return dimension
        case .scalarInt4: return _Int4Codes.headerBytes + (dimension + 1) / 2
        case .float16: return dimension * 2
        case .pq8(let m): return m
        case .pq4(let m): return (m + 1) / 2
        case .binary: return (dimension + 63) / 64 * 8
        case .tiered(let policy): return policy.codeBytes(.warm, dimension: dimension)
        }
    }
}
