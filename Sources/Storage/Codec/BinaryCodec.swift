/// Appends little-endian values to a byte array: the on-disk encoding engines use for their
/// snapshot sections and WAL records.
public struct BinaryWriter: Sendable {
    /// What was written so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty writer.
    public init() {}

    public mutating func u8(_ value: UInt8) { bytes.append(value) }
    public mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    public mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    public mutating func int(_ value: Int) { u64(UInt64(bitPattern: Int64(value))) }
    public mutating func double(_ value: Double) { u64(value.bitPattern) }
    public mutating func string(_ value: String) {
        let utf8 = Array(value.utf8)
        u32(UInt32(utf8.count))
        bytes += utf8
    }
    public mutating func floats(_ values: [Float]) {
        u64(UInt64(values.count))
        values.withUnsafeBytes { bytes += $0 }   // little-endian hosts only (x86-64, arm64)
    }
    public mutating func u32s(_ values: [UInt32]) {
        u64(UInt64(values.count))
        values.withUnsafeBytes { bytes += $0 }
    }
    public mutating func u8s(_ values: [UInt8]) {
        u64(UInt64(values.count))
        bytes += values
    }
}

/// Reads what `BinaryWriter` wrote; every read is bounds-checked and throws on damage.
public struct BinaryReader: Sendable {
    /// The bytes ended before a value did (damaged or cut input).
    public struct Truncated: Error {}

    private let bytes: [UInt8]
    private var offset = 0

    /// Reads `bytes` from the start.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// True when every byte was read.
    public var isAtEnd: Bool { offset == bytes.count }

    private mutating func take(_ count: Int) throws(Truncated) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else { throw Truncated() }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    public mutating func u8() throws(Truncated) -> UInt8 {
        guard offset < bytes.count else { throw Truncated() }
        defer { offset += 1 }
        return bytes[offset]
    }
    public mutating func u32() throws(Truncated) -> UInt32 { UInt32(littleEndian: try load(UInt32.self)) }
    public mutating func u64() throws(Truncated) -> UInt64 { UInt64(littleEndian: try load(UInt64.self)) }

    /// The next `T`'s bytes as they lie (unaligned).
    private mutating func load<T: FixedWidthInteger>(_ type: T.Type) throws(Truncated) -> T {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else { throw Truncated() }
        defer { offset += size }
        return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
    public mutating func int() throws(Truncated) -> Int { Int(Int64(bitPattern: try u64())) }
    public mutating func double() throws(Truncated) -> Double { Double(bitPattern: try u64()) }
    public mutating func string() throws(Truncated) -> String {
        String(decoding: try take(Int(try u32())), as: UTF8.self)
    }
    public mutating func count(elementBytes: Int) throws(Truncated) -> Int {
        let count = try u64()
        guard count <= UInt64((bytes.count - offset) / max(elementBytes, 1)) else { throw Truncated() }
        return Int(count)
    }
    public mutating func floats() throws(Truncated) -> [Float] { try copied(Float.self) }
    public mutating func u32s() throws(Truncated) -> [UInt32] { try copied(UInt32.self) }
    public mutating func u8s() throws(Truncated) -> [UInt8] { try copied(UInt8.self) }

    /// A counted array of plain values, copied byte-wise (the source may be unaligned); the
    /// count is checked against the bytes left before anything is allocated.
    private mutating func copied<T: BitwiseCopyable>(_ type: T.Type) throws(Truncated) -> [T] {
        let count = try count(elementBytes: MemoryLayout<T>.stride)
        let raw = try take(count * MemoryLayout<T>.stride)
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            raw.withUnsafeBytes { source in
                if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source) }
            }
            initialized = count
        }
    }
}
