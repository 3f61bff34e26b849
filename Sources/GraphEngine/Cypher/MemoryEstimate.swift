import WorkControl

/// What values and rows hold on the heap, estimated for a query's memory budget.
///
/// The estimate is deliberately deep: a list holding the same list twice counts it twice.
/// That is what it costs once expanded (sent to the client, hashed as a DISTINCT key, printed
/// in a message), and it is what stops `reduce(x = [1], i IN range(1, 40) | [x, x])`, whose
/// few shared buffers stand for 2^40 values. Counting stops once it passes the limit it is
/// given, so measuring such a value costs at most the limit's worth of visits.
///
/// Nesting is bounded as well: releasing a list nested a million deep recurses once per
/// level and overflows the thread's stack, so no value may nest deeper than `maxDepth`.
enum MemoryEstimate {
    /// The inline size of one value (a list element, a row entry's value).
    static let valueBytes = MemoryLayout<Value>.stride
    /// The heap box of a temporal value (object header and payload).
    static let temporalBoxBytes = 16 + MemoryLayout<Temporal>.stride
    /// An array's heap header (count, capacity, object header).
    static let arrayHeaderBytes = 32
    /// A native string's heap header; strings of up to `smallStringBytes` UTF-8 bytes are inline.
    static let stringHeaderBytes = 32
    static let smallStringBytes = 15
    /// A dictionary's heap header, and one entry (key and value, at the load factor's slack).
    static let mapHeaderBytes = 64
    static let mapEntryBytes = 2 * (MemoryLayout<String>.stride + valueBytes)
    /// A node or relationship in the store besides its properties: its record, its slots in
    /// the store's dictionaries and the label and adjacency indexes, its change record.
    static let elementBytes = 160
    /// Deepest nesting of lists and maps a query may build (each level is a frame of every
    /// recursive walk over the value, including its release).
    static let maxDepth = 256

    /// Heap bytes of a string.
    @inline(__always)
    static func stringBytes(_ s: String) -> Int { stringBytes(utf8Count: s.utf8.count) }

    /// Heap bytes of a string of `utf8Count` UTF-8 bytes.
    @inline(__always)
    static func stringBytes(utf8Count count: Int) -> Int {
        count <= smallStringBytes ? 0 : stringHeaderBytes + count
    }

    /// Heap bytes of an array of `count` values (not counting what the values hold).
    @inline(__always)
    static func listBytes(count: Int) -> Int { arrayHeaderBytes + count * valueBytes }

    /// Heap bytes of an array of `count` ids.
    @inline(__always)
    static func idListBytes(count: Int) -> Int { arrayHeaderBytes + count * MemoryLayout<Int>.stride }

    /// Heap bytes of a row (a variable-to-value dictionary), not counting what its values
    /// hold: the row's owner counts those as the values are made.
    @inline(__always)
    static func rowBytes(_ row: Row) -> Int { mapHeaderBytes + row.count * mapEntryBytes }

    /// Heap bytes of a result row of `columns` values (not counting what the values hold).
    @inline(__always)
    static func resultRowBytes(columns: Int) -> Int { listBytes(count: columns) }

    /// What a value holds: heap bytes beyond its inline slot, and how deep lists and maps nest
    /// in it. Past `limitBytes` or `maxDepth` measuring stops; the result then exceeds it.
    struct Measure {
        var bytes = 0
        var depth = 0
    }

    /// Measures `value`, counting at most `limitBytes`; polls `cancellation` while it walks a
    /// large value (and reports a cancelled walk as over the limit: the caller checks the
    /// signal before charging).
    static func measure(_ value: Value, limitBytes: Int, cancellation: CancellationSignal = .never) -> Measure {
        switch value {
        case .null, .bool, .int, .float, .node, .relationship: return Measure()
        case .temporal(let t):
            // Boxed (`Value.temporal` is indirect), plus a named zone's string.
            var bytes = temporalBoxBytes
            if case .dateTime(_, _, _, let zone?) = t { bytes += stringBytes(zone) }
            return Measure(bytes: bytes, depth: 0)
        case .string(let s): return Measure(bytes: stringBytes(s), depth: 0)
        case .path(let nodes, let relationships):
            return Measure(bytes: 2 * arrayHeaderBytes + 8 * (nodes.count + relationships.count), depth: 1)
        case .list, .map:
            var walk = Walk(limitBytes: limitBytes, cancellation: cancellation)
            walk.visit(value, depth: 1)
            return Measure(bytes: walk.bytes, depth: walk.depth)
        }
    }

    /// Heap bytes of `value` (see `measure`).
    static func heapBytes(_ value: Value, limitBytes: Int = .max) -> Int {
        measure(value, limitBytes: limitBytes).bytes
    }

    /// A depth-first walk that stops once it has counted past its limit or depth.
    private struct Walk {
        let limitBytes: Int
        let cancellation: CancellationSignal
        var bytes = 0
        var depth = 0
        var visits = 0

        var done: Bool { bytes > limitBytes || depth > MemoryEstimate.maxDepth }

        mutating func visit(_ value: Value, depth level: Int) {
            depth = max(depth, level)
            guard !done else { return }
            switch value {
            case .list(let items):
                bytes = bytes &+ listBytes(count: items.count)
                for item in items {
                    guard !done else { return }
                    scalarOrVisit(item, depth: level)
                }
            case .map(let entries):
                bytes = bytes &+ mapHeaderBytes + entries.count * mapEntryBytes
                for (key, item) in entries {
                    guard !done else { return }
                    bytes = bytes &+ stringBytes(key)
                    scalarOrVisit(item, depth: level)
                }
            default:
                bytes = bytes &+ MemoryEstimate.measure(value, limitBytes: limitBytes).bytes
            }
        }

        /// Counts an element of a list or map at `level` without a call for the common scalars.
        @inline(__always)
        private mutating func scalarOrVisit(_ item: Value, depth level: Int) {
            visits += 1
            if visits & 0xFFFF == 0, cancellation.isCancelled { bytes = .max; return }
            switch item {
            case .null, .bool, .int, .float, .node, .relationship: break
            case .temporal: bytes = bytes &+ MemoryEstimate.measure(item, limitBytes: limitBytes).bytes
            case .string(let s): bytes = bytes &+ stringBytes(s)
            case .list, .map, .path: visit(item, depth: level + 1)
            }
        }
    }
}
