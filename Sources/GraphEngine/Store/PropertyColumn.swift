/// One key's column in `PropertyColumns`: its nodes' values by node id, as integers
/// (`IntColumn`: 8 bytes a slot) while every value written to it is an integer, else as `Value`s
/// (`IdTable<Value>`: 24 bytes a slot).
///
/// A column starts as integers; the first value of another kind (a float, even 1.0, a string,
/// a boolean, a list...) moves every value to the general layout, for good: a column that went
/// back when the last such value is removed could be copied back and forth by a workload that
/// sets and removes one. Either way a read answers what the node holds: an integer is read
/// back as `.int`, any other value as it was written.
struct PropertyColumn: Sendable {
    /// The values while `holdsInts` (empty after).
    private(set) var ints = IntColumn()
    /// The values once one was not an integer (empty before).
    private(set) var values = IdTable<Value>()
    /// Whether the values are in `ints`: every value written so far was an integer.
    private(set) var holdsInts = true

    init() {}

    /// Number of ids that hold a value.
    var count: Int { holdsInts ? ints.count : values.count }

    /// Slots in the chunks allocated (see `IdTable.allocatedSlots`).
    var allocatedSlots: Int { holdsInts ? ints.allocatedSlots : values.allocatedSlots }

    /// The smallest and largest ids that hold a value, nil when none does.
    var idBounds: ClosedRange<Int>? { holdsInts ? ints.idBounds : values.idBounds }

    /// The value of `id`, nil when it has none.
    @inline(__always)
    func value(_ id: Int) -> Value? {
        if holdsInts { return ints.int(id).map(Value.int) }
        return values.withElement(id) { $0 }
    }

    /// Makes `value` the value of `id` (nil: removes it), moving the column to `Value`s first
    /// when `value` is the first that is not an integer.
    mutating func set(_ id: Int, _ value: Value?) {
        if holdsInts {
            switch value {
            case nil: ints.set(id, nil); return
            case .int(let i)?: ints.set(id, i); return
            default:
                var moved = IdTable<Value>()
                ints.forEach { id, i in moved[id] = .int(i) }
                values = moved
                ints = IntColumn()
                holdsInts = false
            }
        }
        values[id] = value
    }

    /// Calls `body` with each id that holds an integer and its value, by ascending id.
    func forEachInt(_ body: (Int, Int64) -> Void) {
        if holdsInts { ints.forEach(body); return }
        values.forEach { id, value in if case .int(let i) = value { body(id, i) } }
    }
}
