/// The components of a duration being built from units (`{hours: 2, minutes: 1.5}`,
/// `P1Y2.5MT3S`): whole amounts add up exactly in 64-bit integers (checked), fractions in
/// doubles that cascade down as Neo4j's do (see `CypherDuration.approximate`). So a duration's
/// text always reads back to the same duration, however large its whole fields are.
struct DurationSum {
    /// A unit: the field it adds to and how many of that field's units it is.
    struct Unit {
        enum Field: Int { case months, days, seconds, nanos }
        let field: Field
        let factor: Int64
    }
    static let units: [String: Unit] = [
        "years": Unit(field: .months, factor: 12), "quarters": Unit(field: .months, factor: 3), "months": Unit(field: .months, factor: 1),
        "weeks": Unit(field: .days, factor: 7), "days": Unit(field: .days, factor: 1),
        "hours": Unit(field: .seconds, factor: 3600), "minutes": Unit(field: .seconds, factor: 60), "seconds": Unit(field: .seconds, factor: 1),
        "milliseconds": Unit(field: .nanos, factor: 1_000_000), "microseconds": Unit(field: .nanos, factor: 1000),
        "nanoseconds": Unit(field: .nanos, factor: 1),
    ]

    private var whole: [Int64] = [0, 0, 0, 0]
    private var fraction: [Double] = [0, 0, 0, 0]
    /// Set once a whole amount overflowed; `build()` then fails.
    private var overflowed = false

    /// Adds `amount` of `unit` exactly.
    mutating func add(_ amount: Int64, _ unit: Unit) {
        let (scaled, o1) = amount.multipliedReportingOverflow(by: unit.factor)
        let (sum, o2) = whole[unit.field.rawValue].addingReportingOverflow(scaled)
        if o1 || o2 { overflowed = true } else { whole[unit.field.rawValue] = sum }
    }

    /// Adds a possibly fractional `amount` of `unit`.
    mutating func add(_ amount: Double, _ unit: Unit) {
        fraction[unit.field.rawValue] += amount * Double(unit.factor)
    }

    /// The duration, nil when it does not fit.
    func build() -> CypherDuration? {
        guard !overflowed,
              let exact = CypherDuration(months: whole[0], days: whole[1], seconds: whole[2], nanos: whole[3]),
              let approximate = CypherDuration.approximate(months: fraction[0], days: fraction[1], seconds: fraction[2], nanos: fraction[3])
        else { return nil }
        return exact.adding(approximate)
    }
}
