/// A single register with read, write and compare-and-set (the Jepsen etcd test's object).
/// `nil` is the initial, never-written value.
public enum RegisterModel: SequentialModel {
    public enum Input: Sendable, Equatable {
        case read
        case write(Int)
        case compareAndSet(expected: Int, new: Int)
    }

    /// What the client saw. `unknown`: the client never learned the outcome.
    public enum Output: Sendable, Equatable {
        case read(Int?)
        case written
        case compareAndSet(succeeded: Bool)
        case unknown
    }

    public static var initialState: Int? { nil }

    public static func step(_ state: Int?, _ input: Input, _ output: Output) -> (legal: Bool, next: Int?) {
        switch input {
        case .read:
            if case .read(let value) = output { return (value == state, state) }
            return (output == .unknown, state)
        case .write(let value):
            return (true, value)
        case .compareAndSet(let expected, let new):
            let succeeds = state == expected
            let next = succeeds ? new : state
            if case .compareAndSet(let succeeded) = output { return (succeeded == succeeds, next) }
            return (output == .unknown, next)
        }
    }
}

/// A key-value store with get, put and append (Porcupine's kv histories, the Raft
/// simulator's state machine, and the point registers of the shard soak test); check it
/// partitioned by key.
public enum KeyValueModel: SequentialModel {
    public struct Input: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case get, put, append }
        public var kind: Kind
        public var key: String
        public var value: String
        public init(_ kind: Kind, key: String, value: String = "") { self.kind = kind; self.key = key; self.value = value }
    }

    /// The value a get returned ("" for a missing key); ignored for put and append.
    public typealias Output = String

    /// One key's value (a history is checked one key at a time).
    public static var initialState: String { "" }

    public static func step(_ state: String, _ input: Input, _ output: String) -> (legal: Bool, next: String) {
        switch input.kind {
        case .get: return (output == state, state)
        case .put: return (true, input.value)
        case .append: return (true, state + input.value)
        }
    }
}
