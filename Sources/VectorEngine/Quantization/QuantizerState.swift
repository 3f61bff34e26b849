/// The trained quantizer of an ``HNSWIndex`` and the walk code of every node, as plain values:
/// carried in ``HNSWState/quantizer`` so that a snapshot restores the very codes searches walked
/// on, instead of training again on the restored vectors (which gives other codes, and so other
/// approximate results).
///
/// Which fields are used depends on ``kind``; the others are empty. ``HNSWIndex/init(state:)``
/// checks every length and value against the index and throws `.invalidArgument` on any
/// disagreement.
public struct QuantizerState: Sendable, Hashable {
    /// The quantization these parameters and codes belong to.
    public var kind: QuantizationKind
    /// `.scalarInt8`: per-dimension offset (code 0 decodes to it). `.scalarInt4`: the same, of
    /// the residuals.
    public var offsets: [Float]
    /// `.scalarInt8`: per-dimension step between codes (`.scalarInt4`: of the residuals).
    /// `.binary`: per-dimension magnitude a sign bit decodes to.
    public var steps: [Float]
    /// `.pq8`/`.pq4`: the codebooks, subspace after subspace, each `centroids x subDimension`
    /// values (256 centroids for PQ8, 16 for PQ4; `subDimension` is the dimension divided by the
    /// subspaces, rounded up, the last sub-vector zero-padded). `.scalarInt4`: the centroids
    /// the residuals are measured from, `dimension` values each (1 to 256 of them).
    public var centroids: [Float]
    /// Codes, ``QuantizationKind/codeBytes(dimension:)`` bytes per node in node order (per slot,
    /// for a tier's encoder); empty for `.tiered`, whose codes are in ``tiers``.
    public var codes: [UInt8]
    /// When set, the codes (``codes`` is then empty), in memory someone else keeps: a mapped
    /// snapshot section the import copies from once, or the index's own buffer in a borrowing
    /// export (``HNSWIndex/exportState(borrowingVectors:)``). Either way no second heap copy of
    /// them exists while a snapshot is written or loaded.
    public var borrowedCodes: BorrowedBuffer<UInt8>?
    /// `.tiered`: each node's tier and slot, the tiers' encoders and codes, and the rates.
    public var tiers: TieredQuantizerState?

    /// A state from its parts (as read back from a snapshot); ``HNSWIndex/init(state:)`` validates it.
    public init(kind: QuantizationKind, offsets: [Float] = [], steps: [Float] = [], centroids: [Float] = [],
                codes: [UInt8] = [], borrowedCodes: BorrowedBuffer<UInt8>? = nil, tiers: TieredQuantizerState? = nil) {
        self.kind = kind; self.offsets = offsets; self.steps = steps; self.centroids = centroids
        self.codes = codes; self.borrowedCodes = borrowedCodes; self.tiers = tiers
    }

    /// Calls `body` with the codes, wherever they lie.
    public func withCodes<Result, Failure: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result) throws(Failure) -> Result {
        if let borrowedCodes { return try withExtendedLifetime(borrowedCodes.owner) { () throws(Failure) in try body(borrowedCodes.elements) } }
        return try codes.withUnsafeBufferPointer { (buffer) throws(Failure) in try body(buffer) }
    }

    /// The number of code bytes, wherever they lie.
    public var codeByteCount: Int { borrowedCodes?.count ?? codes.count }
}

extension QuantizerState {
    /// Equal when every field is, the codes compared byte for byte wherever each side keeps them
    /// (a state read from a mapped snapshot equals the one that was written).
    public static func == (a: Self, b: Self) -> Bool {
        a.kind == b.kind && a.offsets == b.offsets && a.steps == b.steps && a.centroids == b.centroids && a.tiers == b.tiers
            && a.withCodes { x in b.withCodes { y in x.elementsEqual(y) } }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind); hasher.combine(offsets); hasher.combine(steps); hasher.combine(centroids); hasher.combine(tiers)
        withCodes { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// The tiers of a `.tiered` ``QuantizerState``: where each node's walk code is and how often
/// searches returned it. Hot codes are copies of the full vectors, so they are not stored here:
/// the import copies them from the index's vectors.
public struct TieredQuantizerState: Sendable, Hashable {
    /// Encoders of the warm (`.float16`), cool (`.pq8`), cold (`.pq4`) and archive (`.binary`,
    /// one byte per 8 dimensions, measured on the metric's scale) tiers, in that order, each with
    /// its codes by slot.
    public var encoders: [QuantizerState]
    /// Slots of the hot tier, used and free.
    public var hotSlots: Int
    /// Each node's tier (``CompressionTier`` raw value).
    public var tierOf: [UInt8]
    /// Each node's slot in its tier.
    public var slotOf: [UInt32]
    /// Free slots of each tier (five lists, hot first), in the order they will be reused (last first).
    public var freeSlots: [[UInt32]]
    /// Each node's rate as of the last pass (returns per million queries).
    public var rates: [Float]
    /// Each node's returns counted since the last pass. (A state taken while a pass is being
    /// planned misses that pass's returns, which the pass has already taken, and its moves.)
    public var returns: [UInt32]
    /// Searches since the last pass.
    public var queries: Int
    /// Re-tiering passes applied.
    public var passes: Int

    /// Tiers from their parts (as read back from a snapshot).
    public init(encoders: [QuantizerState], hotSlots: Int, tierOf: [UInt8], slotOf: [UInt32], freeSlots: [[UInt32]],
                rates: [Float], returns: [UInt32], queries: Int, passes: Int) {
        self.encoders = encoders; self.hotSlots = hotSlots; self.tierOf = tierOf; self.slotOf = slotOf
        self.freeSlots = freeSlots; self.rates = rates; self.returns = returns; self.queries = queries
        self.passes = passes
    }
}

/// The error a ``QuantizerState`` that does not fit its index is refused with.
func inconsistentQuantizer(_ why: String) -> VectorEngineError {
    VectorEngineError(code: .invalidArgument, message: "quantizer state is inconsistent: \(why)")
}
