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
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent].distance >= items[i].distance { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    @discardableResult
    mutating func pop() -> (distance: Float, id: UInt32)? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if items.isEmpty { return first }
        items[0] = last
        var i = 0
        let n = items.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n && items[l].distance > items[m].distance { m = l }
            if r < n && items[r].distance > items[m].distance { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return first
    }
}
