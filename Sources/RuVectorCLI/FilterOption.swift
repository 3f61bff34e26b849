import RuVectorClient

/// The `--filter` option: JSON read by `Filter(json:)` (in the client library, where the
/// fuzzer reaches it too); a bad filter is a usage error that names the option.
enum FilterOption {
    static func parse(_ text: String) throws -> Filter {
        do { return try Filter(json: text) } catch { throw CLIError.usage("--filter: \(error.message)") }
    }
}
