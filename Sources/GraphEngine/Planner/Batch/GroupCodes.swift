/// Codes for 64-bit integer keys, each key given the code its caller offers when it is first
/// seen: open addressing (linear probing) over a power-of-two table with keys spread by a
/// multiplication, so a lookup hashes nothing through `Hasher` and a small key set stays in
/// cache. The last key looked up is remembered: rows of one group often come together (the
/// relationships of one node).
struct IntCodes {
    private var keys: [Int64] = Array(repeating: 0, count: 16)
    /// -1 where no key is.
    private var codes: [Int] = Array(repeating: -1, count: 16)
    private(set) var count = 0
    private var lastKey: Int64 = 0
    private var lastCode = -1

    /// Bytes held per key, for a memory estimate (table slack included).
    static let bytesPerKey = 4 * MemoryLayout<Int>.stride

    /// The code of `key`: the one it was given, or `next` now when it is new.
    @inline(__always)
    mutating func code(_ key: Int64, orNew next: Int) -> Int {
        if lastCode >= 0 && key == lastKey { return lastCode }
        let code = lookUp(key, orInsert: next)
        lastKey = key
        lastCode = code
        return code
    }

    private mutating func lookUp(_ key: Int64, orInsert next: Int) -> Int {
        let mask = keys.count - 1
        var i = Self.slot(key, mask)
        while codes[i] >= 0 {
            if keys[i] == key { return codes[i] }
            i = (i + 1) & mask
        }
        keys[i] = key
        codes[i] = next
        count += 1
        if 2 * count > keys.count { grow() }
        return next
    }

    @inline(__always)
    private static func slot(_ key: Int64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    private mutating func grow() {
        let oldKeys = keys, oldCodes = codes
        keys = Array(repeating: 0, count: 2 * oldKeys.count)
        codes = Array(repeating: -1, count: 2 * oldKeys.count)
        let mask = keys.count - 1
        for (key, code) in zip(oldKeys, oldCodes) where code >= 0 {
            var i = Self.slot(key, mask)
            while codes[i] >= 0 { i = (i + 1) & mask }
            keys[i] = key
            codes[i] = code
        }
    }
}

/// Codes 0, 1, 2... for the values of one grouping key, in the order they are first seen, two
/// values sharing a code exactly when Cypher groups them together (`Semantics.groupKey`: 1 and
/// 1.0 alike, each NaN alone). Integers, and floats equal to one, go through `IntCodes`, or for
/// the small non-negative ones (ages, years, ratings) a table indexed by the key itself; other
/// values through a dictionary of their group key, as `HashAggregation` looks them up.
struct GroupCodes {
    private var ints = IntCodes()
    /// The code of each key in `0..<smallKeys` (-1: none yet), allocated at the first such key.
    private var small: [Int] = []
    private var others: [Value: Int] = [:]
    /// Codes given so far.
    private(set) var count = 0

    /// Keys below this are looked up in `small`.
    static let smallKeys = 4096
    /// Bytes of `small` once allocated.
    static let smallBytes = smallKeys * MemoryLayout<Int>.stride

    /// The code of `value` (`count` before the call when it is new).
    @inline(__always)
    mutating func code(_ value: Value) -> Int {
        switch value {
        case .int(let i):
            return code(int: i)
        case .float(let d):
            if let i = Int64(exactly: d) { return code(int: i) }
        default:
            break
        }
        let key = Semantics.groupKey(value)
        if let known = others[key] { return known }
        others[key] = count
        count += 1
        return count - 1
    }

    /// The code of an integer key (or of a node's or relationship's id, for a key column that
    /// holds only those).
    @inline(__always)
    mutating func code(int i: Int64) -> Int {
        if i >= 0 && i < Self.smallKeys {
            if small.isEmpty { small = Array(repeating: -1, count: Self.smallKeys) }
            let known = small[Int(i)]
            if known >= 0 { return known }
            small[Int(i)] = count
            count += 1
            return count - 1
        }
        let c = ints.code(i, orNew: count)
        if c == count { count += 1 }
        return c
    }
}
