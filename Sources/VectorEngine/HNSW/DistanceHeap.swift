/// A binary max-heap of `(distance, id)` pairs on a reusable array. The candidate
/// min-heap of `searchLayer` stores negated distances in one of these.
struct DistanceHeap {
    private(set) var items: [(distance: Float, id: UInt32)] = []

    var count: Int { items.count }
    var isEmpty: Bool { items.isEmpty }
    var top: (distance: Float, id: UInt32)? { items.first }

    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func push(_ distance: Float, _ id: UInt32) {
        items.append((distance, id))
        // Move parents down into the hole until the new item fits, then write it once.
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent].distance >= distance { break }
            items[i] = items[parent]
            i = parent
        }
        items[i] = (distance, id)
    }

    @discardableResult
    mutating func pop() -> (distance: Float, id: UInt32)? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty { siftDownFromTop(last) }
        return first
    }

    /// Replaces the largest item with `(distance, id)`: a push and a pop in one pass, for a
    /// full heap that keeps the best `count` items.
    mutating func replaceTop(_ distance: Float, _ id: UInt32) {
        precondition(!items.isEmpty)
        siftDownFromTop((distance, id))
    }

    /// Sorts the items ascending by distance, then id, in place. That ends the heap order:
    /// call ``removeAll()`` before pushing again.
    mutating func sortAscending() {
        items.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
    }

    /// Puts `item` at the root and moves it down to its place (children move up into the hole).
    private mutating func siftDownFromTop(_ item: (distance: Float, id: UInt32)) {
        let n = items.count
        var i = 0
        while true {
            let l = 2 * i + 1
            if l >= n { break }
            var c = l
            if l + 1 < n && items[l + 1].distance > items[l].distance { c = l + 1 }
            if items[c].distance <= item.distance { break }
            items[i] = items[c]
            i = c
        }
        items[i] = item
    }
}
