/// Temporal values as text: what Neo4j prints (`toString`, the TCK's expected values) and the
/// ISO 8601 forms `date('...')` and its siblings accept.
extension Temporal: CustomStringConvertible {
    /// Neo4j's text: `2015-07-21`, `21:40:32.142`, `21:40:32.142+01:00`,
    /// `2015-07-21T21:40:32.142+02:00[Europe/Stockholm]`, `P14DT16H12M`.
    public var description: String {
        switch self {
        case .date(let day): return Self.dateText(day)
        case .localTime(let nano): return Self.timeText(nano)
        case .time(let nano, let offset): return Self.timeText(nano) + Self.offsetText(offset)
        case .localDateTime(let day, let nano): return Self.dateText(day) + "T" + Self.timeText(nano)
        case .dateTime(let day, let nano, let offset, let zone):
            return Self.dateText(day) + "T" + Self.timeText(nano) + Self.offsetText(offset) + (zone.map { "[\($0)]" } ?? "")
        case .duration(let d): return d.description
        }
    }

    private static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value.magnitude)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// `yyyy-MM-dd`, with a sign and more digits outside years 0-9999 (as java.time prints).
    static func dateText(_ epochDay: Int64) -> String {
        let (y, m, d) = CivilCalendar.civil(epochDay)
        let year = y < 0 ? "-" + padded(y, 4) : y > 9999 ? "+" + padded(y, 4) : padded(y, 4)
        return year + "-" + padded(m, 2) + "-" + padded(d, 2)
    }

    /// `HH:mm`, then `:ss` when seconds or nanoseconds are not zero, then the fraction in
    /// groups of three digits (java.time's form).
    static func timeText(_ nanoOfDay: Int64) -> String {
        let seconds = nanoOfDay / 1_000_000_000, nanos = nanoOfDay % 1_000_000_000
        var out = padded(seconds / 3600, 2) + ":" + padded(seconds / 60 % 60, 2)
        guard seconds % 60 != 0 || nanos != 0 else { return out }
        out += ":" + padded(seconds % 60, 2)
        if nanos != 0 {
            if nanos % 1_000_000 == 0 { out += "." + padded(nanos / 1_000_000, 3) }
            else if nanos % 1000 == 0 { out += "." + padded(nanos / 1000, 6) }
            else { out += "." + padded(nanos, 9) }
        }
        return out
    }

    /// `Z`, `+01:00` or `+02:05:59`.
    static func offsetText(_ offsetSeconds: Int32) -> String {
        guard offsetSeconds != 0 else { return "Z" }
        let s = Int64(offsetSeconds.magnitude)
        var out = (offsetSeconds < 0 ? "-" : "+") + padded(s / 3600, 2) + ":" + padded(s / 60 % 60, 2)
        if s % 60 != 0 { out += ":" + padded(s % 60, 2) }
        return out
    }
}

/// A parser of the ISO 8601 forms Cypher accepts, over the string's bytes. Every number it
/// reads is bounded in digits, so no input can overflow or loop.
struct TemporalTextParser {
    private let s: [UInt8]
    private var i = 0

    init(_ text: String) { s = Array(text.utf8) }

    var atEnd: Bool { i == s.count }
    private func peek(_ offset: Int = 0) -> UInt8? { i + offset < s.count ? s[i + offset] : nil }
    private mutating func eat(_ c: Character) -> Bool {
        guard let b = peek(), let a = c.asciiValue, b == a else { return false }
        i += 1
        return true
    }
    private func isDigit(_ offset: Int = 0) -> Bool { peek(offset).map { $0 >= 48 && $0 <= 57 } ?? false }
    private func digitRun() -> Int { var n = 0; while isDigit(n) { n += 1 }; return n }
    /// Exactly `count` digits as a number.
    private mutating func digits(_ count: Int) -> Int64? {
        guard count <= 18, digitRun() >= count else { return nil }
        var v: Int64 = 0
        for _ in 0..<count { v = v * 10 + Int64(s[i] - 48); i += 1 }
        return v
    }

    /// The fields of a date: year and month/day, week/dayOfWeek or ordinal day.
    enum DateFields { case calendar(Int64, Int64?, Int64?), week(Int64, Int64, Int64?), ordinal(Int64, Int64) }

    /// `2015-07-21`, `20150721`, `2015-07`, `201507`, `2015-W30-2`, `2015W302`, `2015-W30`,
    /// `2015-202`, `2015202`, `2015` (a year beyond four digits needs its sign).
    mutating func date() -> DateFields? {
        var sign: Int64 = 1
        var yearDigits = 4
        if let c = peek(), c == 43 || c == 45 {
            // A signed year may have 4 to 9 digits; it must then be followed by a separator.
            i += 1
            if c == 45 { sign = -1 }
            yearDigits = digitRun()
            guard (4...9).contains(yearDigits) else { return nil }
        }
        guard let y = digits(yearDigits) else { return nil }
        let year = sign * y
        let dashed = eat("-")
        if eat("W") {
            guard let week = digits(2) else { return nil }
            if dashed ? eat("-") : isDigit() {
                guard let day = digits(1) else { return nil }
                return .week(year, week, day)
            }
            return .week(year, week, nil)
        }
        let run = digitRun()
        if run == 3 { return digits(3).map { .ordinal(year, $0) } }
        guard run >= 2, let month = digits(2) else { return dashed ? nil : .calendar(year, nil, nil) }
        if dashed ? eat("-") : isDigit() {
            guard let day = digits(2) else { return nil }
            return .calendar(year, month, day)
        }
        return .calendar(year, month, nil)
    }

    /// `21:40:32.142`, `214032.142`, `21:40`, `2140`, `21`: hour, minute, second, nanosecond.
    mutating func time() -> (Int64, Int64, Int64, Int64)? {
        guard let hour = digits(2) else { return nil }
        let colon = eat(":")
        guard let minute = digits(2) else { return colon ? nil : (hour, 0, 0, 0) }
        guard colon ? eat(":") : isDigit() else { return (hour, minute, 0, 0) }
        guard let second = digits(2) else { return nil }
        var nanos: Int64 = 0
        if eat(".") || eat(",") {
            let run = digitRun()
            guard run >= 1, run <= 9, let fraction = digits(run) else { return nil }
            nanos = fraction
            for _ in run..<9 { nanos *= 10 }
        }
        return (hour, minute, second, nanos)
    }

    /// `Z`, `+01`, `+0100`, `+01:00`, `+01:00:30`: seconds east of UTC; nil when absent.
    /// Throws-free: a malformed offset leaves the parser not at its end.
    mutating func offset() -> Int32?? {
        if eat("Z") { return .some(0) }
        guard let c = peek(), c == 43 || c == 45 else { return .some(nil) }
        i += 1
        let sign: Int64 = c == 45 ? -1 : 1
        guard let hours = digits(2) else { return nil }
        var minutes: Int64 = 0, seconds: Int64 = 0
        let colon = eat(":")
        if colon || digitRun() >= 2 {
            guard let m = digits(2) else { return nil }
            minutes = m
            if colon ? eat(":") : digitRun() >= 2 {
                guard let sec = digits(2) else { return nil }
                seconds = sec
            }
        }
        guard hours <= 18, minutes < 60, seconds < 60 else { return nil }
        let total = sign * (hours * 3600 + minutes * 60 + seconds)
        guard Temporal.offsets.contains(Int32(total)) else { return nil }
        return .some(Int32(total))
    }

    /// `[Europe/Stockholm]`: the zone name inside brackets, nil when there is none.
    mutating func zoneName() -> String?? {
        guard eat("[") else { return .some(nil) }
        var name: [UInt8] = []
        while let c = peek(), c != 93 {
            name.append(c)
            i += 1
            if name.count > TimeZoneDatabase.maxNameBytes { return nil }
        }
        guard eat("]") else { return nil }
        return .some(String(decoding: name, as: UTF8.self))
    }

    /// Reads `T` between a date and a time.
    mutating func timeSeparator() -> Bool { eat("T") || eat("t") }

    /// An ISO 8601 duration: `P1Y2M3W4DT5H6M7.5S` (fractions and signs on any component) or
    /// `P2012-02-02T14:37:21.545`, with an optional sign before the P.
    mutating func duration() -> DurationSum? {
        var sign: Int64 = 1
        if eat("-") { sign = -1 } else { _ = eat("+") }
        guard eat("P") else { return nil }
        var sum = DurationSum()
        let units = DurationSum.units
        func unit(_ name: String) -> DurationSum.Unit { units[name] ?? DurationSum.Unit(field: .nanos, factor: 0) }
        // The alternative form: a date-time after P.
        if digitRun() == 4, peek(4) == 45 {
            guard case .calendar(let y, let m?, let d?)? = date(), timeSeparator(), let (h, mi, sec, n) = time() else { return nil }
            for (amount, name) in [(y, "years"), (m, "months"), (d, "days"), (h, "hours"), (mi, "minutes"), (sec, "seconds"), (n, "nanoseconds")] {
                sum.add(sign * amount, unit(name))
            }
            return sum
        }
        var inTime = false
        var any = false
        while !atEnd {
            if !inTime && timeSeparator() { inTime = true; continue }
            guard let (whole, fraction) = number(), let designator = peek() else { return nil }
            i += 1
            any = true
            let name: String
            switch (inTime, designator) {
            case (false, 89): name = "years"        // Y
            case (false, 77): name = "months"       // M
            case (false, 87): name = "weeks"        // W
            case (false, 68): name = "days"         // D
            case (true, 72): name = "hours"         // H
            case (true, 77): name = "minutes"       // M
            case (true, 83): name = "seconds"       // S
            default: return nil
            }
            sum.add(sign * whole, unit(name))
            if fraction != 0 {
                // A fraction of a second is exact in nanoseconds; others cascade.
                if name == "seconds" { sum.add(sign * Int64((fraction * 1e9).rounded()), unit("nanoseconds")) }
                else { sum.add(Double(sign) * fraction, unit(name)) }
            }
        }
        return any ? sum : nil
    }

    /// A signed decimal of at most 18 integer and 9 fraction digits.
    private mutating func number() -> (Int64, Double)? {
        var sign: Int64 = 1
        if eat("-") { sign = -1 } else { _ = eat("+") }
        let run = digitRun()
        guard run >= 1, run <= 18, let whole = digits(run) else { return nil }
        var fraction = 0.0
        if eat(".") || eat(",") {
            let f = digitRun()
            guard f >= 1, f <= 9, let digits = digits(f) else { return nil }
            var scale = 1.0
            for _ in 0..<f { scale *= 10 }
            fraction = Double(digits) / scale
        }
        return (sign * whole, Double(sign) * fraction)
    }
}
