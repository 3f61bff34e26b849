import Synchronization

/// Readers-writer access to a `Value`, built from `Mutex`es only, where every shared access
/// also gets a private `Scratch` (hnswlib's `visited_list_pool` and a readers-writer lock in
/// one). ``HNSWIndex`` keeps its graph in one of these.
///
/// There are `slotCount` slots, each a `Mutex` guarding one `Scratch`, and a writer gate.
/// - A **shared** access holds exactly one slot for its duration (the first free one, else it
///   waits for one) and uses that slot's scratch. It reads `Value` and changes only what
///   `Value` itself guards with finer locks.
/// - An **exclusive** access holds the writer gate, then every slot, taken in index order. It
///   may change anything, and uses slot 0's scratch.
///
/// Why this is free of data races and deadlocks:
/// - An exclusive access holds every slot, so it overlaps no shared access and no other
///   exclusive access; `Mutex` release/acquire orders it before and after each of them.
/// - Shared accesses overlap each other but never share a scratch: a scratch is touched only
///   by the holder of its slot.
/// - A shared access holds one slot and never waits for another or for the gate; exclusive
///   accesses wait for the gate first and take slots in one global order. So no cycle of
///   waits can form.
/// - ``withWriterGate(_:)`` keeps other writers out across several steps (an exclusive step,
///   shared steps on many threads, another exclusive step), which is how a batch insert
///   reserves room exclusively, links in parallel beside searches, and then finishes.
///
/// ThreadSanitizer on Linux (Swift 6.3) does not see the ordering a contended
/// `Synchronization.Mutex` gives (the kernel hands the lock over), so it reports races on
/// data guarded here; a 20-line program that guards one array with one `Mutex` gets the
/// same reports.
final class SharedExclusiveAccess<Value, Scratch>: @unchecked Sendable {
    /// A scratch and the mutex that says who may use it.
    private final class Slot: @unchecked Sendable {
        let lock = Mutex(())
        var scratch: Scratch
        init(_ scratch: Scratch) { self.scratch = scratch }
    }

    /// Proof that the caller holds the writer gate (see ``withWriterGate(_:)``).
    struct WriterGate: ~Copyable {
        fileprivate init() {}
    }

    // Read under any one slot, written only while holding all of them.
    private var value: Value
    private let slots: [Slot]
    private let writerGate = Mutex(())
    private let nextWaitSlot = Atomic<Int>(0)

    /// Guards `value`, with `slotCount` scratches made by `makeScratch`.
    init(_ value: Value, slotCount: Int, makeScratch: () -> Scratch) {
        precondition(slotCount >= 1)
        self.value = value
        slots = (0..<slotCount).map { _ in Slot(makeScratch()) }
    }

    /// How many shared accesses can run at once.
    var slotCount: Int { slots.count }

    /// Runs `body` beside other shared accesses, with a scratch nobody else is using.
    func shared<R: Sendable, E: Error>(_ body: (Value, inout Scratch) throws(E) -> R) throws(E) -> R {
        // The lowest free slot: few slots stay in use, so few scratches grow large.
        for slot in slots {
            if let result = try slot.lock.withLockIfAvailable({ _ throws(E) -> R in try body(value, &slot.scratch) }) {
                return result
            }
        }
        let slot = slots[nextWaitSlot.add(1, ordering: .relaxed).oldValue % slots.count]
        return try slot.lock.withLock { _ throws(E) -> R in try body(value, &slot.scratch) }
    }

    /// Runs `body` with no other access of any kind running.
    func exclusive<R: Sendable, E: Error>(_ body: (inout Value, inout Scratch) throws(E) -> R) throws(E) -> R {
        try withWriterGate { gate throws(E) -> R in try exclusive(gate, body) }
    }

    /// Runs `body` as the only writer: until it returns, no exclusive access starts except
    /// through `exclusive(gate, ...)`; shared accesses run as usual.
    func withWriterGate<R: Sendable, E: Error>(_ body: (borrowing WriterGate) throws(E) -> R) throws(E) -> R {
        try writerGate.withLock { _ throws(E) -> R in try body(WriterGate()) }
    }

    /// An exclusive step inside ``withWriterGate(_:)``.
    func exclusive<R: Sendable, E: Error>(_ gate: borrowing WriterGate,
                                          _ body: (inout Value, inout Scratch) throws(E) -> R) throws(E) -> R {
        try holdingSlots(from: 0, body)
    }

    private func holdingSlots<R: Sendable, E: Error>(from index: Int,
                                                     _ body: (inout Value, inout Scratch) throws(E) -> R) throws(E) -> R {
        if index == slots.count { return try body(&value, &slots[0].scratch) }
        return try slots[index].lock.withLock { _ throws(E) -> R in try holdingSlots(from: index + 1, body) }
    }
}
