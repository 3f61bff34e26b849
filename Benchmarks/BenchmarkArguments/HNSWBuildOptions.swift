import ArgumentParser

/// The graph-construction options vector-bench and vector-build-scaling share
/// (`@OptionGroup var build: HNSWBuildOptions`), with the same names and defaults in both.
public struct HNSWBuildOptions: ParsableArguments, Sendable {
    /// Vector dimension (`--dim`).
    @Option(name: .customLong("dim"), help: "Vector dimension.")
    public var dimension = 128

    /// HNSW M (`--m`).
    @Option(help: "HNSW M: links per node on the upper layers (twice that on layer 0).")
    public var m = 16

    /// HNSW efConstruction (`--efc`).
    @Option(name: .customLong("efc"), help: "HNSW efConstruction.")
    public var efConstruction = 200

    /// Required by `ParsableArguments`; the defaults above apply.
    public init() {}

    /// Refuses what the index cannot be built with (M below 2 has no level multiplier).
    public func validate() throws {
        guard dimension > 0, m > 1, efConstruction > 0 else {
            throw ValidationError("--dim and --efc must be at least 1, --m at least 2")
        }
    }
}
