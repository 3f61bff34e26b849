import Storage
import VectorEngine

/// The trained quantizer and its codes (``HNSWState/quantizer``) as the optional snapshot
/// section `quantizer`, so a quantized collection reopens with the codes it searched on.
///
/// Layout 1: UInt32 layout, then the quantizer: kind (as in the configuration), offsets, steps
/// and centroids (counted Float arrays), codes (counted bytes), a UInt8 0/1 for tiers and, when
/// 1: the encoder count (UInt32) and each encoder as a quantizer without tiers, hot slots, tier of
/// each node (counted bytes), slot of each node (counted UInt32s), the free-list count (UInt32)
/// and each list (counted UInt32s), rates (counted Floats), returns (counted UInt32s), queries
/// and passes (Int64). Every count is checked against the bytes left before anything is
/// allocated; the engine checks that the whole fits the index (``HNSWIndex/init(state:)``).
///
/// Snapshots without the section (written before it existed) open as before: quantization is
/// trained again. Builds from before the section ignore it, so the snapshot format's version
/// stays 2; a section of a later layout is ignored likewise.
extension CollectionCodec {
    static let quantizerSection = "quantizer"
    static let quantizerLayout: UInt32 = 1

    /// The section as bytes (tests; the snapshot writes ``quantizerSection(_:)``).
    static func quantizerSectionBytes(_ quantizer: QuantizerState) -> [UInt8] {
        var bytes: [UInt8] = []
        quantizerSection(quantizer).forEachPart { bytes += $0 }
        return bytes
    }

    /// The section, with borrowed codes (an on-disk collection's snapshot) written from where they
    /// lie between the encoded parts instead of copied into one array first.
    static func quantizerSection(_ quantizer: QuantizerState) -> SnapshotSection {
        var parts = SectionParts()
        parts.w.u32(quantizerLayout)
        write(quantizer, &parts)
        return SnapshotSection(quantizerSection, parts: parts.finished())
    }

    /// The quantizer in section bytes; nil for a layout this build does not know (the
    /// collection then trains again, as builds before the section did).
    static func decodeQuantizer(_ bytes: [UInt8]) throws -> QuantizerState? {
        var r = BinaryReader(bytes)
        return try decodeQuantizer(&r)
    }

    /// The quantizer in a loaded snapshot's section, its codes borrowed in place (the import
    /// copies them once; a heap copy of the section would double the peak of a large collection's
    /// open). Nil without the section, or for a layout this build does not know.
    static func decodeQuantizer(_ sections: SnapshotSections) throws -> QuantizerState? {
        guard let (bytes, owner) = sections.borrow(quantizerSection) else { return nil }
        var r = BinaryReader(borrowing: bytes, owner: owner)
        return try decodeQuantizer(&r)
    }

    private static func decodeQuantizer(_ r: inout BinaryReader) throws -> QuantizerState? {
        guard try r.u32() == quantizerLayout else { return nil }
        let quantizer = try readQuantizer(&r, nested: false)
        guard r.isAtEnd else { throw Damaged(description: "quantizer section: trailing bytes") }
        return quantizer
    }

    /// Encoded bytes with borrowed runs between them.
    private struct SectionParts {
        var parts: [SnapshotSectionPart] = []
        var w = BinaryWriter()

        /// A counted byte array as ``BinaryWriter/u8s(_:)`` writes it, the bytes borrowed.
        mutating func u8s(borrowing codes: BorrowedBuffer<UInt8>) {
            w.u64(UInt64(codes.count))
            parts.append(.bytes(w.bytes))
            parts.append(.borrowing(UnsafeRawBufferPointer(codes.elements), owner: codes.owner))
            w = BinaryWriter()
        }

        func finished() -> [SnapshotSectionPart] { parts + [.bytes(w.bytes)] }
    }

    private static func write(_ q: QuantizerState, _ p: inout SectionParts) {
        write(q.kind, &p.w)
        p.w.floats(q.offsets); p.w.floats(q.steps); p.w.floats(q.centroids)
        if let borrowed = q.borrowedCodes { p.u8s(borrowing: borrowed) } else { p.w.u8s(q.codes) }
        guard let t = q.tiers else { p.w.u8(0); return }
        p.w.u8(1)
        p.w.u32(UInt32(t.encoders.count))
        for encoder in t.encoders { write(encoder, &p) }
        p.w.int(t.hotSlots)
        p.w.u8s(t.tierOf); p.w.u32s(t.slotOf)
        p.w.u32(UInt32(t.freeSlots.count))
        for list in t.freeSlots { p.w.u32s(list) }
        p.w.floats(t.rates); p.w.u32s(t.returns)
        p.w.int(t.queries); p.w.int(t.passes)
    }

    /// A tier's encoder (`nested`) has no tiers of its own, which bounds the recursion.
    private static func readQuantizer(_ r: inout BinaryReader, nested: Bool) throws -> QuantizerState {
        func damaged(_ why: String) -> Damaged { Damaged(description: "quantizer section: \(why)") }
        guard let kind = try readQuantization(&r) else { throw damaged("no quantization kind") }
        let offsets = try r.floats(), steps = try r.floats(), centroids = try r.floats()
        var q = QuantizerState(kind: kind, offsets: offsets, steps: steps, centroids: centroids)
        if let (bytes, owner) = try r.borrowedBytes() {
            // Never written through: the import only copies from it.
            if let base = bytes.baseAddress, !bytes.isEmpty {
                q.borrowedCodes = BorrowedBuffer(base: UnsafeMutableRawPointer(mutating: base).bindMemory(to: UInt8.self, capacity: bytes.count),
                                                 count: bytes.count, capacity: bytes.count, owner: owner)
            }
        } else {
            q.codes = try r.u8s()
        }
        switch try r.u8() {
        case 0: return q
        case 1 where !nested: break
        case let flag: throw damaged("tiers flag \(flag)\(nested ? " in a tier's encoder" : "")")
        }
        let encoderCount = try r.u32()
        guard encoderCount <= 4 else { throw damaged("\(encoderCount) tier encoders") }
        var encoders: [QuantizerState] = []
        for _ in 0..<encoderCount { encoders.append(try readQuantizer(&r, nested: true)) }
        let hotSlots = try r.int(), tierOf = try r.u8s(), slotOf = try r.u32s()
        let listCount = try r.u32()
        guard listCount <= 5 else { throw damaged("\(listCount) free-slot lists") }
        var freeSlots: [[UInt32]] = []
        for _ in 0..<listCount { freeSlots.append(try r.u32s()) }
        q.tiers = TieredQuantizerState(encoders: encoders, hotSlots: hotSlots, tierOf: tierOf, slotOf: slotOf,
                                       freeSlots: freeSlots, rates: try r.floats(), returns: try r.u32s(),
                                       queries: try r.int(), passes: try r.int())
        return q
    }
}
