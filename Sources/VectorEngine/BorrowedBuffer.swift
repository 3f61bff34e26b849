/// Memory an index uses in place instead of copying it in: `count` elements at `base`, room
/// for `capacity`, kept valid by `owner` for as long as the index holds it (a memory-mapped,
/// copy-on-write snapshot section, for example: the owner unmaps it when released). The index
/// reads and writes the elements; it lets go of the owner when it grows past `capacity`
/// (copying the elements out) or goes away.
///
/// ```swift
/// let vectors = BorrowedBuffer(base: floats, count: n * dimension, capacity: room, owner: mapping)
/// ```
public struct BorrowedBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
    /// First element.
    public let base: UnsafeMutablePointer<Element>
    /// Elements holding data.
    public let count: Int
    /// Elements that may be written from `base` (at least `count`).
    public let capacity: Int
    /// Keeps the memory valid.
    public let owner: AnyObject
    /// False for memory another index still uses (a borrowing export,
    /// ``HNSWIndex/exportState(borrowingVectors:)``): an import copies it instead of adopting it.
    public let isAdoptable: Bool

    /// A buffer; `capacity` must be at least `count`.
    public init(base: UnsafeMutablePointer<Element>, count: Int, capacity: Int, owner: AnyObject, isAdoptable: Bool = true) {
        precondition(count >= 0 && capacity >= count)
        self.base = base
        self.count = count
        self.capacity = capacity
        self.owner = owner
        self.isAdoptable = isAdoptable
    }

    /// The elements holding data.
    public var elements: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }
}

extension BorrowedBuffer: Equatable, Hashable where Element: Hashable {
    /// Equal when the elements are (wherever they live).
    public static func == (a: Self, b: Self) -> Bool { a.elements.elementsEqual(b.elements) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for element in elements { hasher.combine(element) }
    }
}
