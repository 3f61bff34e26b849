/// Day arithmetic on the proleptic Gregorian calendar (ISO 8601), in closed form: no loop runs
/// for a number of days or years a query gives, so a date a billion years away costs what
/// today does. Days count from 1970-01-01 (day 0); the 400-year cycle of 146 097 days keeps
/// every step exact.
enum CivilCalendar {
    /// Floor division (`b` > 0): what the formulas below need for dates before year 0. It
    /// cannot overflow, whatever `a` a query gives (Int64.min included).
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return a % b < 0 ? q - 1 : q
    }
    /// The matching remainder, in 0..<b.
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
        let r = a % b
        return r < 0 ? r + b : r
    }

    /// Whether `year` has a 29 February.
    static func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    /// Days in `month` (1-12) of `year`.
    static func daysInMonth(_ year: Int64, _ month: Int64) -> Int64 {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The day number of a valid year, month (1-12) and day of month.
    static func epochDay(year: Int64, month: Int64, day: Int64) -> Int64 {
        // Years start in March here, so the leap day is the last of its year.
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yearOfEra = y - era * 400
        let monthFromMarch = (month + 9) % 12
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Year, month and day of month of day number `epochDay`.
    static func civil(_ epochDay: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = epochDay + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// ISO day of week: Monday 1 to Sunday 7 (1970-01-01 was a Thursday).
    static func dayOfWeek(_ epochDay: Int64) -> Int64 { floorMod(epochDay + 3, 7) + 1 }

    /// The Monday that starts week 1 of ISO week-year `year` (the week holding 4 January).
    static func weekYearStart(_ year: Int64) -> Int64 {
        let january4 = epochDay(year: year, month: 1, day: 4)
        return january4 - (dayOfWeek(january4) - 1)
    }

    /// Weeks (52 or 53) in ISO week-year `year`.
    static func weeksInWeekYear(_ year: Int64) -> Int64 { (weekYearStart(year + 1) - weekYearStart(year)) / 7 }

    /// ISO week-year and week of `epochDay`.
    static func weekDate(_ epochDay: Int64) -> (weekYear: Int64, week: Int64) {
        var year = civil(epochDay).year
        if epochDay < weekYearStart(year) { year -= 1 } else if epochDay >= weekYearStart(year + 1) { year += 1 }
        return (year, (epochDay - weekYearStart(year)) / 7 + 1)
    }

    /// Day of year, 1-366.
    static func ordinalDay(_ epochDay: Int64) -> Int64 { epochDay - self.epochDay(year: civil(epochDay).year, month: 1, day: 1) + 1 }

    /// First day of `quarter` (1-4) of `year`.
    static func quarterStart(_ year: Int64, _ quarter: Int64) -> Int64 { epochDay(year: year, month: 3 * quarter - 2, day: 1) }

    /// `epochDay` moved by `months` calendar months, the day of month clamped to the new
    /// month's length (31 January + 1 month = 28 or 29 February). Nil past the year range.
    static func addMonths(_ epochDay: Int64, _ months: Int64) -> Int64? {
        let (y, m, d) = civil(epochDay)
        let (total, overflow) = (y * 12 + m - 1).addingReportingOverflow(months)
        guard !overflow else { return nil }
        let year = floorDiv(total, 12), month = floorMod(total, 12) + 1
        guard Temporal.years.contains(year) else { return nil }
        return self.epochDay(year: year, month: month, day: min(d, daysInMonth(year, month)))
    }

    /// Whether `epochDay` falls within the year range.
    static func inRange(_ epochDay: Int64) -> Bool {
        epochDay >= minEpochDay && epochDay <= maxEpochDay
    }
    static let minEpochDay = epochDay(year: Temporal.years.lowerBound, month: 1, day: 1)
    static let maxEpochDay = epochDay(year: Temporal.years.upperBound, month: 12, day: 31)
}
