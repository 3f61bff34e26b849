import ArgumentParser

/// An option value written as a comma-separated list (`--sizes 100000,200000`, `--peers hnswlib,usearch`),
/// the form the benchmarks' commands in docs/benchmarks use. A field that does not parse as `Element`
/// refuses the whole value, so the parser exits 64 instead of dropping it.
public struct CommaSeparated<Element: LosslessStringConvertible & Sendable>: ExpressibleByArgument, Sendable {
    /// The fields, in the order given.
    public var values: [Element]

    /// A list with these fields (a default value).
    public init(_ values: [Element]) {
        self.values = values
    }

    /// Parses `argument`; nil (an invalid value to the parser) when a field is empty or not an `Element`.
    public init?(argument: String) {
        var values: [Element] = []
        for field in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let value = Element(String(field)) else { return nil }
            values.append(value)
        }
        self.values = values
    }

    /// How `--help` shows a default: the fields joined by commas.
    public var defaultValueDescription: String {
        values.map(\.description).joined(separator: ",")
    }
}
