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
public struct BinaryReader: @unchecked Sendable {
    /// The bytes ended before a value did (damaged or cut input).
    public struct Truncated: Error {}

    /// An array the reader holds, or bytes in place that an owner keeps valid.
    private enum Source {
        case array([UInt8])
        case borrowed(UnsafeRawBufferPointer, owner: AnyObject)
    }

    private let source: Source
    private let count: Int
    private var offset = 0

    /// Reads `bytes` from the start.
    public init(_ bytes: [UInt8]) {
        source = .array(bytes)
        count = bytes.count
    }

    /// Reads `bytes` in place (a mapped snapshot section) for as long as the reader lives; `owner`
    /// keeps them valid, and ``borrowedBytes()`` hands out runs of them without a copy.
    public init(borrowing bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        source = .borrowed(bytes, owner: owner)
        count = bytes.count
    }

    /// True when every byte was read.
    public var isAtEnd: Bool { offset == count }

    private func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        switch source {
        case .array(let bytes): bytes.withUnsafeBytes(body)
        case .borrowed(let bytes, let owner): withExtendedLifetime(owner) { body(bytes) }
        }
    }

    /// The range of the next `count` bytes, which are then read.
    private mutating func take(_ length: Int) throws(Truncated) -> Range<Int> {
        guard length >= 0, count - offset >= length else { throw Truncated() }
        defer { offset += length }
        return offset..<(offset + length)
    }

    public mutating func u8() throws(Truncated) -> UInt8 {
        let at = try take(1).lowerBound
        return withBytes { $0[at] }
    }
    public mutating func u32() throws(Truncated) -> UInt32 { UInt32(littleEndian: try load(UInt32.self)) }
    public mutating func u64() throws(Truncated) -> UInt64 { UInt64(littleEndian: try load(UInt64.self)) }

    /// The next `T`'s bytes as they lie (unaligned).
    private mutating func load<T: FixedWidthInteger>(_ type: T.Type) throws(Truncated) -> T {
        let at = try take(MemoryLayout<T>.size).lowerBound
        return withBytes { $0.loadUnaligned(fromByteOffset: at, as: T.self) }
    }
    public mutating func int() throws(Truncated) -> Int { Int(Int64(bitPattern: try u64())) }
    public mutating func double() throws(Truncated) -> Double { Double(bitPattern: try u64()) }
    public mutating func string() throws(Truncated) -> String {
        let range = try take(Int(try u32()))
        return withBytes { String(decoding: UnsafeRawBufferPointer(rebasing: $0[range]), as: UTF8.self) }
    }
    public mutating func count(elementBytes: Int) throws(Truncated) -> Int {
        let count = try u64()
        guard count <= UInt64((self.count - offset) / max(elementBytes, 1)) else { throw Truncated() }
        return Int(count)
    }
    public mutating func floats() throws(Truncated) -> [Float] { try copied(Float.self) }
    public mutating func u32s() throws(Truncated) -> [UInt32] { try copied(UInt32.self) }
    public mutating func u8s() throws(Truncated) -> [UInt8] { try copied(UInt8.self) }

    /// A counted byte array (as ``u8s()`` reads it) left in place: its bytes and the owner that keeps
    /// them valid, for a reader made with ``init(borrowing:owner:)``; nil (nothing read) for one
    /// over an array, whose caller reads ``u8s()`` instead.
    public mutating func borrowedBytes() throws(Truncated) -> (bytes: UnsafeRawBufferPointer, owner: AnyObject)? {
        guard case .borrowed(let bytes, let owner) = source else { return nil }
        let range = try take(try count(elementBytes: 1))
        return (UnsafeRawBufferPointer(rebasing: bytes[range]), owner)
    }

    /// A counted array of plain values, copied byte-wise (the source may be unaligned); the
    /// count is checked against the bytes left before anything is allocated.
    private mutating func copied<T: BitwiseCopyable>(_ type: T.Type) throws(Truncated) -> [T] {
        let count = try count(elementBytes: MemoryLayout<T>.stride)
        let range = try take(count * MemoryLayout<T>.stride)
        return withBytes { source in
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[range])) }
                initialized = count
            }
        }
    }
}
