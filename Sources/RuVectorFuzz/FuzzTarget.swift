import VectorEngine

/// One decoder under fuzz: it makes its own seed inputs from real code, may mutate inputs
/// knowing their structure, and runs one input at a time.
///
/// `run` refusing an input by throwing is the decoder doing its job. A finding is a trap or
/// crash (caught by `CrashGuard`), an input running past `inputTimeBoundSeconds` or memory past
/// the driver's RSS limit (caught by its watchdog), or a broken invariant (`FuzzFinding`).
protocol FuzzTarget: AnyObject {
    /// The name given on the command line.
    static var name: String { get }
    /// Longest input the mutator produces.
    var maxInputBytes: Int { get }
    /// How long one input may run before it counts as a hang.
    var inputTimeBoundSeconds: Double { get }
    /// Tokens the byte mutator inserts (keywords, field names, magic numbers).
    var dictionary: [[UInt8]] { get }
    /// Valid inputs to mutate, made at start by the code under test (or read from files it
    /// points at, such as the openCypher TCK).
    func seedCorpus() throws -> [[UInt8]]
    /// A mutation that knows the input's structure (frames, fields, records, tokens); false
    /// when it made none and the byte mutator should.
    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) -> Bool
    /// Runs one input to completion. `.accepted` means it got past validation: the driver
    /// keeps some such inputs to mutate further (a cheap stand-in for coverage feedback).
    func run(_ input: [UInt8]) throws -> FuzzOutcome
    /// Called once after the last input (temporary files, open databases).
    func finish()
}

/// What a target did with one input.
enum FuzzOutcome {
    /// Refused, as it should be for most mutated inputs.
    case rejected
    /// Decoded and processed.
    case accepted
}

/// A broken invariant found while running an input (not a crash): a value that does not
/// survive a round trip, a torn tail that opening did not repair...
struct FuzzFinding: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension FuzzTarget {
    var inputTimeBoundSeconds: Double { 10 }
    var dictionary: [[UInt8]] { [] }
    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) -> Bool { false }
    func finish() {}
}

/// Every target, by command-line name.
enum FuzzTargets {
    static let names = [HTTP2Target.name, HTTP1Target.name, ProtobufTarget.name, CypherTarget.name, FilterJSONTarget.name,
                        SnapshotTarget.name, ClusterSnapshotTarget.name, WALTarget.name, RaftTarget.name, AccessTarget.name]

    /// A fresh instance of the target named `name` (files go under `workDirectory`).
    static func make(_ name: String, workDirectory: String) throws -> (any FuzzTarget)? {
        switch name {
        case HTTP2Target.name: return try HTTP2Target(workDirectory: workDirectory)
        case HTTP1Target.name: return try HTTP1Target(workDirectory: workDirectory)
        case ProtobufTarget.name: return try ProtobufTarget(workDirectory: workDirectory)
        case CypherTarget.name: return CypherTarget()
        case FilterJSONTarget.name: return try FilterJSONTarget(workDirectory: workDirectory)
        case SnapshotTarget.name: return try SnapshotTarget(workDirectory: workDirectory)
        case ClusterSnapshotTarget.name: return try ClusterSnapshotTarget(workDirectory: workDirectory)
        case WALTarget.name: return try WALTarget(workDirectory: workDirectory)
        case RaftTarget.name: return RaftTarget()
        case AccessTarget.name: return try AccessTarget()
        default: return nil
        }
    }
}
