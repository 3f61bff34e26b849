/// The rule at the end of a TZif file (RFC 8536 section 3.3): a POSIX TZ string such as
/// `CET-1CEST,M3.5.0,M10.5.0/3`, which gives a zone's offsets after its last listed
/// transition. Parsed over bytes with bounded numbers; nil for anything it does not read.
struct PosixZoneRule: Sendable {
    /// A day of the year on which daylight saving time starts or ends.
    enum Day: Sendable {
        /// `Mm.w.d`: weekday `d` (0 = Sunday) of week `w` (1-5, 5 = the last) of month `m`.
        case month(Int64, Int64, Int64)
        /// `Jn`: day 1-365, 29 February never counted.
        case julian(Int64)
        /// `n`: day 0-365, 29 February counted.
        case zeroBased(Int64)
    }

    /// Standard time's offset, seconds east of UTC.
    let standardOffset: Int32
    /// Daylight saving time's offset and when it starts and ends (times in seconds after local
    /// midnight: the start in standard time, the end in daylight time), if the zone has it.
    let daylight: (offset: Int32, start: Day, startSecond: Int64, end: Day, endSecond: Int64)?

    /// The offset in force at `epochSecond`.
    func offset(atEpochSecond epochSecond: Int64) -> Int32 {
        guard let daylight else { return standardOffset }
        let year = CivilCalendar.civil(CivilCalendar.floorDiv(epochSecond + Int64(standardOffset), 86_400)).year
        let start = Self.epochDay(daylight.start, year) * 86_400 + daylight.startSecond - Int64(standardOffset)
        let end = Self.epochDay(daylight.end, year) * 86_400 + daylight.endSecond - Int64(daylight.offset)
        // Northern zones have their summer inside the year; southern ones across its end.
        let inDaylight = start < end ? (epochSecond >= start && epochSecond < end) : !(epochSecond >= end && epochSecond < start)
        return inDaylight ? daylight.offset : standardOffset
    }

    private static func epochDay(_ day: Day, _ year: Int64) -> Int64 {
        let january1 = CivilCalendar.epochDay(year: year, month: 1, day: 1)
        switch day {
        case .julian(let n): return january1 + n - 1 + (CivilCalendar.isLeap(year) && n >= 60 ? 1 : 0)
        case .zeroBased(let n): return january1 + n
        case .month(let month, let week, let weekday):
            let first = CivilCalendar.epochDay(year: year, month: month, day: 1)
            let firstWeekday = CivilCalendar.dayOfWeek(first) % 7          // 0 = Sunday
            var day = first + (weekday - firstWeekday + 7) % 7 + (week - 1) * 7
            if day >= first + CivilCalendar.daysInMonth(year, month) { day -= 7 }
            return day
        }
    }

    init?(_ text: [UInt8]) {
        var p = Cursor(bytes: text)
        guard p.name(), let standard = p.offset(maxHours: 24) else { return nil }
        standardOffset = Int32(-standard)
        if p.atEnd { daylight = nil; return }
        guard p.name() else { return nil }
        var daylightOffset = -standard + 3600
        if !p.peek(",") {
            guard let o = p.offset(maxHours: 24) else { return nil }
            daylightOffset = -o
        }
        // Without a rule POSIX's default is the United States' (second Sunday of March to the
        // first of November).
        var rule: (Day, Int64, Day, Int64) = (.month(3, 2, 0), 7200, .month(11, 1, 0), 7200)
        if p.eat(",") {
            guard let start = p.day(), let startSecond = p.eat("/") ? p.offset(maxHours: 167) : 7200, p.eat(","),
                  let end = p.day(), let endSecond = p.eat("/") ? p.offset(maxHours: 167) : 7200 else { return nil }
            rule = (start, startSecond, end, endSecond)
        }
        guard p.atEnd else { return nil }
        daylight = (Int32(daylightOffset), rule.0, rule.1, rule.2, rule.3)
    }

    /// A cursor over the TZ string.
    private struct Cursor {
        let bytes: [UInt8]
        var i = 0
        var atEnd: Bool { i == bytes.count }
        func peek(_ c: Character) -> Bool { i < bytes.count && bytes[i] == c.asciiValue }
        mutating func eat(_ c: Character) -> Bool {
            guard peek(c) else { return false }
            i += 1
            return true
        }
        /// A zone abbreviation: three or more letters, or anything but `>` inside `<...>`.
        mutating func name() -> Bool {
            let start = i
            if eat("<") {
                while i < bytes.count, bytes[i] != UInt8(ascii: ">") { i += 1 }
                return eat(">") && i - start >= 5
            }
            while i < bytes.count, (bytes[i] | 0x20) >= UInt8(ascii: "a"), (bytes[i] | 0x20) <= UInt8(ascii: "z") { i += 1 }
            return i - start >= 3
        }
        /// A number of at most three digits.
        mutating func number() -> Int64? {
            var value: Int64 = 0, digits = 0
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57, digits < 3 { value = value * 10 + Int64(bytes[i] - 48); i += 1; digits += 1 }
            return digits == 0 ? nil : value
        }
        /// `[+-]hh[:mm[:ss]]` as seconds (positive west of UTC, as POSIX writes offsets).
        mutating func offset(maxHours: Int64) -> Int64? {
            let sign: Int64 = eat("-") ? -1 : (eat("+") ? 1 : 1)
            guard let hours = number(), hours <= maxHours else { return nil }
            var seconds = hours * 3600
            if eat(":") {
                guard let minutes = number(), minutes < 60 else { return nil }
                seconds += minutes * 60
                if eat(":") {
                    guard let s = number(), s < 60 else { return nil }
                    seconds += s
                }
            }
            return sign * seconds
        }
        mutating func day() -> Day? {
            if eat("M") {
                guard let m = number(), (1...12).contains(m), eat("."), let w = number(), (1...5).contains(w), eat("."),
                      let d = number(), (0...6).contains(d) else { return nil }
                return .month(m, w, d)
            }
            if eat("J") {
                guard let n = number(), (1...365).contains(n) else { return nil }
                return .julian(n)
            }
            guard let n = number(), (0...365).contains(n) else { return nil }
            return .zeroBased(n)
        }
    }
}
