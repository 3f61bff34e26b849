/// Temporal arithmetic: a duration added to or taken from a temporal value, durations added,
/// scaled and divided, and the duration between two temporal values (`duration.between` and
/// its `inMonths`, `inDays`, `inSeconds` forms). Every step is checked: a result outside the
/// year range or a field that would overflow is an error (nil here), never a wrapped number.
extension Temporal {
    /// The error text for a result past the supported range.
    static let outOfRange = "the result is outside the supported range of years \(Temporal.years.lowerBound) to \(Temporal.years.upperBound)"

    /// `self` moved by `d`: months and days on the local calendar (a day is a calendar day,
    /// 23 or 25 hours across a daylight-saving change), then seconds on the time line. A date
    /// takes whole days of the seconds; a time of day wraps around midnight. Nil out of range.
    func adding(_ d: CypherDuration) -> Temporal? {
        switch self {
        case .duration(let x): return x.adding(d).map(Temporal.duration)
        case .localTime(let n): return .localTime(nanoOfDay: Self.wrap(n, d))
        case .time(let n, let o): return .time(nanoOfDay: Self.wrap(n, d), offsetSeconds: o)
        case .date(let day):
            guard let shifted = Self.shiftDate(day, d) else { return nil }
            let (extra, overflow) = shifted.addingReportingOverflow(d.seconds / 86_400)
            return !overflow && CivilCalendar.inRange(extra) ? .date(epochDay: extra) : nil
        case .localDateTime(let day, let n):
            guard let shifted = Self.shiftDate(day, d), let (newDay, newNano) = Self.addSeconds(shifted, n, d) else { return nil }
            return .localDateTime(epochDay: newDay, nanoOfDay: newNano)
        case .dateTime(let day, let n, let offset, let zone):
            guard let shifted = Self.shiftDate(day, d) else { return nil }
            // The calendar step keeps the wall time; its offset is the zone's there.
            let local = Temporal.zoned(epochDay: shifted, nanoOfDay: n, zone: zone, fixedOffset: offset, preferring: offset)
            guard case .dateTime(let ld, let ln, let lo, _)? = local else { return nil }
            guard let (utcDay, utcNano) = Self.addSeconds(ld, ln - Int64(lo) * 1_000_000_000, d) else { return nil }
            return Temporal.fromInstant(epochDay: utcDay, nanoOfDay: utcNano, zone: zone, fixedOffset: offset)
        }
    }

    /// Day `day` plus the duration's months, then its days.
    private static func shiftDate(_ day: Int64, _ d: CypherDuration) -> Int64? {
        guard let afterMonths = d.months == 0 ? day : CivilCalendar.addMonths(day, d.months) else { return nil }
        let (afterDays, overflow) = afterMonths.addingReportingOverflow(d.days)
        return !overflow && CivilCalendar.inRange(afterDays) ? afterDays : nil
    }

    /// A time of day moved by the duration's seconds and nanoseconds, modulo a day.
    private static func wrap(_ nano: Int64, _ d: CypherDuration) -> Int64 {
        let delta = CivilCalendar.floorMod(d.seconds, 86_400) * 1_000_000_000 + d.nanos
        return CivilCalendar.floorMod(nano + delta, nanosPerDay)
    }

    /// Day and time of day (`nano` may lie outside the day, by less than a day either way)
    /// moved by the duration's seconds and nanoseconds.
    private static func addSeconds(_ day: Int64, _ nano: Int64, _ d: CypherDuration) -> (Int64, Int64)? {
        let total = nano + CivilCalendar.floorMod(d.seconds, 86_400) * 1_000_000_000 + d.nanos
        let (days1, o1) = day.addingReportingOverflow(CivilCalendar.floorDiv(d.seconds, 86_400))
        let (days2, o2) = days1.addingReportingOverflow(CivilCalendar.floorDiv(total, nanosPerDay))
        guard !o1, !o2, CivilCalendar.inRange(days2) else { return nil }
        return (days2, CivilCalendar.floorMod(total, nanosPerDay))
    }

    /// A datetime at local day and time in `zone` (named) or at `fixedOffset`. In a named zone
    /// the offset is `preferring` when that is valid there (an overlap keeps the one it had),
    /// otherwise the zone's; a wall time in a gap moves forward by the gap. Nil for an unknown
    /// zone or out of range.
    static func zoned(epochDay: Int64, nanoOfDay: Int64, zone: String?, fixedOffset: Int32, preferring: Int32? = nil) -> Temporal? {
        guard let zone else { return .dateTime(epochDay: epochDay, nanoOfDay: nanoOfDay, offsetSeconds: fixedOffset, zone: nil) }
        guard let rules = TimeZoneDatabase.shared.rules(zone) else { return nil }
        let localSecond = epochDay * 86_400 + nanoOfDay / 1_000_000_000
        var offset = rules.offset(forLocalSecond: localSecond)
        if let preferring, rules.offset(atEpochSecond: localSecond - Int64(preferring)) == preferring { offset = preferring }
        // In a gap the chosen offset is not the one in force at the resulting instant: re-read.
        let instant = localSecond - Int64(offset)
        let actual = rules.offset(atEpochSecond: instant)
        let utcNano = nanoOfDay - Int64(offset) * 1_000_000_000
        guard actual != offset else { return .dateTime(epochDay: epochDay, nanoOfDay: nanoOfDay, offsetSeconds: offset, zone: zone) }
        return fromInstant(epochDay: epochDay, nanoOfDay: utcNano, zone: zone, fixedOffset: actual)
    }

    /// The datetime at UTC day and time of day (`nanoOfDay` may lie outside the day by less
    /// than a day either way), shown in `zone` or at `fixedOffset`.
    static func fromInstant(epochDay: Int64, nanoOfDay: Int64, zone: String?, fixedOffset: Int32) -> Temporal? {
        var offset = fixedOffset
        if let zone {
            guard let rules = TimeZoneDatabase.shared.rules(zone) else { return nil }
            offset = rules.offset(atEpochSecond: epochDay * 86_400 + CivilCalendar.floorDiv(nanoOfDay, 1_000_000_000))
        }
        let local = nanoOfDay + Int64(offset) * 1_000_000_000
        let day = epochDay + CivilCalendar.floorDiv(local, nanosPerDay)
        guard CivilCalendar.inRange(day) else { return nil }
        return .dateTime(epochDay: day, nanoOfDay: CivilCalendar.floorMod(local, nanosPerDay), offsetSeconds: offset, zone: zone)
    }
}

extension CypherDuration {
    /// The sum, nil on overflow.
    func adding(_ o: CypherDuration) -> CypherDuration? {
        let (m, o1) = months.addingReportingOverflow(o.months)
        let (d, o2) = days.addingReportingOverflow(o.days)
        let (s, o3) = seconds.addingReportingOverflow(o.seconds)
        guard !o1, !o2, !o3 else { return nil }
        return CypherDuration(months: m, days: d, seconds: s, nanos: nanos + o.nanos)
    }

    /// The opposite duration, nil on overflow.
    var negated: CypherDuration? {
        guard months != .min, days != .min, seconds != .min else { return nil }
        return CypherDuration(months: -months, days: -days, seconds: -seconds, nanos: -nanos)
    }

    /// Each field times `k`, exactly; nil on overflow.
    func multiplied(by k: Int64) -> CypherDuration? {
        let (m, o1) = months.multipliedReportingOverflow(by: k)
        let (d, o2) = days.multipliedReportingOverflow(by: k)
        let (s, o3) = seconds.multipliedReportingOverflow(by: k)
        let (n, o4) = nanos.multipliedReportingOverflow(by: k)
        guard !o1, !o2, !o3, !o4 else { return nil }
        return CypherDuration(months: m, days: d, seconds: s, nanos: n)
    }

    /// Each field scaled by `factor`, fractions cascading as in construction (Neo4j).
    func scaled(by factor: Double) -> CypherDuration? {
        CypherDuration.approximate(months: Double(months) * factor, days: Double(days) * factor,
                                   seconds: Double(seconds) * factor, nanos: Double(nanos) * factor)
    }
}

/// What `duration.between` and its forms compute.
enum DurationUnit { case all, months, days, seconds }

extension Temporal {
    /// The duration from `a` to `b` in `unit` (see `duration.between`): nil when either is a
    /// duration or a zone is unknown. A value without a date borrows the other's; without a
    /// time it is at midnight; without a zone it is read in the other's. When either lacks a
    /// date, only the time between them counts.
    static func between(_ a: Temporal, _ b: Temporal, unit: DurationUnit) -> CypherDuration? {
        if case .duration = a { return nil }
        if case .duration = b { return nil }
        let hasDates = a.epochDay != nil && b.epochDay != nil
        var da = a.epochDay ?? b.epochDay ?? 0, db = b.epochDay ?? a.epochDay ?? 0
        let na = a.nanoOfDay ?? 0
        var nb = b.nanoOfDay ?? 0
        // The frame both are read in: a's zone, else b's, else none (local arithmetic).
        let zoneSource = a.offsetSeconds != nil ? a : b
        var zoneName: String? = nil
        if case .dateTime(_, _, _, let z) = zoneSource { zoneName = z }
        let fixed = zoneSource.offsetSeconds
        var offsetA: Int32 = 0
        if let fixed {
            guard let oa = a.offsetSeconds ?? localOffset(da, na, zoneName, fixed),
                  let ob = b.offsetSeconds ?? localOffset(db, nb, zoneName, fixed) else { return nil }
            offsetA = oa
            // b moved into a's frame: the same instant, shown at a's offset there.
            let utc = nb - Int64(ob) * 1_000_000_000
            guard case .dateTime(let d2, let n2, _, _)? = fromInstant(epochDay: db, nanoOfDay: utc, zone: zoneName, fixedOffset: oa)
            else { return nil }
            db = d2; nb = n2
        }
        func instantDiff(_ fromDay: Int64, _ fromNano: Int64) -> (Int64, Int64)? {
            var offFrom = offsetA, offTo: Int32 = offsetA
            if fixed != nil {
                guard let f = localOffset(fromDay, fromNano, zoneName, offsetA), let t = localOffset(db, nb, zoneName, offsetA) else { return nil }
                offFrom = f; offTo = t
            }
            let seconds = (db - fromDay) * 86_400 - Int64(offTo) + Int64(offFrom)
            return (seconds, nb - fromNano)
        }
        if !hasDates {
            da = db
            guard let (s, n) = instantDiff(da, na) else { return nil }
            return unit == .all || unit == .seconds ? CypherDuration(months: 0, days: 0, seconds: s, nanos: n) : CypherDuration(months: 0, days: 0, seconds: 0, nanos: 0)
        }
        if unit == .seconds {
            guard let (s, n) = instantDiff(da, na) else { return nil }
            return CypherDuration(months: 0, days: 0, seconds: s, nanos: n)
        }
        // java.time's rule: the end date counts only once its time of day is reached.
        func endDate(_ fromDay: Int64) -> Int64 {
            if db > fromDay && nb < na { return db - 1 }
            if db < fromDay && nb > na { return db + 1 }
            return db
        }
        var months: Int64 = 0
        if unit != .days {
            let end = endDate(da)
            let (y1, m1, d1) = CivilCalendar.civil(da), (y2, m2, d2) = CivilCalendar.civil(end)
            let packed1 = (y1 * 12 + m1 - 1) * 32 + d1, packed2 = (y2 * 12 + m2 - 1) * 32 + d2
            months = (packed2 - packed1) / 32
            if unit == .months { return CypherDuration(months: months, days: 0, seconds: 0, nanos: 0) }
            guard let shifted = months == 0 ? da : CivilCalendar.addMonths(da, months) else { return nil }
            da = shifted
        }
        let days = endDate(da) - da
        if unit == .days { return CypherDuration(months: 0, days: days, seconds: 0, nanos: 0) }
        guard let (s, n) = instantDiff(da + days, na) else { return nil }
        return CypherDuration(months: months, days: days, seconds: s, nanos: n)
    }

    /// The offset of local day and time in `zone` (named) or `fixed`.
    private static func localOffset(_ day: Int64, _ nano: Int64, _ zone: String?, _ fixed: Int32) -> Int32? {
        guard let zone else { return fixed }
        guard let rules = TimeZoneDatabase.shared.rules(zone) else { return nil }
        return rules.offset(forLocalSecond: day * 86_400 + nano / 1_000_000_000)
    }
}
