/// Moves the rows of a buffer or the elements of an array so that position `i` holds what was
/// at `order[i]` (`order` a permutation of the positions), without a second copy: each cycle of
/// the permutation is followed once, holding one row aside, with one bit per position to mark
/// the positions done. What graph reordering uses where a second copy of the index would not fit
/// (``HNSWGraph/renumberInPlace(_:)``).
enum InPlacePermutation {
    /// Positions done, one bit each.
    struct Marks {
        private var words: [UInt64]
        init(count: Int) { words = [UInt64](repeating: 0, count: (count + 63) / 64) }
        subscript(i: Int) -> Bool {
            get { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
            set { if newValue { words[i >> 6] |= 1 << UInt64(i & 63) } else { words[i >> 6] &= ~(1 << UInt64(i & 63)) } }
        }
    }

    /// Calls `move(from, to)` ("position `to` takes what is at `from`") and `park` / `unpark`
    /// (set the row at a position aside; put the row set aside at a position) in the order that
    /// applies `order` in place.
    static func follow(_ order: [UInt32], park: (Int) -> Void, move: (_ from: Int, _ to: Int) -> Void, unpark: (Int) -> Void) {
        var done = Marks(count: order.count)
        for start in order.indices where !done[start] {
            done[start] = true
            guard Int(order[start]) != start else { continue }
            park(start)
            var to = start
            while true {
                let from = Int(order[to])
                if from == start {
                    unpark(to)
                    break
                }
                move(from, to)
                done[from] = true
                to = from
            }
        }
    }

    /// Applies `order` to `rows` rows of `rowBytes` bytes each at `base`.
    static func apply(_ order: [UInt32], rows base: UnsafeMutableRawPointer, rowBytes: Int) {
        guard rowBytes > 0 else { return }
        let aside = UnsafeMutableRawPointer.allocate(byteCount: rowBytes, alignment: 16)
        defer { aside.deallocate() }
        follow(order, park: { aside.copyMemory(from: base + $0 * rowBytes, byteCount: rowBytes) },
               move: { (base + $1 * rowBytes).copyMemory(from: base + $0 * rowBytes, byteCount: rowBytes) },
               unpark: { (base + $0 * rowBytes).copyMemory(from: aside, byteCount: rowBytes) })
    }

    /// Applies `order` to `array` (as many elements as `order`).
    static func apply<T>(_ order: [UInt32], to array: inout [T]) {
        precondition(array.count == order.count)
        guard let first = array.first else { return }
        var aside = first
        array.withUnsafeMutableBufferPointer { a in
            follow(order, park: { aside = a[$0] }, move: { a[$1] = a[$0] }, unpark: { a[$0] = aside })
        }
    }

    /// Moves row `old` of the first `newOf.count` rows of `rowBytes` bytes in `arena` (a file
    /// mapping) to row `newOf[old]`, then calls `fix` on it, using `scratch` (at least as large)
    /// as a staging area. Every pass goes through the files in order: the rows in storage order
    /// into one run per window of destination rows (at most 32 MiB: a window's pages stay in
    /// memory while it fills), each run filled front to back, noting each staged row's destination;
    /// then window by window, its run read in order and each row written to its place in the
    /// window. At most three reads and two writes of the data, in order, instead of a page read at
    /// random for every row.
    static func apply(_ newOf: [UInt32], rowBytes: Int, in arena: any VectorArena, through scratch: any VectorArena,
                      fix: ((UnsafeMutableRawPointer) -> Void)? = nil) {
        let rows = newOf.count
        let total = rows * rowBytes
        guard rows > 0, rowBytes > 0 else { return }
        precondition(arena.capacity >= total && scratch.capacity >= total)
        // At least four windows, so small indexes (tests) take the same path as large ones.
        let windowRows = Swift.max(1, Swift.min(32 << 20, Swift.max(total / 4, rowBytes)) / rowBytes)
        let windows = (rows + windowRows - 1) / windowRows
        let (base, staging) = (arena.base, scratch.base)
        // Pass 1, with the source read ahead in 4 MiB steps (its mapping is advised random).
        let step = 4 << 20
        var askedFor = 0
        var filled = (0..<windows).map { $0 * windowRows }
        var destination = [UInt32](repeating: 0, count: rows)   // of each staged row
        for old in 0..<rows {
            let offset = old * rowBytes
            while askedFor < Swift.min(total, offset + 2 * step) {
                arena.willRead(offset: askedFor, count: Swift.min(step, total - askedFor))
                askedFor += step
            }
            let window = Int(newOf[old]) / windowRows
            (staging + filled[window] * rowBytes).copyMemory(from: base + offset, byteCount: rowBytes)
            destination[filled[window]] = newOf[old]
            filled[window] += 1
        }
        // Pass 2: a window's run holds exactly the rows whose places lie in the window.
        for window in 0..<windows {
            let first = window * windowRows
            let end = Swift.min(rows, first + windowRows)
            scratch.willRead(offset: first * rowBytes, count: (end - first) * rowBytes)
            arena.willRead(offset: first * rowBytes, count: (end - first) * rowBytes)
            for slot in first..<end {
                let target = base + Int(destination[slot]) * rowBytes
                target.copyMemory(from: staging + slot * rowBytes, byteCount: rowBytes)
                fix?(target)
            }
        }
    }
}
