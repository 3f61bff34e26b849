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

    static func quantizerSectionBytes(_ quantizer: QuantizerState) -> [UInt8] {
        var w = BinaryWriter()
        w.u32(quantizerLayout)
        write(quantizer, &w)
        return w.bytes
    }

    /// The quantizer in section bytes; nil for a layout this build does not know (the
    /// collection then trains again, as builds before the section did).
    static func decodeQuantizer(_ bytes: [UInt8]) throws -> QuantizerState? {
        var r = BinaryReader(bytes)
        guard try r.u32() == quantizerLayout else { return nil }
        let quantizer = try readQuantizer(&r, nested: false)
        guard r.isAtEnd else { throw Damaged(description: "quantizer section: trailing bytes") }
        return quantizer
    }

    private static func write(_ q: QuantizerState, _ w: inout BinaryWriter) {
        write(q.kind, &w)
        w.floats(q.offsets); w.floats(q.steps); w.floats(q.centroids)
        w.u8s(q.codes)
        guard let t = q.tiers else { w.u8(0); return }
        w.u8(1)
        w.u32(UInt32(t.encoders.count))
        for encoder in t.encoders { write(encoder, &w) }
        w.int(t.hotSlots)
        w.u8s(t.tierOf); w.u32s(t.slotOf)
        w.u32(UInt32(t.freeSlots.count))
        for list in t.freeSlots { w.u32s(list) }
        w.floats(t.rates); w.u32s(t.returns)
        w.int(t.queries); w.int(t.passes)
    }

    /// A tier's encoder (`nested`) has no tiers of its own, which bounds the recursion.
    private static func readQuantizer(_ r: inout BinaryReader, nested: Bool) throws -> QuantizerState {
        func damaged(_ why: String) -> Damaged { Damaged(description: "quantizer section: \(why)") }
        guard let kind = try readQuantization(&r) else { throw damaged("no quantization kind") }
        var q = QuantizerState(kind: kind, offsets: try r.floats(), steps: try r.floats(), centroids: try r.floats(),
                               codes: try r.u8s())
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
