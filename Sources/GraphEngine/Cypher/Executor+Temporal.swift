#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporal functions: `date()`, `localtime()`, `time()`, `localdatetime()`, `datetime()`,
/// `duration()` from a map, a string, another temporal value or (no argument) the statement's
/// clock, and the namespaced ones (`datetime.fromepoch`, `duration.between`...). Bad input is
/// an ArgumentError (a value out of range, a malformed string, an unknown zone) or a TypeError
/// (not a map, string or temporal value), never a crash.
extension Executor {
    /// Names `temporalFunction(_:_:)` answers.
    static let temporalNames = Set<String>([
        "date", "localtime", "time", "localdatetime", "datetime", "duration",
        "datetime.fromepoch", "datetime.fromepochmillis",
        "duration.between", "duration.inmonths", "duration.indays", "duration.inseconds",
    ]).union(["date", "localtime", "time", "localdatetime", "datetime"].flatMap { type in
        ["truncate", "statement", "transaction", "realtime"].map { type + "." + $0 }
    })

    /// An ArgumentError about a temporal value.
    func temporalError(_ m: ErrorText) -> GraphError { GraphError(.runtime, "invalid temporal argument: \(m.text)", cypherClass: .argumentError) }

    /// The value of temporal function `name`, or nil when `name` is not one.
    func temporalFunction(_ name: String, _ a: [Value]) throws(GraphError) -> Value? {
        guard Self.temporalNames.contains(name) else { return nil }
        func arity(_ counts: ClosedRange<Int>) throws(GraphError) {
            guard counts.contains(a.count) else { throw GraphError(.semantic, "\(name)() takes \(counts.lowerBound) to \(counts.upperBound) argument(s), got \(a.count)") }
        }
        switch name {
        case "duration":
            try arity(1...1)
            return try durationValue(a[0])
        case "datetime.fromepoch", "datetime.fromepochmillis":
            try arity(name == "datetime.fromepoch" ? 2...2 : 1...1)
            if a.contains(where: \.isNull) { return .null }
            guard case .int(let first) = a[0] else { throw typeError("\(name)() needs integers, got \(a[0])") }
            var seconds = first, nanos: Int64 = 0
            if name == "datetime.fromepochmillis" {
                seconds = CivilCalendar.floorDiv(first, 1000); nanos = CivilCalendar.floorMod(first, 1000) * 1_000_000
            } else {
                guard case .int(let n) = a[1] else { throw typeError("\(name)() needs integers, got \(a[1])") }
                guard (0..<1_000_000_000).contains(n) else { throw temporalError("nanoseconds must be 0 to 999999999, got \(n)") }
                nanos = n
            }
            let day = CivilCalendar.floorDiv(seconds, 86_400)
            guard let t = Temporal.fromInstant(epochDay: day, nanoOfDay: CivilCalendar.floorMod(seconds, 86_400) * 1_000_000_000 + nanos,
                                               zone: nil, fixedOffset: 0) else { throw temporalError("\(Temporal.outOfRange)") }
            return .temporal(t)
        case "duration.between", "duration.inmonths", "duration.indays", "duration.inseconds":
            try arity(2...2)
            if a.contains(where: \.isNull) { return .null }
            guard case .temporal(let x) = a[0], case .temporal(let y) = a[1] else {
                throw typeError("\(name)() needs two temporal values, got \(a[0]) and \(a[1])")
            }
            let unit: DurationUnit = name == "duration.inmonths" ? .months : name == "duration.indays" ? .days : name == "duration.inseconds" ? .seconds : .all
            guard let d = Temporal.between(x, y, unit: unit) else { throw temporalError("\(name)() cannot compare \(a[0]) and \(a[1])") }
            return .temporal(.duration(d))
        default:
            if name.hasSuffix(".truncate") { return try truncate(String(name.dropLast(".truncate".count)), a) }
            if let dot = name.firstIndex(of: ".") {
                // `date.statement()`, `.transaction()`, `.realtime()`: the clock, optionally in a
                // zone. A query is one statement and one transaction here, and the clock is
                // read once per query, so all three give the statement's time.
                let type = String(name[..<dot])
                try arity(0...1)
                switch a.first {
                case nil: return try construct(type, from: .map([:]), now: true)
                case .null?: return .null
                case .string(let zone)?: return try construct(type, from: .map(["timezone": .string(zone)]), now: true)
                case let other?: throw typeError("\(name)() takes a time zone name, got \(other)")
                }
            }
            try arity(0...1)
            guard let first = a.first else { return try construct(name, from: .map([:]), now: true) }
            if first.isNull { return .null }
            return try construct(name, from: first, now: false)
        }
    }

    /// `date(x)` and its siblings for one argument (or the statement's clock when `now`).
    private func construct(_ type: String, from x: Value, now: Bool) throws(GraphError) -> Value {
        switch x {
        case .string(let s): return .temporal(try parse(type, s))
        case .map(let m):
            var fields: [String: Value] = [:]
            for (k, v) in m { fields[k.lowercased()] = v }
            if now || fields.keys.allSatisfy({ $0 == "timezone" }) {
                // The statement's time, seen in the map's zone if it names one (today's date
                // there may not be today's date in UTC).
                var base = statementTime
                if let zone = fields["timezone"], !zone.isNull { base = try fromMap("datetime", ["datetime": .temporal(base), "timezone": zone]) }
                fields = ["datetime": .temporal(base)].merging(fields) { $1 }
            }
            return .temporal(try fromMap(type, fields))
        case .temporal(let t):
            if case .duration = t { throw typeError("\(type)() cannot take a duration") }
            let key = t.epochDay != nil && t.nanoOfDay != nil ? "datetime" : t.epochDay != nil ? "date" : "time"
            return .temporal(try fromMap(type, [key: x]))
        default:
            throw typeError("\(type)() needs a map, a string or a temporal value, got \(x)")
        }
    }

    /// The statement's clock as a UTC datetime: one reading per query (see
    /// `GraphDatabase.wallClock`).
    var statementTime: Temporal {
        let nanos = statementEpochNanos
        return Temporal.fromInstant(epochDay: CivilCalendar.floorDiv(nanos, Temporal.nanosPerDay),
                                    nanoOfDay: CivilCalendar.floorMod(nanos, Temporal.nanosPerDay), zone: nil, fixedOffset: 0)
            ?? .dateTime(epochDay: 0, nanoOfDay: 0, offsetSeconds: 0, zone: nil)
    }

    /// An integer field of a map, nil when absent; a TypeError when not an integer.
    private func intField(_ m: [String: Value], _ key: String) throws(GraphError) -> Int64? {
        switch m[key] {
        case nil, .null?: return nil
        case .int(let i)?: return i
        case let v?: throw typeError("temporal field '\(key)' must be an integer, got \(v)")
        }
    }

    private func check(_ value: Int64, _ range: ClosedRange<Int64>, _ what: String) throws(GraphError) {
        guard range.contains(value) else { throw temporalError("\(what) must be \(range.lowerBound) to \(range.upperBound), got \(value)") }
    }

    /// A temporal value of `type` from map fields (keys in lower case): calendar, week,
    /// ordinal or quarter dates, time fields, `timezone`, and `date`/`time`/`datetime` values
    /// whose fields the others override.
    private func fromMap(_ type: String, _ m: [String: Value]) throws(GraphError) -> Temporal {
        let known: Set<String> = ["year", "month", "day", "week", "dayofweek", "ordinalday", "quarter", "dayofquarter", "hour",
                                  "minute", "second", "millisecond", "microsecond", "nanosecond", "timezone", "date", "time", "datetime"]
        if let unknown = m.keys.sorted().first(where: { !known.contains($0) }) { throw temporalError("\(type)() has no field '\(unknown)'") }
        var baseDate: Temporal? = nil, baseTime: Temporal? = nil
        for key in ["datetime", "date", "time"] {
            guard let v = m[key], !v.isNull else { continue }
            guard case .temporal(let t) = v, t.epochDay != nil || t.nanoOfDay != nil else { throw typeError("temporal field '\(key)' must be a temporal value, got \(v)") }
            if key != "time", t.epochDay != nil, baseDate == nil { baseDate = t }
            if key != "date", t.nanoOfDay != nil, baseTime == nil { baseTime = t }
        }
        let needsDate = type == "date" || type == "localdatetime" || type == "datetime"
        let needsTime = type != "date"
        let zoned = type == "time" || type == "datetime"
        var day: Int64 = 0
        if needsDate { day = try dateFields(m, baseDate) }
        var nano: Int64 = 0
        if needsTime { nano = try timeFields(m, baseTime) }
        // The zone: the map's, else the base's, else UTC.
        var zone: String? = nil, offset: Int32 = 0
        let source = baseTime ?? baseDate
        if case .dateTime(_, _, let o, let z)? = source { zone = z; offset = o } else if case .time(_, let o)? = source { offset = o }
        if zoned, let tz = m["timezone"], !tz.isNull {
            guard case .string(let text) = tz else { throw typeError("timezone must be a string, got \(tz)") }
            let (newOffset, newZone) = try parseZone(text)
            // A base with a zone keeps its instant and is shown in the new zone.
            if let source, let old = source.offsetSeconds, !m.keys.contains(where: { !["timezone", "date", "time", "datetime"].contains($0) }) {
                let utc = nano - Int64(old) * 1_000_000_000
                if type == "time" {
                    let o = try newZone.map { (n) throws(GraphError) -> Int32 in try zoneOffsetNow(n) } ?? newOffset
                    return .time(nanoOfDay: CivilCalendar.floorMod(utc + Int64(o) * 1_000_000_000, Temporal.nanosPerDay), offsetSeconds: o)
                }
                guard let t = Temporal.fromInstant(epochDay: day, nanoOfDay: utc, zone: newZone, fixedOffset: newOffset) else { throw temporalError("\(Temporal.outOfRange)") }
                return t
            }
            zone = newZone; offset = newOffset
        }
        switch type {
        case "date": return .date(epochDay: day)
        case "localtime": return .localTime(nanoOfDay: nano)
        case "localdatetime": return .localDateTime(epochDay: day, nanoOfDay: nano)
        case "time":
            if let zone { offset = try zoneOffsetNow(zone) }
            return .time(nanoOfDay: nano, offsetSeconds: offset)
        default:
            guard let t = Temporal.zoned(epochDay: day, nanoOfDay: nano, zone: zone, fixedOffset: offset) else {
                throw temporalError("\(Temporal.outOfRange), or the time zone \(zone ?? "") is unknown")
            }
            return t
        }
    }

    /// The day a map's date fields name (see `fromMap`).
    private func dateFields(_ m: [String: Value], _ base: Temporal?) throws(GraphError) -> Int64 {
        let year = try intField(m, "year"), month = try intField(m, "month"), dayOfMonth = try intField(m, "day")
        let week = try intField(m, "week"), dayOfWeek = try intField(m, "dayofweek")
        let ordinal = try intField(m, "ordinalday"), quarter = try intField(m, "quarter"), dayOfQuarter = try intField(m, "dayofquarter")
        let baseDay = base?.epochDay
        if let year { try check(year, Temporal.years, "year") }
        if week != nil || dayOfWeek != nil {
            let baseWeek = baseDay.map(CivilCalendar.weekDate)
            guard let weekYear = year ?? baseWeek?.weekYear, let w = week ?? baseWeek?.week else {
                throw temporalError("a week date needs year and week")
            }
            let dow = dayOfWeek ?? baseDay.map(CivilCalendar.dayOfWeek) ?? 1
            try check(w, 1...CivilCalendar.weeksInWeekYear(weekYear), "week")
            try check(dow, 1...7, "dayOfWeek")
            return try inRange(CivilCalendar.weekYearStart(weekYear) + (w - 1) * 7 + dow - 1)
        }
        let baseCivil = baseDay.map(CivilCalendar.civil)
        guard let y = year ?? baseCivil?.year else { throw temporalError("a date needs a year") }
        if let ordinal {
            try check(ordinal, 1...(CivilCalendar.isLeap(y) ? 366 : 365), "ordinalDay")
            return try inRange(CivilCalendar.epochDay(year: y, month: 1, day: 1) + ordinal - 1)
        }
        if quarter != nil || dayOfQuarter != nil {
            guard let q = quarter else { throw temporalError("dayOfQuarter needs a quarter") }
            try check(q, 1...4, "quarter")
            let start = CivilCalendar.quarterStart(y, q)
            let length = (q == 4 ? CivilCalendar.epochDay(year: y + 1, month: 1, day: 1) : CivilCalendar.quarterStart(y, q + 1)) - start
            let dq = dayOfQuarter ?? 1
            try check(dq, 1...length, "dayOfQuarter")
            return try inRange(start + dq - 1)
        }
        if dayOfMonth != nil && month == nil && baseCivil == nil { throw temporalError("day needs a month") }
        let mo = month ?? baseCivil?.month ?? 1
        try check(mo, 1...12, "month")
        let d = dayOfMonth ?? (month == nil ? baseCivil?.day : nil) ?? 1
        try check(d, 1...CivilCalendar.daysInMonth(y, mo), "day")
        return try inRange(CivilCalendar.epochDay(year: y, month: mo, day: d))
    }

    private func inRange(_ day: Int64) throws(GraphError) -> Int64 {
        guard CivilCalendar.inRange(day) else { throw temporalError("\(Temporal.outOfRange)") }
        return day
    }

    /// The time of day a map's time fields name: a smaller unit needs the larger ones.
    private func timeFields(_ m: [String: Value], _ base: Temporal?) throws(GraphError) -> Int64 {
        let hour = try intField(m, "hour"), minute = try intField(m, "minute"), second = try intField(m, "second")
        let ms = try intField(m, "millisecond"), us = try intField(m, "microsecond"), ns = try intField(m, "nanosecond")
        let baseNano = base?.nanoOfDay
        if base == nil {
            if minute != nil && hour == nil { throw temporalError("minute needs an hour") }
            if second != nil && minute == nil { throw temporalError("second needs a minute") }
            if (ms != nil || us != nil || ns != nil) && second == nil { throw temporalError("fractions of a second need a second") }
        }
        func part(_ divisor: Int64, _ modulo: Int64) -> Int64 { (baseNano ?? 0) / divisor % modulo }
        let h = hour ?? part(3_600_000_000_000, 24), mi = minute ?? part(60_000_000_000, 60), s = second ?? part(1_000_000_000, 60)
        try check(h, 0...23, "hour"); try check(mi, 0...59, "minute"); try check(s, 0...59, "second")
        var fraction = part(1, 1_000_000_000)
        if ms != nil || us != nil || ns != nil {
            if let ms { try check(ms, 0...999, "millisecond") }
            if let us { try check(us, 0...(ms == nil ? 999_999 : 999), "microsecond") }
            if let ns { try check(ns, 0...(ms == nil && us == nil ? 999_999_999 : 999), "nanosecond") }
            fraction = (ms ?? 0) * 1_000_000 + (us ?? 0) * 1000 + (ns ?? 0)
        }
        return ((h * 60 + mi) * 60 + s) * 1_000_000_000 + fraction
    }

    /// A `timezone` value: `Z`, an offset (`+01:00`) or a zone name known to the database.
    private func parseZone(_ text: String) throws(GraphError) -> (offset: Int32, zone: String?) {
        var p = TemporalTextParser(text)
        if let c = text.first, c == "+" || c == "-" || c == "Z" {
            guard case .some(.some(let offset)) = p.offset(), p.atEnd else { throw temporalError("malformed time zone offset '\(text)'") }
            return (offset, nil)
        }
        guard TimeZoneDatabase.shared.rules(text) != nil else { throw temporalError("unknown time zone '\(text)'") }
        return (0, text)
    }

    /// The offset a named zone has at the statement's time (a `time` has no date to read
    /// its zone's offset at).
    private func zoneOffsetNow(_ zone: String) throws(GraphError) -> Int32 {
        guard let rules = TimeZoneDatabase.shared.rules(zone) else { throw temporalError("unknown time zone '\(zone)'") }
        return rules.offset(atEpochSecond: CivilCalendar.floorDiv(statementEpochNanos, 1_000_000_000))
    }

    /// A temporal value of `type` from its ISO 8601 text.
    private func parse(_ type: String, _ text: String) throws(GraphError) -> Temporal {
        func bad() -> GraphError { temporalError("'\(text.prefix(64))' is not a valid \(type) text") }
        var p = TemporalTextParser(text)
        var day: Int64 = 0, nano: Int64 = 0
        var offset: Int32?? = .some(nil)
        var zone: String?? = .some(nil)
        if type != "localtime" && type != "time" {
            guard let fields = p.date() else { throw bad() }
            var m: [String: Value] = [:]
            switch fields {
            case .calendar(let y, let mo, let d): m = ["year": .int(y)]; if let mo { m["month"] = .int(mo) }; if let d { m["day"] = .int(d) }
            case .week(let y, let w, let d): m = ["year": .int(y), "week": .int(w)]; if let d { m["dayofweek"] = .int(d) }
            case .ordinal(let y, let d): m = ["year": .int(y), "ordinalday": .int(d)]
            }
            day = try dateFields(m, nil)
            if type != "date", p.timeSeparator() {
                guard let (h, mi, s, n) = p.time() else { throw bad() }
                nano = try timeFields(["hour": .int(h), "minute": .int(mi), "second": .int(s), "nanosecond": .int(n)], nil)
            }
        } else {
            _ = p.timeSeparator()
            guard let (h, mi, s, n) = p.time() else { throw bad() }
            nano = try timeFields(["hour": .int(h), "minute": .int(mi), "second": .int(s), "nanosecond": .int(n)], nil)
        }
        if type == "time" || type == "datetime" {
            offset = p.offset()
            if type == "datetime" { zone = p.zoneName() }
        }
        guard p.atEnd, case .some(let givenOffset) = offset, case .some(let givenZone) = zone else { throw bad() }
        switch type {
        case "date": return .date(epochDay: day)
        case "localtime": return .localTime(nanoOfDay: nano)
        case "localdatetime": return .localDateTime(epochDay: day, nanoOfDay: nano)
        case "time": return .time(nanoOfDay: nano, offsetSeconds: givenOffset ?? 0)
        default:
            if let givenZone, TimeZoneDatabase.shared.rules(givenZone) == nil { throw temporalError("unknown time zone '\(givenZone)'") }
            guard let t = Temporal.zoned(epochDay: day, nanoOfDay: nano, zone: givenZone, fixedOffset: givenOffset ?? 0, preferring: givenOffset)
            else { throw bad() }
            return t
        }
    }

    /// `duration(x)`: from a map of (possibly fractional) units, an ISO 8601 duration text, or
    /// a duration (returned as it is).
    private func durationValue(_ x: Value) throws(GraphError) -> Value {
        switch x {
        case .null: return .null
        case .temporal(.duration): return x
        case .string(let s):
            var p = TemporalTextParser(s)
            guard let sum = p.duration(), p.atEnd else { throw temporalError("'\(s.prefix(64))' is not a valid duration text") }
            guard let result = sum.build() else { throw temporalError("duration out of range") }
            return .temporal(.duration(result))
        case .map(let m):
            var sum = DurationSum()
            for (key, v) in m {
                guard let unit = DurationSum.units[key.lowercased()] else { throw temporalError("duration() has no field '\(key)'") }
                switch v {
                case .null: continue
                case .int(let i): sum.add(i, unit)
                case .float(let f): sum.add(f, unit)
                default: throw typeError("duration field '\(key)' must be a number, got \(v)")
                }
            }
            guard let d = sum.build() else { throw temporalError("duration out of range") }
            return .temporal(.duration(d))
        default:
            throw typeError("duration() needs a map or a string, got \(x)")
        }
    }

    /// `<type>.truncate(unit, value[, fields])`: `value` cut down to the start of `unit`, then
    /// converted to `type` (with `fields` overriding, as a map to the constructor would).
    private func truncate(_ type: String, _ a: [Value]) throws(GraphError) -> Value {
        guard a.count == 2 || a.count == 3 else { throw GraphError(.semantic, "\(type).truncate() takes 2 or 3 arguments, got \(a.count)") }
        if a[1].isNull { return .null }
        guard case .string(let unitText) = a[0], case .temporal(let t) = a[1], t.epochDay != nil || t.nanoOfDay != nil else {
            throw typeError("\(type).truncate() needs a unit name and a temporal value, got \(a[0]) and \(a[1])")
        }
        let unit = unitText.lowercased()
        var fields: [String: Value] = [:]
        if a.count == 3 {
            guard case .map(let extra) = a[2] else { throw typeError("\(type).truncate() fields must be a map, got \(a[2])") }
            for (k, v) in extra { fields[k.lowercased()] = v }
        }
        var day = t.epochDay
        var nano = t.nanoOfDay ?? 0
        if let d = day {
            let (y, m, _) = CivilCalendar.civil(d)
            switch unit {
            case "millennium": day = CivilCalendar.epochDay(year: CivilCalendar.floorDiv(y, 1000) * 1000, month: 1, day: 1)
            case "century": day = CivilCalendar.epochDay(year: CivilCalendar.floorDiv(y, 100) * 100, month: 1, day: 1)
            case "decade": day = CivilCalendar.epochDay(year: CivilCalendar.floorDiv(y, 10) * 10, month: 1, day: 1)
            case "year": day = CivilCalendar.epochDay(year: y, month: 1, day: 1)
            case "weekyear": day = CivilCalendar.weekYearStart(CivilCalendar.weekDate(d).weekYear)
            case "quarter": day = CivilCalendar.quarterStart(y, (m - 1) / 3 + 1)
            case "month": day = CivilCalendar.epochDay(year: y, month: m, day: 1)
            case "week": day = d - CivilCalendar.dayOfWeek(d) + 1
            default: break
            }
            // The millennium, century or week-year of the earliest dates starts before them.
            if let truncated = day { day = try inRange(truncated) }
        }
        let timeUnits: [String: Int64] = ["day": Temporal.nanosPerDay, "hour": 3_600_000_000_000, "minute": 60_000_000_000,
                                          "second": 1_000_000_000, "millisecond": 1_000_000, "microsecond": 1000]
        let dateUnits: Set<String> = ["millennium", "century", "decade", "year", "weekyear", "quarter", "month", "week"]
        if dateUnits.contains(unit) { nano = 0 } else if let size = timeUnits[unit] { nano -= nano % size } else if unit != "nanosecond" {
            throw temporalError("unknown truncation unit '\(unitText)'")
        }
        if type == "date" || type == "localdatetime" || type == "datetime", day == nil {
            throw temporalError("\(type).truncate() needs a value with a date")
        }
        var base: Temporal
        switch t {
        case .time(_, let o): base = .time(nanoOfDay: nano, offsetSeconds: o)
        case .localTime: base = .localTime(nanoOfDay: nano)
        case .date: base = .date(epochDay: day ?? 0)
        case .localDateTime: base = .localDateTime(epochDay: day ?? 0, nanoOfDay: nano)
        default:
            if case .dateTime(_, _, let o, let z) = t {
                base = Temporal.zoned(epochDay: day ?? 0, nanoOfDay: nano, zone: z, fixedOffset: o, preferring: o) ?? t
            } else { base = t }
        }
        let key = base.epochDay != nil && base.nanoOfDay != nil ? "datetime" : base.epochDay != nil ? "date" : "time"
        fields[key] = .temporal(base)
        if unit == "week", fields["dayofweek"] != nil, let d = day { fields["week"] = .int(CivilCalendar.weekDate(d).week) }
        return .temporal(try fromMap(type, fields))
    }
}

extension Executor {
    /// `+ - * /` with a temporal operand: temporal ± duration, duration + temporal,
    /// duration ± duration, duration * number, number * duration, duration / number.
    func temporalArithmetic(_ op: String, _ a: Value, _ b: Value) throws(GraphError) -> Value {
        func result(_ t: Temporal?) throws(GraphError) -> Value {
            guard let t else { throw temporalError("\(Temporal.outOfRange)") }
            return .temporal(t)
        }
        switch (op, a, b) {
        case ("+", .temporal(let t), .temporal(.duration(let d))): return try result(t.adding(d))
        case ("+", .temporal(.duration(let d)), .temporal(let t)): return try result(t.adding(d))
        case ("-", .temporal(let t), .temporal(.duration(let d))):
            guard let n = d.negated else { throw temporalError("\(Temporal.outOfRange)") }
            return try result(t.adding(n))
        case ("*", .temporal(.duration(let d)), _), ("*", _, .temporal(.duration(let d))):
            let other = a.isTemporal ? b : a
            // An integer factor scales exactly; a float cascades its fractions (Neo4j).
            if case .int(let k) = other { return try result(d.multiplied(by: k).map(Temporal.duration)) }
            guard let factor = Semantics.number(other) else { throw typeError("cannot apply * to \(a) and \(b)") }
            return try result(d.scaled(by: factor).map(Temporal.duration))
        case ("/", .temporal(.duration(let d)), _):
            guard let divisor = Semantics.number(b) else { throw typeError("cannot apply / to \(a) and \(b)") }
            guard divisor != 0 else { throw temporalError("a duration cannot be divided by zero") }
            return try result(d.scaled(by: 1 / divisor).map(Temporal.duration))
        default:
            throw typeError("cannot apply \(op) to \(a) and \(b)")
        }
    }
}

extension Value {
    /// True for a temporal value.
    var isTemporal: Bool { if case .temporal = self { return true } else { return false } }
}
