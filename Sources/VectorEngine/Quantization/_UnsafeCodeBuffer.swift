/// The codes of a ``_QuantizedStore``, one after another in one growable buffer of
/// ``_HugePageMemory`` (huge pages once it is large, like the graph's vectors: a walk reads a
/// code at random for every link it follows).
///
/// Changed only with the index's exclusive access; a walk (shared access) reads through
/// ``base``, which stays valid until the next change, so it may keep the pointer for its
/// duration (``_QuantizedQuery/codeBase``).
final class _UnsafeCodeBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    /// Bytes in use.
    private(set) var count = 0
    private var capacity: Int

    init() {
        capacity = 64
        base = _HugePageMemory.allocate(UInt8.self, capacity: capacity)
    }

    deinit { _HugePageMemory.deallocate(base, capacity: capacity) }

    var isEmpty: Bool { count == 0 }

    /// The bytes as an array (snapshots, tests).
    var array: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    subscript(offset: Int) -> UInt8 {
        precondition(offset >= 0 && offset < count)
        return base[offset]
    }

    /// The `length` bytes from `start`, copied.
    func bytes(from start: Int, length: Int) -> [UInt8] {
        precondition(start >= 0 && length >= 0 && start + length <= count)
        return Array(UnsafeBufferPointer(start: base + start, count: length))
    }

    func append(contentsOf bytes: [UInt8]) {
        reserve(count + bytes.count)
        bytes.withUnsafeBufferPointer { if let b = $0.baseAddress { (base + count).initialize(from: b, count: $0.count) } }
        count += bytes.count
    }

    /// Overwrites `bytes.count` bytes from `start`, all within the buffer.
    func replace(at start: Int, with bytes: [UInt8]) {
        precondition(start >= 0 && start + bytes.count <= count)
        bytes.withUnsafeBufferPointer { if let b = $0.baseAddress { (base + start).update(from: b, count: $0.count) } }
    }

    /// Copies `length` bytes from `source` to `destination` (the ranges may overlap).
    func move(from source: Int, to destination: Int, length: Int) {
        precondition(source >= 0 && destination >= 0 && source + length <= count && destination + length <= count)
        UnsafeMutableRawPointer(base + destination).copyMemory(from: base + source, byteCount: length)
    }

    /// Keeps the first `newCount` bytes.
    func truncate(to newCount: Int) {
        precondition(newCount >= 0 && newCount <= count)
        count = newCount
    }

    /// Replaces the whole content by `bytes`.
    func replaceAll(with bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { replaceAll(with: $0) }
    }

    /// Replaces the whole content by `bytes` (borrowed memory, copied once).
    func replaceAll(with bytes: UnsafeBufferPointer<UInt8>) {
        count = 0
        reserve(bytes.count)
        if let b = bytes.baseAddress { base.initialize(from: b, count: bytes.count) }
        count = bytes.count
    }

    private func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        let bigger = Swift.max(needed, capacity * 2)
        let fresh = _HugePageMemory.allocate(UInt8.self, capacity: bigger)
        fresh.initialize(from: base, count: count)
        _HugePageMemory.deallocate(base, capacity: capacity)
        base = fresh
        capacity = bigger
    }
}
