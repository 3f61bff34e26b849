/// The form of the learned term added to each candidate's HNSW score (`RerankNetwork`).
public enum RerankHeadKind: UInt8, Sendable, CaseIterable {
    /// `out(tanh(head([q' ⊙ h_i, h_i])))`: a hidden layer over the query-node product and the node
    /// alone. The default, and the only form of format version 1.
    case mlp = 0
    /// `out(q' ⊙ h_i)` = w · (q' ⊙ h_i) + b: the reference peer's bilinear form, fewer parameters and
    /// a cheaper head. Not the default: on the same examples it ranks no better than `mlp` (issue 20's
    /// experiments, docs/benchmarks/learn.md), so the server does not select it.
    case bilinear = 1
}

/// The re-ranking model's architecture and loss settings (the defaults).
public struct RerankConfig: Equatable, Sendable {
    /// Width of node and query encodings.
    public var hidden: Int = 128
    /// Attention heads per message-passing round; `hidden` must be a multiple of it.
    public var heads: Int = 4
    /// Message-passing rounds (1 or 2 are typical).
    public var layers: Int = 1
    /// Dropout after each round, in training only.
    public var dropout: Double = 0.1
    /// Most HNSW neighbours used per candidate.
    public var neighbours: Int = 8
    /// Scores are divided by it inside the loss.
    public var temperature: Double = 1.0
    /// The training loss.
    public var loss: RankingLossKind = .listwiseSoftmax
    /// The learned term's form.
    public var head: RerankHeadKind = .mlp

    /// The defaults: hidden 128, 4 heads, 1 layer, dropout 0.1, 8 neighbours, τ = 1, listwise
    /// softmax, MLP head.
    public init() {}

    /// Bounds a service enforces before building a model from user input.
    public static let maximumHidden = 1024, maximumHeads = 64, maximumLayers = 4, maximumNeighbours = 64,
                      maximumDimension = 4096

    /// Throws when a setting is out of range, with a message saying which and what is allowed.
    public func validate(dimension: Int) throws(LearnError) {
        func fail(_ m: String) -> LearnError { LearnError(.invalidConfiguration, m) }
        guard (1...Self.maximumDimension).contains(dimension) else { throw fail("dimension \(dimension) must be in 1...\(Self.maximumDimension)") }
        guard (1...Self.maximumHidden).contains(hidden) else { throw fail("hidden \(hidden) must be in 1...\(Self.maximumHidden)") }
        guard (1...Self.maximumHeads).contains(heads), hidden % heads == 0 else {
            throw fail("heads \(heads) must be in 1...\(Self.maximumHeads) and divide hidden \(hidden)")
        }
        guard (0...Self.maximumLayers).contains(layers) else { throw fail("layers \(layers) must be in 0...\(Self.maximumLayers)") }
        guard dropout >= 0, dropout < 1 else { throw fail("dropout \(dropout) must be in [0, 1)") }
        guard (0...Self.maximumNeighbours).contains(neighbours) else {
            throw fail("neighbours \(neighbours) must be in 0...\(Self.maximumNeighbours)")
        }
        guard temperature.isFinite, temperature > 0, temperature <= 100 else { throw fail("temperature \(temperature) must be in (0, 100]") }
    }
}

/// An error from LearnEngine: a code a service maps to a status, and a message that says what to fix.
public struct LearnError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, broadly.
    public struct Code: Hashable, Sendable {
        let raw: UInt8
        /// A configuration value is out of range.
        public static let invalidConfiguration = Code(raw: 1)
        /// An example's shapes or indices do not fit the model.
        public static let invalidExample = Code(raw: 2)
        /// Serialised model bytes are damaged, truncated or of another format or version.
        public static let corruptModel = Code(raw: 3)
        /// Serialised model bytes are well formed but for another architecture or dimension.
        public static let mismatchedModel = Code(raw: 4)
    }

    /// The kind of error.
    public var code: Code
    /// What happened and what to fix.
    public var message: String

    /// An error of `code` with `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
