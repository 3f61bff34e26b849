/// A fixed-capacity sample of a stream in which every item seen so far is kept with equal
/// probability capacity/seen (Vitter's Algorithm R), drawing from a seeded generator.
public struct ReservoirBuffer<Element> {
    /// Most items kept (the default 10,000).
    public let capacity: Int
    /// The kept items.
    public private(set) var items: [Element] = []
    /// Items offered so far.
    public private(set) var seen = 0
    var rng: SeededGenerator

    /// An empty reservoir of `capacity` whose slot choices follow `seed`.
    public init(capacity: Int, seed: UInt64) {
        precondition(capacity > 0, "reservoir capacity must be positive")
        self.capacity = capacity
        rng = SeededGenerator(seed: seed)
    }

    /// Offers an item: kept while the reservoir fills, then replaces a uniformly chosen slot with
    /// probability capacity/seen.
    public mutating func add(_ item: Element) {
        seen += 1
        if items.count < capacity {
            items.append(item)
            return
        }
        let slot = Int(rng.next() % UInt64(seen))
        if slot < capacity { items[slot] = item }
    }

    /// `count` items drawn uniformly with replacement (empty when the reservoir is).
    public mutating func sample(_ count: Int) -> [Element] {
        guard !items.isEmpty else { return [] }
        return (0..<count).map { _ in items[Int(rng.next() % UInt64(items.count))] }
    }
}

extension ReservoirBuffer: Sendable where Element: Sendable {}
