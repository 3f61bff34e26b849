/// The components Cypher reads off a temporal value (`d.year`, `t.offsetMinutes`,
/// `dur.monthsOfYear`...), and the parts other code takes apart.
extension Temporal {
    /// The day, if the type has one.
    var epochDay: Int64? {
        switch self {
        case .date(let d), .localDateTime(let d, _), .dateTime(let d, _, _, _): return d
        default: return nil
        }
    }

    /// The time of day, if the type has one.
    var nanoOfDay: Int64? {
        switch self {
        case .localTime(let n), .time(let n, _), .localDateTime(_, let n), .dateTime(_, let n, _, _): return n
        default: return nil
        }
    }

    /// The offset from UTC, if the type has a time zone.
    var offsetSeconds: Int32? {
        switch self {
        case .time(_, let o), .dateTime(_, _, let o, _): return o
        default: return nil
        }
    }

    /// The value of component `key` (case-insensitive, as Neo4j reads them); nil when the type
    /// has no such component.
    public func component(_ key: String) -> Value? {
        let k = key.lowercased()
        if case .duration(let d) = self { return d.component(k) }
        if let day = epochDay, let v = Self.dateComponent(k, day) { return .int(v) }
        if let nano = nanoOfDay, let v = Self.timeComponent(k, nano) { return .int(v) }
        if let offset = offsetSeconds {
            switch k {
            case "timezone":
                if case .dateTime(_, _, _, let zone?) = self { return .string(zone) }
                return .string(Self.offsetText(offset))
            case "offset": return .string(Self.offsetText(offset))
            case "offsetminutes": return .int(Int64(offset) / 60)
            case "offsetseconds": return .int(Int64(offset))
            default: break
            }
        }
        if let (seconds, nanos) = epochSecond {
            switch k {
            case "epochseconds": return .int(seconds)
            case "epochmillis":
                let (ms, o1) = seconds.multipliedReportingOverflow(by: 1000)
                let (total, o2) = ms.addingReportingOverflow(nanos / 1_000_000)
                return o1 || o2 ? nil : .int(total)
            default: break
            }
        }
        return nil
    }

    private static func dateComponent(_ k: String, _ day: Int64) -> Int64? {
        let (y, m, d) = CivilCalendar.civil(day)
        switch k {
        case "year": return y
        case "quarter": return (m - 1) / 3 + 1
        case "month": return m
        case "week": return CivilCalendar.weekDate(day).week
        case "weekyear": return CivilCalendar.weekDate(day).weekYear
        case "day": return d
        case "ordinalday": return CivilCalendar.ordinalDay(day)
        case "weekday", "dayofweek": return CivilCalendar.dayOfWeek(day)
        case "dayofquarter": return day - CivilCalendar.quarterStart(y, (m - 1) / 3 + 1) + 1
        default: return nil
        }
    }

    private static func timeComponent(_ k: String, _ nano: Int64) -> Int64? {
        switch k {
        case "hour": return nano / 3_600_000_000_000
        case "minute": return nano / 60_000_000_000 % 60
        case "second": return nano / 1_000_000_000 % 60
        case "millisecond": return nano % 1_000_000_000 / 1_000_000
        case "microsecond": return nano % 1_000_000_000 / 1000
        case "nanosecond": return nano % 1_000_000_000
        default: return nil
        }
    }
}

extension CypherDuration {
    /// Component `k` (lower case): totals in a unit (`months`, `seconds`) and the part of a
    /// larger unit (`monthsOfYear`, `secondsOfMinute`), as Neo4j names them.
    func component(_ k: String) -> Value? {
        // Sub-second totals read the whole amount as one signed number of nanoseconds.
        func total(_ perSecond: Int64, _ nanosPerUnit: Int64) -> Value? {
            let (s, o1) = seconds.multipliedReportingOverflow(by: perSecond)
            let (total, o2) = s.addingReportingOverflow(nanos / nanosPerUnit)
            return o1 || o2 ? nil : .int(total)
        }
        switch k {
        case "years": return .int(months / 12)
        case "quarters": return .int(months / 3)
        case "months": return .int(months)
        case "weeks": return .int(days / 7)
        case "days": return .int(days)
        case "hours": return .int(seconds / 3600)
        case "minutes": return .int(seconds / 60)
        case "seconds": return .int(seconds)
        case "milliseconds": return total(1000, 1_000_000)
        case "microseconds": return total(1_000_000, 1000)
        case "nanoseconds": return total(1_000_000_000, 1)
        case "quartersofyear": return .int(months % 12 / 3)
        case "monthsofquarter": return .int(months % 3)
        case "monthsofyear": return .int(months % 12)
        case "daysofweek": return .int(days % 7)
        case "minutesofhour": return .int(seconds / 60 % 60)
        case "secondsofminute": return .int(seconds % 60)
        case "millisecondsofsecond": return .int(nanos / 1_000_000)
        case "microsecondsofsecond": return .int(nanos / 1000)
        case "nanosecondsofsecond": return .int(nanos)
        default: return nil
        }
    }
}
