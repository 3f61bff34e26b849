/// Whether a named thing exists: the cluster's collections as clients see them through
/// CreateCollection, DeleteCollection and GetState. Check it partitioned by key; each key
/// starts absent.
///
/// A create or delete whose outcome the client never learned (a timeout, a connection lost
/// after sending) has the output `unknown` and returns at `Int.max`: it may take effect at any
/// time after its call, or never (linearized after everything else, where no one sees it).
public enum MembershipModel: SequentialModel {
    /// One call on one key.
    public struct Input: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case create, delete, read }
        public var kind: Kind
        public var key: String
        public init(_ kind: Kind, key: String) { self.kind = kind; self.key = key }
    }

    /// What the client saw.
    public enum Output: Sendable, Equatable {
        /// The create made the key exist.
        case created
        /// The create found the key existing (ALREADY_EXISTS).
        case alreadyExists
        /// The delete removed the key.
        case deleted
        /// The delete found no such key (NOT_FOUND).
        case notFound
        /// A read saw the key present (`exists`) or absent.
        case read(exists: Bool)
        /// The outcome is unknown.
        case unknown
    }

    /// Whether the key exists.
    public static var initialState: Bool { false }

    public static func step(_ exists: Bool, _ input: Input, _ output: Output) -> (legal: Bool, next: Bool) {
        switch (input.kind, output) {
        case (.create, .created): return (!exists, true)
        case (.create, .alreadyExists): return (exists, true)
        // Whether it took effect or found the key there, the key exists afterwards.
        case (.create, .unknown): return (true, true)
        case (.delete, .deleted): return (exists, false)
        case (.delete, .notFound): return (!exists, false)
        case (.delete, .unknown): return (true, false)
        case (.read, .read(let seen)): return (seen == exists, exists)
        case (.read, .unknown): return (true, exists)
        default: return (false, exists)     // an output that does not answer this input
        }
    }
}
