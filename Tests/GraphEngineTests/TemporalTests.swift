#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import GraphEngine
import VectorEngine

/// The one value `query` returns.
private func value(_ query: String, clock: WallClock = .fixed(epochNanos: 0)) throws -> Value {
    var db = GraphDatabase()
    db.wallClock = clock
    return try db.execute(query).rows.first?.first ?? .null
}

/// The text of the one temporal value `query` returns.
private func text(_ query: String) throws -> String {
    guard case .temporal(let t) = try value(query) else { return "not a temporal value" }
    return t.description
}

@Suite("temporal values: the calendar, text, zones, arithmetic and errors")
struct TemporalTests {
    @Test("the closed-form calendar agrees with counting days one by one across 1600-2400 and around year 0")
    func calendarAgainstDayByDayOracle() {
        for start: (Int64, Int64) in [(1600, 2400), (-2, 2)] {
            var day = CivilCalendar.epochDay(year: start.0, month: 1, day: 1)
            var weekday = CivilCalendar.dayOfWeek(day)
            for year in start.0...start.1 {
                for month: Int64 in 1...12 {
                    // The oracle: month lengths by the Gregorian rule, written out here.
                    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
                    let length: Int64 = month == 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].contains(month) ? 30 : 31
                    for d in 1...length {
                        let civil = CivilCalendar.civil(day)
                        guard civil == (year, month, d), CivilCalendar.epochDay(year: year, month: month, day: d) == day,
                              CivilCalendar.dayOfWeek(day) == weekday else {
                            Issue.record("day \(day): \(civil) != \(year)-\(month)-\(d)")
                            return
                        }
                        day += 1
                        weekday = weekday % 7 + 1
                    }
                }
            }
        }
        #expect(CivilCalendar.dayOfWeek(0) == 4)        // 1970-01-01 was a Thursday
    }

    @Test("ISO week dates: week 1 holds 4 January; 53-week years", arguments: [
        ("date({year: 2015, week: 53, dayOfWeek: 7})", "2016-01-03"),
        ("date({year: 2021, week: 1})", "2021-01-04"),
        ("date('2020-W53-5')", "2021-01-01"),
    ])
    func weekDates(query: String, expected: String) throws {
        #expect(try text("RETURN " + query) == expected)
    }

    @Test("text forms print as Neo4j does and read back to an equal value", arguments: [
        "date('-0044-03-15')", "date('+12345-01-01')", "localtime('23:59:59.999999999')", "time('00:00:00.5-02:30')",
        "localdatetime('2000-02-29T12:00')", "datetime('2016-12-31T23:59:59.123+14:00')",
        "datetime('2021-03-28T01:30[Europe/London]')", "duration('P1Y2M3W4DT5H6M7.000000008S')", "duration('PT-0.5S')",
    ])
    func textRoundTrip(literal: String) throws {
        let type = String(literal.prefix { $0 != "(" })
        let printed = try text("RETURN " + literal)
        #expect(try value("RETURN \(type)(toString(\(literal))) = \(literal)") == .bool(true), "\(literal) printed \(printed)")
    }

    @Test("named zones follow the installed tzdata: offsets across a daylight-saving year, gaps and overlaps")
    func namedZones() throws {
        #expect(try text("RETURN datetime({year: 2017, month: 1, day: 1, timezone: 'America/New_York'})") == "2017-01-01T00:00-05:00[America/New_York]")
        #expect(try text("RETURN datetime({year: 2017, month: 7, day: 1, timezone: 'America/New_York'})") == "2017-07-01T00:00-04:00[America/New_York]")
        // 02:30 on 2017-03-26 does not exist in Stockholm (clocks jump 02:00 -> 03:00): it moves on by the gap.
        #expect(try text("RETURN datetime({year: 2017, month: 3, day: 26, hour: 2, minute: 30, timezone: 'Europe/Stockholm'})")
                == "2017-03-26T03:30+02:00[Europe/Stockholm]")
        // 02:30 on 2017-10-29 happens twice: the earlier offset is taken, an explicit one is kept.
        #expect(try text("RETURN datetime('2017-10-29T02:30[Europe/Stockholm]')") == "2017-10-29T02:30+02:00[Europe/Stockholm]")
        #expect(try text("RETURN datetime('2017-10-29T02:30+01:00[Europe/Stockholm]')") == "2017-10-29T02:30+01:00[Europe/Stockholm]")
        // Adding a day keeps the wall time across the change; adding 24 hours does not.
        #expect(try text("RETURN datetime('2017-10-28T12:00[Europe/Stockholm]') + duration({days: 1})") == "2017-10-29T12:00+01:00[Europe/Stockholm]")
        #expect(try text("RETURN datetime('2017-10-28T12:00[Europe/Stockholm]') + duration({hours: 24})") == "2017-10-29T11:00+01:00[Europe/Stockholm]")
        #expect(try value("RETURN datetime('2017-10-28T12:00[Europe/Stockholm]').epochSeconds") == .int(1_509_184_800))
    }

    @Test("each zone's POSIX rule reproduces every transition its file lists from 2023 to 2037 (the file is the oracle), and answers past 2037", arguments: [
        "Europe/Stockholm", "America/New_York", "America/St_Johns", "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Auckland",
        "Europe/Dublin", "America/Santiago", "Asia/Tokyo", "Asia/Kolkata",
    ])
    func posixRuleMatchesListedTransitions(zone: String) throws {
        let rules = try #require(TimeZoneDatabase.shared.rules(zone))
        let footer = try #require(rules.footer, "\(zone) has no rule at the end of its file")
        // Rules changed in the past (St. John's in 2011, Santiago until 2019): from 2023 on,
        // every listed transition and every instant before the last one must agree.
        let from: Int64 = 1_672_531_200          // 2023-01-01T00:00Z
        let last = rules.transitions.last ?? from
        for (i, t) in rules.transitions.enumerated() where t >= from && i > 0 {
            #expect(footer.offset(atEpochSecond: t) == rules.offsetsAfter[i], "\(zone) at \(t)")
            #expect(footer.offset(atEpochSecond: t - 1) == rules.offsetsAfter[i - 1], "\(zone) before \(t)")
        }
        for t in stride(from: from, to: max(from, last), by: 86_400 * 3 + 3_607) {
            let listed = rules.offsetsAfter[(rules.transitions.lastIndex { $0 <= t }) ?? 0]
            #expect(footer.offset(atEpochSecond: t) == listed, "\(zone) at \(t)")
        }
        // Past 2037 the rule answers: summer and winter differ where the zone keeps daylight time.
        #expect(try text("RETURN datetime('2050-07-01T12:00[Europe/Stockholm]')") == "2050-07-01T12:00+02:00[Europe/Stockholm]")
        #expect(try text("RETURN datetime('2050-01-01T12:00[Europe/Stockholm]')") == "2050-01-01T12:00+01:00[Europe/Stockholm]")
        #expect(try text("RETURN datetime('2050-01-01T12:00[Australia/Sydney]')") == "2050-01-01T12:00+11:00[Australia/Sydney]")
    }

    @Test("the TZif reader refuses every truncation and corruption of a real file without crashing")
    func tzifReaderIsBounded() throws {
        var file: [UInt8] = []
        let fd = open("/usr/share/zoneinfo/Europe/Stockholm", O_RDONLY)
        try #require(fd >= 0)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            file += chunk[0..<n]
        }
        close(fd)
        let rules = try #require(ZoneRules(tzif: file))
        #expect(rules.offset(atEpochSecond: 1_500_000_000) == 7200)
        for cut in stride(from: 0, to: 600, by: 7) { _ = ZoneRules(tzif: Array(file[..<cut])) }
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<2000 {
            var damaged = file
            for _ in 0..<4 { damaged[Int(generator.next() % UInt64(damaged.count))] = UInt8(truncatingIfNeeded: generator.next()) }
            if let r = ZoneRules(tzif: damaged) { _ = r.offset(forLocalSecond: Int64(bitPattern: generator.next()) >> 30) }
        }
    }

    @Test("bad input is an ArgumentError or TypeError, never a crash", arguments: [
        ("RETURN date('2015-13-01')", CypherErrorClass.argumentError),
        ("RETURN date('2015-02-29')", .argumentError),
        ("RETURN date({year: 1000000000})", .argumentError),
        ("RETURN date({year: 2015, day: 3})", .argumentError),
        ("RETURN localtime({hour: 24})", .argumentError),
        ("RETURN localtime({minute: 3})", .argumentError),
        ("RETURN time('12:00+19:00')", .argumentError),
        ("RETURN datetime({year: 2015, timezone: 'Mars/Olympus'})", .argumentError),
        ("RETURN datetime({year: 2015, timezone: '../../../etc/passwd'})", .argumentError),
        ("RETURN datetime('2015-07-21T21:40[Europe]')", .argumentError),
        ("RETURN duration('P')", .argumentError),
        ("RETURN duration('P99999999999999999999Y')", .argumentError),
        ("RETURN duration({years: 1e300})", .argumentError),
        ("RETURN date({year: 999999999, month: 12, day: 31}) + duration({days: 1})", .argumentError),
        ("RETURN duration({seconds: 9000000000000000000}) + duration({seconds: 9000000000000000000})", .argumentError),
        ("RETURN date('2015-07-21').nope", .argumentError),
        ("RETURN date.truncate('millennium', date({year: -999999999}))", .argumentError),
        // Totals that do not fit 64 bits (seconds * 1000 fits, adding the milliseconds does not).
        ("RETURN duration({seconds: 9223372036854775, milliseconds: 999}).milliseconds", .argumentError),
        ("RETURN duration({seconds: 9223372036, nanoseconds: 999999999}).nanoseconds", .argumentError),
        ("RETURN date(42)", .typeError),
        ("RETURN date({year: '2015'})", .typeError),
        ("RETURN date('2015-07-21') + 1", .typeError),
        ("RETURN duration.between(date('2015-07-21'), 3)", .typeError),
    ])
    func errors(query: String, expected: CypherErrorClass) {
        let error = #expect(throws: GraphError.self) { try value(query) }
        #expect(error?.cypherClass == expected, "\(query): \(String(describing: error))")
    }

    @Test("datetime() reads the injected clock once per query; its zone form converts that instant")
    func clock() throws {
        let clock = WallClock.fixed(epochNanos: 1_500_000_000_123_000_000)
        #expect(try value("RETURN toString(datetime())", clock: clock) == .string("2017-07-14T02:40:00.123Z"))
        #expect(try value("RETURN toString(date())", clock: clock) == .string("2017-07-14"))
        #expect(try value("RETURN toString(datetime({timezone: 'Asia/Tokyo'}))", clock: clock) == .string("2017-07-14T11:40:00.123+09:00[Asia/Tokyo]"))
        // The date and time now in a zone: at 12:00Z it is already tomorrow in Kiritimati (+14:00).
        let noon = WallClock.fixed(epochNanos: 1_500_033_600_000_000_000)
        #expect(try value("RETURN toString(date({timezone: 'Pacific/Kiritimati'})), toString(date())", clock: noon) == .string("2017-07-15"))
        #expect(try value("RETURN toString(localtime({timezone: '-10:00'}))", clock: noon) == .string("02:00"))
        // A moving clock is still read once: every row sees the same instant.
        let counter = Counter()
        let moving = WallClock { counter.next() * 1_000_000_000 }
        #expect(try value("UNWIND range(1, 100) AS i WITH DISTINCT datetime() AS t RETURN count(t)", clock: moving) == .int(1))
    }

    @Test("durations: fractions cascade, arithmetic, between, ordering", arguments: [
        ("duration({months: 0.75})", "P22DT19H51M49.5S"),
        ("duration({hours: -1, seconds: 0.5})", "PT-59M-59.5S"),
        ("duration('P1M') * 3 - duration('P2M')", "P1M"),
        ("date('2016-01-31') + duration('P1M')", "2016-02-29"),
        ("duration.between(date('2016-01-31'), date('2016-02-29'))", "P29D"),
        ("duration.between(localtime('23:00'), localtime('01:00'))", "PT-22H"),
        ("duration.inSeconds(datetime('2017-03-26T00:00[Europe/Stockholm]'), datetime('2017-03-27T00:00[Europe/Stockholm]'))", "PT23H"),
        ("datetime.truncate('month', datetime('2017-10-29T12:34[Europe/Stockholm]'))", "2017-10-01T00:00+02:00[Europe/Stockholm]"),
        ("localtime.truncate('minute', localtime('12:34:56.789'))", "12:34"),
    ])
    func durations(query: String, expected: String) throws {
        #expect(try text("RETURN " + query) == expected)
    }

    @Test("ordering: temporal types sort apart, each by its own order; comparing across types is null")
    func ordering() throws {
        var db = GraphDatabase()
        let rows = try db.execute("""
            UNWIND [date('2020-01-02'), 'x', localtime('10:00'), date('2019-05-05'), datetime('2020-01-01T00:00+01:00'),
                    datetime('2019-12-31T23:30Z'), 1] AS v RETURN v ORDER BY v
            """).rows.map { $0[0] }
        let order = rows.map { row -> String in if case .temporal(let t) = row { return t.description } else { return row.description } }
        #expect(order == ["2020-01-01T00:00+01:00", "2019-12-31T23:30Z", "2019-05-05", "2020-01-02", "10:00", "'x'", "1"])
        #expect(try value("RETURN date('2020-01-01') < localdatetime('2020-01-02T00:00')") == .null)
        #expect(try value("RETURN time('10:00+01:00') < time('09:30Z')") == .bool(true))
    }

    @Test("temporal properties are stored, read back and compared in the graph")
    func storage() throws {
        var db = GraphDatabase()
        try db.execute("CREATE (:E {at: datetime('2015-07-21T21:40:32.142+01:00'), days: [date('2015-01-01'), date('2016-01-01')]})")
        let rows = try db.execute("MATCH (e:E) WHERE e.at > datetime('2015-07-21T20:00Z') RETURN e.at.hour, size(e.days)").rows
        #expect(rows == [[.int(21), .int(2)]])
    }
}

@Suite("temporal values: random hostile input")
struct TemporalRandomInputTests {
    private static let numbers = ["0", "1", "-1", "7", "12", "31", "53", "59", "60", "366", "999", "1000", "999999999", "1000000000",
                                  "-999999999", "9223372036854775807", "-9223372036854775808", "4611686018427387904", "0.5", "-2.75",
                                  "9223372036854775", "9223372036", "-9223372036854775", "86400", "-86401", "31556952000",
                                  "1e18", "-1e19", "1e300", "null", "'x'"]
    private static let keys = ["year", "month", "day", "week", "dayOfWeek", "ordinalDay", "quarter", "dayOfQuarter", "hour",
                               "minute", "second", "millisecond", "microsecond", "nanosecond"]
    private static let durationKeys = ["years", "months", "weeks", "days", "hours", "minutes", "seconds", "milliseconds", "nanoseconds"]
    private static let zones = ["'Z'", "'+18:00'", "'-18:00'", "'+01:30:15'", "'Europe/Stockholm'", "'America/St_Johns'", "'Nope/Nope'",
                                "'../x'", "'+99:00'", "''"]
    private static let texts = ["'2015-07-21T21:40:32.142+0100'", "'-999999999-01-01'", "'+999999999-12-31T23:59:59.999999999'",
                                "'P999999999999999Y'", "'PT-0.000000001S'", "'2015-W53-7'", "'2015-366'", "'2016-366'",
                                "'12:00[Europe/Stockholm]'", "'2015'", "'T'", "'P1.5Y2.5M'", "'20151301'", "'2015-07-21T24:00'"]

    /// Random constructions, arithmetic, between, truncation and components: a value or a
    /// classified error, never a crash; every temporal result is valid and reads back from its text.
    @Test(arguments: [20261206, 1, 2, 3] as [UInt64])
    func randomQueries(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        func pick(_ options: [String]) -> String { options[Int(generator.next() % UInt64(options.count))] }
        func map(_ fields: [String], zone: Bool) -> String {
            var entries: [String] = []
            for key in fields where generator.next() % 3 == 0 { entries.append("\(key): \(pick(Self.numbers))") }
            if zone && generator.next() % 2 == 0 { entries.append("timezone: \(pick(Self.zones))") }
            return "{" + entries.joined(separator: ", ") + "}"
        }
        func temporal() -> String {
            let type = pick(["date", "localtime", "time", "localdatetime", "datetime"])
            return generator.next() % 3 == 0 ? "\(type)(\(pick(Self.texts)))" : "\(type)(\(map(Self.keys, zone: true)))"
        }
        func duration() -> String {
            generator.next() % 3 == 0 ? "duration(\(pick(Self.texts)))" : "duration(\(map(Self.durationKeys, zone: false)))"
        }
        var answered = 0
        for _ in 0..<3000 {
            let expression: String
            switch generator.next() % 8 {
            case 6: expression = generator.next() % 2 == 0 ? "datetime.fromepoch(\(pick(Self.numbers)), \(pick(Self.numbers)))"
                                                             : "datetime.fromepochmillis(\(pick(Self.numbers)))"
            case 7:
                let units = ["millennium", "century", "decade", "year", "weekYear", "quarter", "month", "week", "day", "hour", "second", "microsecond", "fortnight"]
                expression = "\(pick(["date", "localtime", "time", "localdatetime", "datetime"])).truncate('\(pick(units))', \(temporal()))"
            case 0: expression = temporal()
            case 1: expression = "\(temporal()) + \(duration())"
            case 2: expression = "\(temporal()) - \(duration())"
            case 3: expression = "\(duration()) \(pick(["*", "/"])) \(pick(Self.numbers))"
            case 4: expression = "duration.\(pick(["between", "inMonths", "inDays", "inSeconds"]))(\(temporal()), \(temporal()))"
            default: expression = "\(temporal()).\(pick(Self.keys + ["epochMillis", "offset", "timezone", "weekYear"]))"
            }
            do {
                guard case .temporal(let t) = try value("RETURN " + expression) else { continue }
                answered += 1
                #expect(t.isValid, "\(expression) gave \(t)")
                #expect(try value("RETURN toString(\(t.functionName)('\(t)'))") == .string(t.description), "\(expression) gave \(t)")
            } catch let error as GraphError {
                #expect(error.cypherClass != nil, "\(expression): unclassified \(error)")
            }
        }
        #expect(answered > 150, "only \(answered) random expressions gave a temporal value")
    }
}

/// A counter a clock closure can advance (the closure must be Sendable).
private final class Counter: Sendable {
    private let value = Mutex<Int64>(0)
    func next() -> Int64 { value.withLock { $0 += 1; return $0 } }
}
