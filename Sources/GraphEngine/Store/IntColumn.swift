/// A property column whose values are all integers, by node id: each value in 8 bytes and a bit
/// saying whether the id has one, where the general column (`IdTable<Value>`) spends 24 bytes
/// (an optional `Value`) a slot. What `PropertyColumn` holds while every value of its key is an
/// integer: a scan of a million ages reads 8 MB of values and 128 KB of bits instead of 24 MB,
/// and a batch reads the integers as they are stored, with no `Value` made.
///
/// Ids are held in chunks of `chunkSize` slots, as `IdTable`'s, each allocated at the first value
/// of its range and freed when it holds none (a key gets a column only when one id in 8 has it,
/// see `PropertyColumns`, so the chunks are seldom thin). Chunks are the unit of copy-on-write:
/// the store is a value that queries copy as their snapshot, and the first write after a copy
/// duplicates the chunk it touches (32.5 KB, no reference to count), not the column.
struct IntColumn: @unchecked Sendable {
    static var chunkShift: Int { IdTable<Value>.chunkShift }
    static var chunkSize: Int { 1 << chunkShift }
    /// Words of presence bits after a chunk's values.
    private static var bitWords: Int { chunkSize / 64 }

    /// `chunkSize` values (as bit patterns; 0 where no value), then `bitWords` words of
    /// presence bits: one allocation, so a reader holds one plain pointer per chunk. Shared
    /// between copies of the column until one of them writes to it.
    private final class Chunk: DirectoryChunk {
        let slots: UnsafeMutablePointer<UInt64>
        /// Slots that hold a value.
        var count = 0

        init() {
            slots = .allocate(capacity: IntColumn.chunkSize + IntColumn.bitWords)
            slots.initialize(repeating: 0, count: IntColumn.chunkSize + IntColumn.bitWords)
        }

        init(copying other: Chunk) {
            slots = .allocate(capacity: IntColumn.chunkSize + IntColumn.bitWords)
            slots.initialize(from: other.slots, count: IntColumn.chunkSize + IntColumn.bitWords)
            count = other.count
        }

        deinit { slots.deallocate() }
    }

    // @unchecked Sendable: a chunk is mutated only through a column that holds its only
    // reference (checked before every write), so a shared chunk is only ever read.
    /// The allocated chunks by number.
    private var chunks = ChunkDirectory<Chunk>()
    /// Number of ids that hold a value.
    private(set) var count = 0

    init() {}

    /// Slots in the chunks allocated (what the chunks cost, full or not).
    var allocatedSlots: Int { chunks.count * Self.chunkSize }

    @inline(__always)
    private func slots(_ c: Int) -> UnsafeMutablePointer<UInt64>? { chunks.slots(c) }

    /// The value in slot `i` of chunk `slots`, nil when the slot holds none.
    @inline(__always)
    private static func value(_ slots: UnsafeMutablePointer<UInt64>, _ i: Int) -> Int64? {
        guard slots[chunkSize &+ i &>> 6] & (1 &<< UInt64(i & 63)) != 0 else { return nil }
        return Int64(bitPattern: slots[i])
    }

    /// The value of `id`, nil when it has none.
    @inline(__always)
    func int(_ id: Int) -> Int64? {
        guard let slots = slots(id &>> Self.chunkShift) else { return nil }
        return Self.value(slots, id & (Self.chunkSize - 1))
    }

    /// The value of `ids[k]` into `ints[k]`, with `found[k]` set (unset where the id has no
    /// value), for each `k` in `0..<n`: the chunk of the id before is kept, so ids in order (a
    /// scan's) find theirs once per chunk. A plain loop, no call per id.
    func read(_ ids: UnsafeMutableBufferPointer<Int>, _ n: Int, into ints: UnsafeMutableBufferPointer<Int64>,
              found: UnsafeMutableBufferPointer<Bool>) {
        var chunkNumber = Int.min
        var slots: UnsafeMutablePointer<UInt64>? = nil
        for k in 0..<n {
            let id = ids[k]
            if id &>> Self.chunkShift != chunkNumber {
                chunkNumber = id &>> Self.chunkShift
                slots = self.slots(chunkNumber)
            }
            guard let slots else {
                found[k] = false
                continue
            }
            let i = id & (Self.chunkSize - 1)
            found[k] = slots[Self.chunkSize &+ i &>> 6] & (1 &<< UInt64(i & 63)) != 0
            ints[k] = Int64(bitPattern: slots[i])
        }
    }

    /// Makes `value` the value of `id` (nil: removes it).
    mutating func set(_ id: Int, _ value: Int64?) {
        let c = id &>> Self.chunkShift, i = id & (Self.chunkSize - 1)
        let bit: UInt64 = 1 &<< UInt64(i & 63)
        guard let value else {
            // Nothing is copied or allocated for an id that holds no value.
            guard let held = slots(c), held[Self.chunkSize + i >> 6] & bit != 0 else { return }
            let chunk = chunks.writable(c)!
            chunk.slots[Self.chunkSize + i >> 6] &= ~bit
            chunk.slots[i] = 0
            chunk.count -= 1
            count -= 1
            if chunk.count == 0 { chunks.remove(c) }
            return
        }
        precondition(id >= 0, "element ids are not negative")
        let chunk: Chunk
        if let held = chunks.writable(c) {
            chunk = held
        } else {
            chunk = Chunk()
            chunks.install(chunk, c)
        }
        if chunk.slots[Self.chunkSize + i >> 6] & bit == 0 {
            chunk.slots[Self.chunkSize + i >> 6] |= bit
            chunk.count += 1
            count += 1
        }
        chunk.slots[i] = UInt64(bitPattern: value)
    }

    /// The numbers of the allocated chunks, ascending.
    private var chunkNumbers: [Int] { chunks.numbers }

    /// Calls `body` with each id that holds a value and its value, by ascending id.
    func forEach(_ body: (Int, Int64) -> Void) {
        for c in chunkNumbers {
            let slots = self.slots(c)!
            for w in 0..<Self.bitWords {
                var bits = slots[Self.chunkSize + w]
                while bits != 0 {
                    let i = w << 6 + bits.trailingZeroBitCount
                    body(c << Self.chunkShift + i, Int64(bitPattern: slots[i]))
                    bits &= bits - 1
                }
            }
        }
    }

    /// The smallest and largest ids that hold a value, nil when none does.
    var idBounds: ClosedRange<Int>? {
        let numbers = chunkNumbers
        guard let first = numbers.first, let last = numbers.last,
              let lowerWord = (0..<Self.bitWords).first(where: { slots(first)![Self.chunkSize + $0] != 0 }),
              let upperWord = (0..<Self.bitWords).last(where: { slots(last)![Self.chunkSize + $0] != 0 }) else { return nil }
        let lower = first << Self.chunkShift + lowerWord << 6 + slots(first)![Self.chunkSize + lowerWord].trailingZeroBitCount
        let upper = last << Self.chunkShift + upperWord << 6 + 63 - slots(last)![Self.chunkSize + upperWord].leadingZeroBitCount
        return lower...upper
    }
}
