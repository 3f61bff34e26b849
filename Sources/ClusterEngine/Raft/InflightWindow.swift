/// The append messages a leader has sent one follower and not yet seen acknowledged, each
/// remembered by the index it covers up to (its last entry, or the entry before it when it
/// carries none), oldest first and at most `capacity` of them. A response acknowledging index
/// `i` frees every message up to `i`. This is what bounds the appends queued for a slow or
/// dead follower (etcd-raft's `tracker.Inflights`).
struct InflightWindow: Sendable {
    /// Messages allowed in flight at once (`RaftConfiguration.maxInflightMessages`).
    let capacity: Int
    /// A ring of up to `capacity` indexes, grown on demand: most followers keep a few in flight.
    private var ring: [UInt64] = []
    private var start = 0
    /// Messages in flight.
    private(set) var count = 0

    init(capacity: Int) {
        precondition(capacity > 0, "an in-flight window must admit at least one message")
        self.capacity = capacity
    }

    var isFull: Bool { count == capacity }

    /// Records a message sent, covering up to `index` (not below any message before it).
    mutating func add(_ index: UInt64) {
        precondition(!isFull, "no room in the in-flight window")
        #if RUVECTOR_INTERNAL_CHECKS
        if count > 0 { precondition(ring[(start + count - 1) % ring.count] <= index, "in-flight indexes must not decrease") }
        #endif
        if count == ring.count {
            // Grow: unroll the ring so that the oldest message is first, then append.
            ring = Array(ring[start...] + ring[..<start])
            start = 0
            ring.append(index)
        } else {
            ring[(start + count) % ring.count] = index
        }
        count += 1
    }

    /// Frees the messages covering up to `index` or less: the follower has everything they carried.
    mutating func free(upTo index: UInt64) {
        while count > 0, ring[start] <= index {
            start = (start + 1) % ring.count
            count -= 1
        }
        if count == 0 { start = 0 }
    }

    /// Forgets every message (the leader no longer counts on their answers).
    mutating func reset() {
        start = 0
        count = 0
    }
}
