import Checksums

/// The model's binary format (all integers little-endian): "RVLM", u16 format version, u32
/// dimension, u32 hidden, u32 heads, u32 layers, u32 neighbours, f64 dropout, f64 temperature, u8
/// loss, in version 2 only a u8 head kind (`RerankHeadKind`), u32 parameter count, then per
/// parameter: u16 name length, UTF-8 name, u8 rank, u32 per dimension, f32 values; last a CRC-32C
/// of all before it. Version 1 has no head byte and means the MLP head. A model with the MLP head
/// (the default) is still written as version 1, byte for byte what earlier builds wrote, so stored
/// and exported models load both ways; only a bilinear-head model needs version 2.
extension RerankModel {
    /// The format's first bytes.
    public static let serialisationMagic: [UInt8] = Array("RVLM".utf8)
    /// The newest format version this build reads and writes (version 2: bilinear-head models).
    public static let serialisationVersion: UInt16 = 2
    /// The oldest format version this build reads (models with the MLP head only).
    public static let oldestReadableVersion: UInt16 = 1
    /// Inputs larger than this are refused before parsing (a hidden-1024, 4-layer, 4096-d model is under it).
    public static let maximumSerialisedBytes = 256 << 20

    /// The model's weights and architecture; `init(serialised:)` reads them back bit-exactly.
    public func serialised() -> [UInt8] {
        var w = ByteWriter()
        w.bytes(Self.serialisationMagic)
        let c = config
        let version: UInt16 = c.head == .mlp ? Self.oldestReadableVersion : Self.serialisationVersion
        w.u16(version)
        for v in [dimension, c.hidden, c.heads, c.layers, c.neighbours] { w.u32(UInt32(v)) }
        w.u64(c.dropout.bitPattern)
        w.u64(c.temperature.bitPattern)
        w.bytes([c.loss.rawValue])
        if version >= 2 { w.bytes([c.head.rawValue]) }
        let ps = parameters
        w.u32(UInt32(ps.count))
        for p in ps {
            let name = Array(p.name.utf8)
            w.u16(UInt16(name.count))
            w.bytes(name)
            w.bytes([UInt8(p.shape.count)])
            for d in p.shape { w.u32(UInt32(d)) }
            for v in p.value { w.u32(v.bitPattern) }
        }
        w.u32(CRC32C.checksum(w.buffer))
        return w.buffer
    }

    /// Reads a model written by `serialised()`. Throws `corruptModel` for any damaged, truncated or
    /// foreign input and `mismatchedModel` when `expectedDimension` is given and differs; never traps.
    public convenience init(serialised bytes: [UInt8], expectedDimension: Int? = nil) throws(LearnError) {
        func corrupt(_ m: String) -> LearnError { LearnError(.corruptModel, "model bytes refused: " + m) }
        guard bytes.count <= Self.maximumSerialisedBytes else { throw corrupt("\(bytes.count) bytes exceed the limit") }
        guard bytes.count >= 4 + 2 + 4 else { throw corrupt("truncated (\(bytes.count) bytes)") }
        guard Array(bytes.prefix(4)) == Self.serialisationMagic else { throw corrupt("not a RuVector model (bad magic)") }
        let body = bytes[0..<(bytes.count - 4)]
        var tail = ByteReader(bytes[(bytes.count - 4)...])
        guard let stored = tail.u32(), stored == CRC32C.checksum(body) else { throw corrupt("checksum mismatch") }
        var r = ByteReader(body)
        _ = r.take(4)
        guard let version = r.u16() else { throw corrupt("truncated header") }
        guard (Self.oldestReadableVersion...Self.serialisationVersion).contains(version) else {
            throw corrupt("format version \(version), this server reads \(Self.oldestReadableVersion) to \(Self.serialisationVersion)")
        }
        guard let dim = r.u32(), let hidden = r.u32(), let heads = r.u32(), let layers = r.u32(), let nbrs = r.u32(),
              let dropout = r.u64(), let temperature = r.u64(), let lossByte = r.take(1)?.first,
              let headByte = version >= 2 ? r.take(1)?.first : RerankHeadKind.mlp.rawValue, let count = r.u32()
        else { throw corrupt("truncated header") }
        guard let loss = RankingLossKind(rawValue: lossByte) else { throw corrupt("unknown loss \(lossByte)") }
        guard let head = RerankHeadKind(rawValue: headByte) else { throw corrupt("unknown head kind \(headByte)") }
        var config = RerankConfig()
        config.hidden = Int(hidden); config.heads = Int(heads); config.layers = Int(layers); config.neighbours = Int(nbrs)
        config.dropout = Double(bitPattern: dropout); config.temperature = Double(bitPattern: temperature); config.loss = loss
        config.head = head
        do { try config.validate(dimension: Int(dim)) } catch { throw corrupt(error.message) }
        if let expectedDimension, expectedDimension != Int(dim) {
            throw LearnError(.mismatchedModel, "the model is for dimension \(dim), the collection has \(expectedDimension)")
        }
        try self.init(config: config, dimension: Int(dim), seed: 0)
        let ps = parameters
        guard Int(count) == ps.count else { throw corrupt("\(count) parameters, this architecture has \(ps.count)") }
        for p in ps {
            guard let nameLength = r.u16(), let nameBytes = r.take(Int(nameLength)), let rank = r.take(1)?.first else {
                throw corrupt("truncated at parameter \(p.name)")
            }
            guard Array(nameBytes) == Array(p.name.utf8) else { throw corrupt("expected parameter \(p.name)") }
            guard Int(rank) == p.shape.count else { throw corrupt("parameter \(p.name) has rank \(rank)") }
            for d in p.shape { guard let v = r.u32(), Int(v) == d else { throw corrupt("parameter \(p.name) has another shape") } }
            guard let values = r.finiteFloats(p.count) else { throw corrupt("values of \(p.name) are truncated or not finite") }
            p.value = values
        }
        guard r.isAtEnd else { throw corrupt("trailing bytes after the parameters") }
    }
}
