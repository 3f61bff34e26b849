/// Appends little-endian integers: the byte coding of the engines' model formats (LearnEngine's
/// re-ranker, RouteEngine's router). Package-wide, not public: a format's layout is its owner's.
package struct ByteWriter {
    /// What was written so far.
    package var buffer: [UInt8] = []

    package init() {}

    package mutating func bytes(_ b: [UInt8]) { buffer += b }
    package mutating func u8(_ v: UInt8) { buffer.append(v) }
    package mutating func u16(_ v: UInt16) { append(v) }
    package mutating func u32(_ v: UInt32) { append(v) }
    package mutating func u64(_ v: UInt64) { append(v) }

    private mutating func append(_ value: some FixedWidthInteger) {
        for shift in stride(from: 0, to: value.bitWidth, by: 8) { buffer.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }
}
