/// A Cypher temporal value: the six types of the openCypher temporal proposal, held exactly
/// (nanoseconds, never a floating-point count of seconds) in the fields Cypher reads, so that
/// what a query builds prints back as Neo4j prints it.
///
/// Dates are days since 1970-01-01 on the proleptic Gregorian calendar, times nanoseconds since
/// midnight. A `dateTime` keeps its local date and time with the offset in force there and the
/// zone it was made in, when it was made in a named zone (`Europe/Stockholm`): arithmetic in
/// months and days stays in local time, as the specification asks.
public enum Temporal: Hashable, Sendable {
    /// A calendar date.
    case date(epochDay: Int64)
    /// A time of day, no time zone.
    case localTime(nanoOfDay: Int64)
    /// A time of day at a fixed offset from UTC (seconds east).
    case time(nanoOfDay: Int64, offsetSeconds: Int32)
    /// A date and a time of day, no time zone.
    case localDateTime(epochDay: Int64, nanoOfDay: Int64)
    /// An instant: local date and time, the offset in force there, and the named zone if any.
    case dateTime(epochDay: Int64, nanoOfDay: Int64, offsetSeconds: Int32, zone: String?)
    /// An amount of time (see `CypherDuration`).
    case duration(CypherDuration)

    /// Nanoseconds in a day.
    public static let nanosPerDay: Int64 = 86_400_000_000_000
    /// The years a date may have: Neo4j's range.
    public static let years: ClosedRange<Int64> = -999_999_999...999_999_999
    /// The offsets a time zone may have, in seconds (ISO 8601: at most 18 hours).
    public static let offsets: ClosedRange<Int32> = -64_800...64_800

    /// The name Cypher gives the type (in errors and `valueType`-like messages).
    public var typeName: String {
        switch self {
        case .date: return "Date"
        case .localTime: return "LocalTime"
        case .time: return "Time"
        case .localDateTime: return "LocalDateTime"
        case .dateTime: return "DateTime"
        case .duration: return "Duration"
        }
    }

    /// The function that builds the type: `date`, `localtime`... (for a Cypher-literal rendering).
    public var functionName: String {
        switch self {
        case .date: return "date"
        case .localTime: return "localtime"
        case .time: return "time"
        case .localDateTime: return "localdatetime"
        case .dateTime: return "datetime"
        case .duration: return "duration"
        }
    }

    /// Whether every field is within its range: what a decoder checks before it trusts bytes
    /// read back from disk (arithmetic assumes these ranges).
    public var isValid: Bool {
        let nanos = 0..<Self.nanosPerDay
        switch self {
        case .date(let d): return CivilCalendar.inRange(d)
        case .localTime(let n): return nanos.contains(n)
        case .time(let n, let o): return nanos.contains(n) && Self.offsets.contains(o)
        case .localDateTime(let d, let n): return CivilCalendar.inRange(d) && nanos.contains(n)
        case .dateTime(let d, let n, let o, let z):
            return CivilCalendar.inRange(d) && nanos.contains(n) && Self.offsets.contains(o) && (z.map(TimeZoneDatabase.isValidName) ?? true)
        case .duration(let x): return (0..<1_000_000_000).contains(x.nanos)
        }
    }

    /// This value if every field is in range and its zone (if any) is known here, with a
    /// datetime's offset made the zone's at that wall time when the one given is not valid
    /// there: what a value that came from outside (a client's parameter) must pass. Nil
    /// otherwise.
    public func checked() -> Temporal? {
        guard isValid else { return nil }
        guard case .dateTime(let day, let nano, let offset, let zone?) = self else { return self }
        return Temporal.zoned(epochDay: day, nanoOfDay: nano, zone: zone, fixedOffset: offset, preferring: offset)
    }

    /// The instant of a `dateTime` as seconds since 1970-01-01T00:00Z and nanoseconds of that second.
    var epochSecond: (seconds: Int64, nanos: Int64)? {
        guard case .dateTime(let day, let nano, let offset, _) = self else { return nil }
        return (day * 86_400 + nano / 1_000_000_000 - Int64(offset), nano % 1_000_000_000)
    }

    /// Ordering within one type: nil for different types and for durations (which Cypher does not
    /// order: a month has no fixed length). Times and datetimes compare by instant, then by local
    /// time (two values at one instant in different zones are not equal but sort together).
    public func compare(_ other: Temporal) -> Int? {
        func cmp<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : a > b ? 1 : 0 }
        switch (self, other) {
        case (.date(let a), .date(let b)): return cmp(a, b)
        case (.localTime(let a), .localTime(let b)): return cmp(a, b)
        case (.time(let a, let oa), .time(let b, let ob)):
            let ua = a - Int64(oa) * 1_000_000_000, ub = b - Int64(ob) * 1_000_000_000
            return ua != ub ? cmp(ua, ub) : cmp(a, b)
        case (.localDateTime(let da, let na), .localDateTime(let db, let nb)):
            return da != db ? cmp(da, db) : cmp(na, nb)
        case (.dateTime(let da, let na, _, _), .dateTime(let db, let nb, _, _)):
            guard let x = epochSecond, let y = other.epochSecond else { return nil }
            if x != y { return x.seconds != y.seconds ? cmp(x.seconds, y.seconds) : cmp(x.nanos, y.nanos) }
            return da != db ? cmp(da, db) : cmp(na, nb)
        default: return nil
        }
    }
}

/// A Cypher duration as Neo4j keeps it: months, days, seconds and nanoseconds, each apart,
/// because a month or a day has no fixed number of seconds (a day at a daylight-saving change
/// has 23 or 25 hours). `nanos` is always in 0..<1_000_000_000; `seconds` carries the sign.
public struct CypherDuration: Hashable, Sendable {
    /// Whole months (years are twelve months).
    public var months: Int64
    /// Whole days (weeks are seven days).
    public var days: Int64
    /// Whole seconds (hours and minutes are counted here).
    public var seconds: Int64
    /// Nanoseconds past `seconds`, 0 to 999 999 999.
    public var nanos: Int64

    /// The longest a duration may be in each field: Neo4j's bound keeps the sums used by
    /// comparisons and arithmetic within 64 bits.
    static let maxSeconds: Int64 = 1 << 53

    /// A duration, normalising `nanos` into 0..<1e9 (the excess moves to seconds). Nil when a
    /// field overflows.
    public init?(months: Int64, days: Int64, seconds: Int64, nanos: Int64) {
        let (s, overflow) = seconds.addingReportingOverflow(CivilCalendar.floorDiv(nanos, 1_000_000_000))
        guard !overflow else { return nil }
        self.months = months
        self.days = days
        self.seconds = s
        self.nanos = CivilCalendar.floorMod(nanos, 1_000_000_000)
    }

    /// The duration of `months`, `days`, `seconds` and `nanos` given as possibly fractional
    /// numbers, fractions cascading down as Neo4j does: a fraction of a month becomes days at
    /// the average month (30.436875 days), a fraction of a day 86 400 seconds, a fraction of a
    /// second nanoseconds. Nil when the result does not fit.
    static func approximate(months: Double, days: Double, seconds: Double, nanos: Double) -> CypherDuration? {
        let limit = 9.2e18
        guard [months, days, seconds, nanos].allSatisfy({ $0.isFinite && abs($0) < limit }) else { return nil }
        let wholeMonths = months.rounded(.towardZero)
        let allDays = days + (months - wholeMonths) * 30.436875
        let wholeDays = allDays.rounded(.towardZero)
        let allSeconds = seconds + (allDays - wholeDays) * 86_400
        let wholeSeconds = allSeconds.rounded(.towardZero)
        let allNanos = nanos + ((allSeconds - wholeSeconds) * 1e9).rounded()
        guard abs(allDays) < limit, abs(allSeconds) < limit, abs(allNanos) < limit else { return nil }
        return CypherDuration(months: Int64(wholeMonths), days: Int64(wholeDays), seconds: Int64(wholeSeconds),
                              nanos: Int64(allNanos))
    }

    /// Neo4j's text: `P1Y2M3DT4H5M6.007S`, components with their own signs, zero ones left out,
    /// `PT0S` for nothing.
    public var description: String {
        var out = "P"
        let years = months / 12, monthsOfYear = months % 12
        if years != 0 { out += "\(years)Y" }
        if monthsOfYear != 0 { out += "\(monthsOfYear)M" }
        if days != 0 { out += "\(days)D" }
        // The time part reads the total as one signed amount: -1 s + 0.9 s prints -0.1 s.
        var s = seconds, n = nanos
        if s < 0 && n > 0 { s += 1; n = n - 1_000_000_000 }
        if s != 0 || n != 0 {
            out += "T"
            let hours = s / 3600, minutes = (s / 60) % 60, secs = s % 60
            if hours != 0 { out += "\(hours)H" }
            if minutes != 0 { out += "\(minutes)M" }
            if secs != 0 || n != 0 {
                if secs == 0 && n < 0 { out += "-" }
                out += "\(secs)"
                if n != 0 {
                    var digits = String(abs(n))
                    digits = String(repeating: "0", count: 9 - digits.count) + digits
                    while digits.last == "0" { digits.removeLast() }
                    out += "." + digits
                }
                out += "S"
            }
        }
        return out == "P" ? "PT0S" : out
    }
}
