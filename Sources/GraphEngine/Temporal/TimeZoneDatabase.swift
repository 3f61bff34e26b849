import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The offsets of one named time zone, read from its TZif file (RFC 8536) in the system's IANA
/// database (Debian's `tzdata`, /usr/share/zoneinfo). Foundation is not used: the engine does
/// not link it, and the rules must be the ones the machine's database holds.
///
/// The transitions the file lists are used (Debian's files are "fat": they list them up to
/// 2037); past the last one, the POSIX rule at the file's end (`PosixZoneRule`), or when the
/// file has none the offset in force then.
struct ZoneRules: Sendable {
    /// UTC seconds at which the offset changes, ascending.
    let transitions: [Int64]
    /// The offset (seconds east of UTC) from each transition on.
    let offsetsAfter: [Int32]
    /// The offset before the first transition.
    let initialOffset: Int32
    /// The rule after the last transition, when the file gives one.
    let footer: PosixZoneRule?

    /// The offset in force at `epochSecond` (UTC).
    func offset(atEpochSecond epochSecond: Int64) -> Int32 {
        if let footer, transitions.last.map({ epochSecond >= $0 }) ?? true { return footer.offset(atEpochSecond: epochSecond) }
        var lo = 0, hi = transitions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if transitions[mid] <= epochSecond { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? initialOffset : offsetsAfter[lo - 1]
    }

    /// The offset for local seconds `localSecond` (seconds since 1970-01-01T00:00 on the wall
    /// clock), resolved as java.time does: in an overlap the earlier offset, in a gap the
    /// offset before it (the wall time moves forward by the gap).
    func offset(forLocalSecond localSecond: Int64) -> Int32 {
        let before = offset(atEpochSecond: localSecond - 86_400), after = offset(atEpochSecond: localSecond + 86_400)
        if offset(atEpochSecond: localSecond - Int64(before)) == before { return before }
        if offset(atEpochSecond: localSecond - Int64(after)) == after { return after }
        return before
    }

    /// Parses a TZif file: the version 2+ 64-bit block when there is one, else version 1's.
    /// Every count is checked against the bytes left; nil for anything malformed.
    init?(tzif bytes: [UInt8]) {
        var reader = TZifReader(bytes: bytes)
        guard let first = reader.header() else { return nil }
        var header = first
        var timeBytes = 4
        if first.version >= 2 {
            // Skip the 32-bit block; the 64-bit one follows with its own header.
            guard reader.skip(first.blockBytes(timeBytes: 4)), let second = reader.header() else { return nil }
            header = second
            timeBytes = 8
        }
        var times: [Int64] = []
        times.reserveCapacity(header.timeCount)
        for _ in 0..<header.timeCount {
            guard let t = reader.signed(timeBytes) else { return nil }
            times.append(t)
        }
        var indexes: [Int] = []
        for _ in 0..<header.timeCount {
            guard let i = reader.byte(), Int(i) < header.typeCount else { return nil }
            indexes.append(Int(i))
        }
        var typeOffsets: [Int32] = []
        for _ in 0..<header.typeCount {
            guard let offset = reader.signed(4), let _ = reader.byte(), let _ = reader.byte(),
                  offset >= -25 * 3600, offset <= 26 * 3600 else { return nil }
            typeOffsets.append(Int32(offset))
        }
        guard !typeOffsets.isEmpty, zip(times, times.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
        // Version 2+: after the block's abbreviations, leap seconds and indicators, the rule
        // between two newlines. One that does not parse is ignored (the last offset stays).
        var rule: PosixZoneRule? = nil
        if first.version >= 2, reader.skip(header.charCount + header.leapCount * (timeBytes + 4) + header.isStdCount + header.isUTCount),
           reader.byte() == 10, let text = reader.line(maxBytes: 256), !text.isEmpty {
            rule = PosixZoneRule(text)
        }
        footer = rule
        transitions = times
        offsetsAfter = indexes.map { typeOffsets[$0] }
        initialOffset = typeOffsets[0]
    }
}

/// A bounds-checked cursor over a TZif file.
private struct TZifReader {
    struct Header {
        let version: Int
        let isUTCount, isStdCount, leapCount, timeCount, typeCount, charCount: Int
        /// Bytes of the data block after this header.
        func blockBytes(timeBytes: Int) -> Int {
            timeCount * timeBytes + timeCount + typeCount * 6 + charCount + leapCount * (timeBytes + 4) + isStdCount + isUTCount
        }
    }
    let bytes: [UInt8]
    var position = 0

    mutating func byte() -> UInt8? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
    }
    /// Bytes up to the next newline (consumed), nil when there is none within `maxBytes`.
    mutating func line(maxBytes: Int) -> [UInt8]? {
        var out: [UInt8] = []
        while let b = byte() {
            if b == 10 { return out }
            out.append(b)
            if out.count > maxBytes { return nil }
        }
        return nil
    }
    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, count <= bytes.count - position else { return false }
        position += count
        return true
    }
    /// A big-endian two's-complement integer of `width` bytes.
    mutating func signed(_ width: Int) -> Int64? {
        guard width <= bytes.count - position else { return nil }
        var value: UInt64 = 0
        for _ in 0..<width { value = value << 8 | UInt64(bytes[position]); position += 1 }
        let shift = UInt64(64 - 8 * width)
        return Int64(bitPattern: value << shift) >> Int64(shift)
    }
    mutating func header() -> Header? {
        guard bytes.count - position >= 44, bytes[position..<position + 4].elementsEqual("TZif".utf8) else { return nil }
        let versionByte = bytes[position + 4]
        position += 20
        var counts: [Int] = []
        for _ in 0..<6 {
            // Each count is bounded by the file's size: a hostile count cannot ask for more.
            guard let c = signed(4), c >= 0, c <= Int64(bytes.count) else { return nil }
            counts.append(Int(c))
        }
        let header = Header(version: versionByte == 0 ? 1 : Int(versionByte) - 48, isUTCount: counts[0], isStdCount: counts[1],
                            leapCount: counts[2], timeCount: counts[3], typeCount: counts[4], charCount: counts[5])
        guard header.typeCount > 0, header.typeCount <= 256 else { return nil }
        return header
    }
}

/// The named time zones, loaded on first use and kept (a process reads each file once).
/// Names are checked before any file is opened: only IANA-style names (`Area/Location`,
/// letters, digits, `_`, `-`, `+`), never a path that could leave the database folder.
final class TimeZoneDatabase: Sendable {
    /// The database every query uses.
    static let shared = TimeZoneDatabase(directory: "/usr/share/zoneinfo")

    /// Largest TZif file read; the largest in tzdata is a few kilobytes.
    static let maxFileBytes = 256 * 1024
    /// Longest zone name accepted.
    static let maxNameBytes = 64

    private let directory: String
    private let loaded = Mutex<[String: ZoneRules]>([:])

    init(directory: String) { self.directory = directory }

    /// The rules of zone `name`, or nil when there is no such zone (or its file is malformed).
    func rules(_ name: String) -> ZoneRules? {
        guard Self.isValidName(name) else { return nil }
        if let known = loaded.withLock({ $0[name] }) { return known }
        guard let bytes = Self.readFile(directory + "/" + name), let rules = ZoneRules(tzif: bytes) else { return nil }
        // Only zones that exist are kept, so the cache is bounded by the database's size.
        loaded.withLock { $0[name] = rules }
        return rules
    }

    static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= maxNameBytes, name.first != "/", !name.contains("..") else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 || c == 45 || c == 43 || c == 47
        }
    }

    private static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > maxFileBytes { return nil }
        }
    }
}
