import Storage
import VectorEngine

/// A point's id as users name it: a number below 2^63, or a UUID. The engine knows numbers
/// only; `DurableCollection` gives each UUID an internal number of 2^63 or more and keeps
/// the pairs with the collection (logged, snapshotted).
public enum PointKey: Hashable, Sendable, CustomStringConvertible {
    /// A numeric id, 0 ..< 2^63.
    case number(UInt64)
    /// A UUID.
    case uuid(PointUUID)

    /// Numeric ids must be below this (the upper half names UUIDs inside the engine).
    public static let numberLimit: UInt64 = 1 << 63

    public var description: String {
        switch self {
        case .number(let n): return String(n)
        case .uuid(let u): return u.description
        }
    }
}

/// A 128-bit UUID, written in canonical form (`550e8400-e29b-41d4-a716-446655440000`).
public struct PointUUID: Hashable, Sendable, CustomStringConvertible {
    /// The first and last 64 bits.
    public let high: UInt64, low: UInt64

    /// The UUID of canonical text: 32 hexadecimal digits in groups of 8-4-4-4-12 (either case);
    /// nil for anything else.
    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return nil }
        var value: (UInt64, UInt64) = (0, 0)
        var digits = 0
        for (i, c) in utf8.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard c == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let nibble = Self.nibble(c) else { return nil }
            if digits < 16 { value.0 = value.0 << 4 | nibble } else { value.1 = value.1 << 4 | nibble }
            digits += 1
        }
        (high, low) = value
    }

    /// A UUID from its two halves.
    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }

    private static func nibble(_ c: UInt8) -> UInt64? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt64(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt64(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt64(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// Lower-case canonical text.
    public var description: String {
        var text = ""
        for (i, digit) in (Self.hex(high) + Self.hex(low)).enumerated() {
            if [8, 12, 16, 20].contains(i) { text.append("-") }
            text.append(digit)
        }
        return text
    }

    /// `v` as 16 lower-case hexadecimal digits.
    private static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

/// The UUID ↔ internal id pairs of one collection. Internal ids are handed out upwards
/// from 2^63 and never reused; a pair is dropped when its point is deleted.
struct UUIDAssignments: Sendable, Equatable {
    private(set) var internalIds: [PointUUID: UInt64] = [:]
    private(set) var uuids: [UInt64: PointUUID] = [:]
    private(set) var nextInternalId = PointKey.numberLimit

    /// Records `uuid` ↔ `id`.
    mutating func assign(_ uuid: PointUUID, _ id: UInt64) {
        internalIds[uuid] = id
        uuids[id] = uuid
        nextInternalId = max(nextInternalId, id &+ 1)
    }

    /// Drops the pairs of these internal ids (numeric ids are ignored).
    mutating func remove(_ ids: [UInt64]) {
        for id in ids where id >= PointKey.numberLimit {
            if let uuid = uuids.removeValue(forKey: id) { internalIds[uuid] = nil }
        }
    }

    /// The internal id of `key`; nil for a UUID never assigned. Throws for a number past the limit.
    func internalId(_ key: PointKey) throws(VectorEngineError) -> UInt64? {
        switch key {
        case .number(let n):
            guard n < PointKey.numberLimit else {
                throw VectorEngineError(code: .invalidArgument, message: "numeric point ids must be below 2^63 (\(PointKey.numberLimit)), got \(n); use a UUID")
            }
            return n
        case .uuid(let u):
            return internalIds[u]
        }
    }

    /// The key users know internal id `id` by.
    func key(_ id: UInt64) -> PointKey {
        guard id >= PointKey.numberLimit, let uuid = uuids[id] else { return .number(id) }
        return .uuid(uuid)
    }

    // MARK: Encoding (WAL records of new pairs, and the snapshot section of all)

    static func encode(_ pairs: [(PointUUID, UInt64)], next: UInt64) -> [UInt8] {
        var w = BinaryWriter()
        w.u8(1)
        w.u64(next)
        w.u64(UInt64(pairs.count))
        for (uuid, id) in pairs {
            w.u64(uuid.high); w.u64(uuid.low); w.u64(id)
        }
        return w.bytes
    }

    var encoded: [UInt8] {
        Self.encode(internalIds.sorted { $0.value < $1.value }.map { ($0.key, $0.value) }, next: nextInternalId)
    }

    /// Adds the pairs of `bytes` (a WAL record or a snapshot section).
    mutating func apply(_ bytes: [UInt8]) throws {
        do {
            var r = BinaryReader(bytes)
            guard try r.u8() == 1 else { throw StorageError(.corrupt, "unknown UUID record version") }
            let next = try r.u64()
            for _ in 0..<(try r.count(elementBytes: 24)) {
                let uuid = PointUUID(high: try r.u64(), low: try r.u64())
                let id = try r.u64()
                guard id >= PointKey.numberLimit else { throw StorageError(.corrupt, "a UUID record maps to numeric id \(id)") }
                assign(uuid, id)
            }
            guard r.isAtEnd else { throw StorageError(.corrupt, "trailing bytes after a UUID record") }
            nextInternalId = max(nextInternalId, next)
        } catch is BinaryReader.Truncated {
            throw StorageError(.corrupt, "a UUID record is cut short")
        }
    }
}
