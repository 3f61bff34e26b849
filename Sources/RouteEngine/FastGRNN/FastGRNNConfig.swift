import LearnEngine

/// The shape of a FastGRNN classifier: `timeSteps` input vectors of `inputs` features run through the
/// cell, then a linear layer on the last state gives one logit per class (for a router, per candidate).
public struct FastGRNNConfig: Equatable, Sendable {
    /// Features per time step.
    public var inputs: Int
    /// Width of the hidden state h.
    public var hidden: Int
    /// Output classes (candidates).
    public var classes: Int
    /// Steps per sequence; a single feature vector is one step.
    public var timeSteps: Int
    /// Rank of W = W1 W2, or nil for a full W [hidden x inputs].
    public var wRank: Int?
    /// Rank of U = U1 U2, or nil for a full U [hidden x hidden].
    public var uRank: Int?

    /// Largest accepted sizes: far above a router's needs, small enough that a hostile configuration
    /// cannot make the engine allocate gigabytes.
    public static let maximumInputs = 4096, maximumHidden = 1024, maximumClasses = 1024, maximumTimeSteps = 1024

    /// A configuration (hidden 32, 8 steps, full rank unless ranks are given).
    public init(inputs: Int, classes: Int, hidden: Int = 32, timeSteps: Int = 8, wRank: Int? = nil, uRank: Int? = nil) {
        self.inputs = inputs
        self.classes = classes
        self.hidden = hidden
        self.timeSteps = timeSteps
        self.wRank = wRank
        self.uRank = uRank
    }

    /// Throws `invalidConfiguration` naming the first value out of range.
    public func validate() throws(LearnError) {
        func bad(_ m: String) -> LearnError { LearnError(.invalidConfiguration, m) }
        guard (1...Self.maximumInputs).contains(inputs) else { throw bad("inputs \(inputs) not in 1...\(Self.maximumInputs)") }
        guard (1...Self.maximumHidden).contains(hidden) else { throw bad("hidden \(hidden) not in 1...\(Self.maximumHidden)") }
        guard (2...Self.maximumClasses).contains(classes) else { throw bad("classes \(classes) not in 2...\(Self.maximumClasses)") }
        guard (1...Self.maximumTimeSteps).contains(timeSteps) else {
            throw bad("time steps \(timeSteps) not in 1...\(Self.maximumTimeSteps)")
        }
        if let wRank, !(1...min(hidden, inputs)).contains(wRank) {
            throw bad("W rank \(wRank) not in 1...\(min(hidden, inputs)) (min of hidden and inputs)")
        }
        if let uRank, !(1...hidden).contains(uRank) { throw bad("U rank \(uRank) not in 1...\(hidden)") }
    }

    /// Scalars in one sequence's features.
    public var sequenceLength: Int { timeSteps * inputs }
}
