/// A node property's integer values in one array over the range of ids that have the
/// property, each stored in the fewest bytes that hold every one of them (less their least),
/// and a bit per id saying which values are integers: made in a query from the key's column
/// (`PropertyColumns`) when a batch reads it in no particular order, as it reads the property
/// of the nodes an expand reaches.
///
/// A column of `Value`s costs 24 bytes an id, and read at random most reads miss every cache
/// and the processor's cache of address translations. Ages (18 to 90) take a byte each here:
/// a million nodes' values fit the processor's second-level cache. Values that are not
/// integers (a float, a string, a missing property) are read from the column as before.
struct DenseIntColumn {
    private let base: Int
    private let count: Int
    private let least: Int64
    private let storage: Storage
    private let isInt: [UInt64]
    /// Every id in the range holds an integer (a property every node has, as integers): no bit
    /// to test.
    private let allInts: Bool

    private enum Storage {
        case bytes([UInt8])
        case halves([UInt16])
        case words([UInt32])
        case full([UInt64])
    }

    /// Bytes it holds at most for ids `bounds`.
    static func bytes(covering bounds: ClosedRange<Int>) -> Int { bounds.count * 8 + bounds.count / 8 + 64 }

    /// The integers of `column` over `bounds` (its `idBounds`).
    init(_ column: PropertyColumn, bounds: ClosedRange<Int>) {
        base = bounds.lowerBound
        count = bounds.count
        var least = Int64.max, greatest = Int64.min
        var ints = 0
        column.forEachInt { _, i in
            least = min(least, i)
            greatest = max(greatest, i)
            ints += 1
        }
        allInts = ints == bounds.count
        if least > greatest { least = 0; greatest = 0 }
        self.least = least
        let span = UInt64(bitPattern: greatest &- least)
        var isInt = Array(repeating: UInt64(0), count: (bounds.count + 63) / 64)
        func fill<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) -> [T] {
            var values = Array(repeating: T.zero, count: bounds.count)
            // Written through buffers: a closure's writes to captured arrays would each be
            // checked for exclusive access.
            values.withUnsafeMutableBufferPointer { values in
                isInt.withUnsafeMutableBufferPointer { isInt in
                    column.forEachInt { id, i in
                        let k = id - bounds.lowerBound
                        values[k] = T(truncatingIfNeeded: UInt64(bitPattern: i &- least))
                        isInt[k >> 6] |= 1 << UInt64(k & 63)
                    }
                }
            }
            return values
        }
        if span <= UInt64(UInt8.max) {
            storage = .bytes(fill(UInt8.self))
        } else if span <= UInt64(UInt16.max) {
            storage = .halves(fill(UInt16.self))
        } else if span <= UInt64(UInt32.max) {
            storage = .words(fill(UInt32.self))
        } else {
            storage = .full(fill(UInt64.self))
        }
        self.isInt = isInt
    }

    /// Node `id`'s value when it is an integer, else nil (read it from the column).
    @inline(__always)
    func int(_ id: Int) -> Int64? {
        let i = id &- base
        guard i >= 0, i < count, allInts || isInt[i &>> 6] & (1 &<< UInt64(i & 63)) != 0 else { return nil }
        switch storage {
        case .bytes(let a): return least &+ Int64(truncatingIfNeeded: UInt64(a[i]))
        case .halves(let a): return least &+ Int64(truncatingIfNeeded: UInt64(a[i]))
        case .words(let a): return least &+ Int64(truncatingIfNeeded: UInt64(a[i]))
        case .full(let a): return least &+ Int64(truncatingIfNeeded: a[i])
        }
    }

    /// Each id's value into `out` when it is an integer; `isInt` unset (the value left as it
    /// was) for the ids of other values, which are then read from the column.
    func read(_ ids: UnsafeMutableBufferPointer<Int>, _ n: Int, into out: BatchValues) {
        switch storage {
        case .bytes(let a): read(a, ids, n, out)
        case .halves(let a): read(a, ids, n, out)
        case .words(let a): read(a, ids, n, out)
        case .full(let a): read(a, ids, n, out)
        }
    }

    @inline(__always)
    private func read<T: FixedWidthInteger & UnsignedInteger>(_ stored: [T], _ ids: UnsafeMutableBufferPointer<Int>, _ n: Int,
                                                             _ out: BatchValues) {
        let ints = out.ints.elements, found = out.isInt.elements
        stored.withUnsafeBufferPointer { stored in
            isInt.withUnsafeBufferPointer { isInt in
                for k in 0..<n {
                    let i = ids[k] &- base
                    guard i >= 0, i < count, allInts || isInt[i &>> 6] & (1 &<< UInt64(i & 63)) != 0 else {
                        found[k] = false
                        continue
                    }
                    found[k] = true
                    ints[k] = least &+ Int64(truncatingIfNeeded: UInt64(stored[i]))
                }
            }
        }
    }
}
