/// A block of up to `capacity` rows between two steps of a batch plan: for each slot the rows
/// carry, a column of node or relationship ids. Allocated once per step and query and reused
/// for every block, so the steps allocate nothing per row or per block.
///
/// The columns are unsafe buffers (one allocation for all of them, freed with the block):
/// a step writes row `count` of each column it fills, then raises `count`; the buffers handed
/// out are valid while the block lives.
final class BatchRows {
    /// Rows in a full block: ids of one column fit in 8 KiB, a block's values in L1 or L2.
    static let capacity = 1024

    /// Rows in the block now.
    var count = 0
    private let storage: UnsafeMutablePointer<Int>
    private let columns: [UnsafeMutableBufferPointer<Int>]

    /// A block with a column for each slot of `carried`, among `slots` slots.
    init(slots: Int, carried: [Int]) {
        storage = .allocate(capacity: max(1, carried.count) * Self.capacity)
        var columns = Array(repeating: UnsafeMutableBufferPointer<Int>(start: nil, count: 0), count: slots)
        for (k, slot) in carried.enumerated() {
            columns[slot] = UnsafeMutableBufferPointer(start: storage + k * Self.capacity, count: Self.capacity)
        }
        self.columns = columns
    }

    deinit { storage.deallocate() }

    /// Bytes a block of `carried` columns holds.
    static func bytes(carried: Int) -> Int { max(1, carried) * capacity * MemoryLayout<Int>.stride }

    var isFull: Bool { count == Self.capacity }

    /// The column of `slot` (empty when the block does not carry it).
    @inline(__always)
    subscript(slot: Int) -> UnsafeMutableBufferPointer<Int> { columns[slot] }
}

/// A column of values a batch step works on (keys, arguments, codes, groups, gathered
/// relationships): `capacity` of them (a block's worth unless told), allocated once per query
/// and reused for every block.
final class BatchBuffer<Element> {
    /// Valid while the buffer lives.
    let elements: UnsafeMutableBufferPointer<Element>

    init(repeating initial: Element, capacity: Int = BatchRows.capacity) {
        elements = .allocate(capacity: capacity)
        elements.initialize(repeating: initial)
    }

    deinit {
        elements.deinitialize()
        elements.deallocate()
    }

    /// Bytes a buffer of `capacity` holds.
    static func bytes(capacity: Int = BatchRows.capacity) -> Int { capacity * MemoryLayout<Element>.stride }
}

/// One argument's values for a block of rows, typed: an integer (the common case, read and
/// added up without making a `Value`) in `ints` where `isInt` is set, any other value in
/// `values` (left as it was where `isInt` is set).
struct BatchValues {
    let ints = BatchBuffer(repeating: Int64(0))
    let isInt = BatchBuffer(repeating: false)
    let values = BatchBuffer(repeating: Value.null)

    /// Bytes the three buffers hold.
    static var bytes: Int { BatchBuffer<Int64>.bytes() + BatchBuffer<Bool>.bytes() + BatchBuffer<Value>.bytes() }

    /// Row `k`'s value, taken apart.
    @inline(__always)
    func set(_ k: Int, _ value: Value) {
        if case .int(let i) = value {
            ints.elements[k] = i
            isInt.elements[k] = true
        } else {
            isInt.elements[k] = false
            values.elements[k] = value
        }
    }

    /// Row `k` as row `from` (the same node's value again).
    @inline(__always)
    func copy(_ k: Int, from: Int) {
        isInt.elements[k] = isInt.elements[from]
        if isInt.elements[from] { ints.elements[k] = ints.elements[from] } else { values.elements[k] = values.elements[from] }
    }
}
