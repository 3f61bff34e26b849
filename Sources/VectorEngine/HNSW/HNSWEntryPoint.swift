import Synchronization

/// The graph's entry point and top level. They are the only graph-wide values a parallel
/// insert changes, so they sit behind their own `Mutex` (hnswlib's global lock) rather than
/// the index's exclusive access.
final class HNSWEntryPoint: Sendable {
    /// The entry node (`nil` while the graph is empty) and its level, the graph's top level.
    struct Top: Sendable, Equatable {
        var node: UInt32?
        var level: Int
    }

    /// Read once at the start of every walk.
    let current = Mutex(Top(node: nil, level: 0))
    /// Held for the whole insert of a node whose level is above the top level it saw, so such
    /// inserts run one at a time and each links to the top the previous one left.
    let promotion = Mutex(())

    /// A copy of the current top.
    var top: Top { current.withLock { $0 } }

    /// Replaces the top (exclusive access, or while holding ``promotion``).
    func set(_ top: Top) { current.withLock { $0 = top } }
}
