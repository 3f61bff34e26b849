/// A sequential specification: the state an object starts in, and whether an operation with
/// its observed output is allowed from a state (and the state after it).
public protocol SequentialModel {
    associatedtype State: Hashable & Sendable
    /// Equatable, as is `Output`: the search treats operations of unknown outcome that asked
    /// the same as interchangeable.
    associatedtype Input: Sendable & Equatable
    associatedtype Output: Sendable & Equatable
    /// The state before any operation.
    static var initialState: State { get }
    /// Is `output` a correct answer to `input` in `state`? If so, the state after.
    static func step(_ state: State, _ input: Input, _ output: Output) -> (legal: Bool, next: State)
}

/// One operation of a history: who ran it, when it was invoked and returned (event order),
/// what it was asked and what it answered. An operation whose outcome is unknown (a client
/// timed out) returns at `Int.max`: it may take effect at any time after its call.
public struct HistoryOperation<Input: Sendable, Output: Sendable>: Sendable {
    public var client: Int
    public var call: Int
    public var returned: Int
    public var input: Input
    public var output: Output

    public init(client: Int, call: Int, returned: Int, input: Input, output: Output) {
        self.client = client; self.call = call; self.returned = returned; self.input = input; self.output = output
    }
}

/// The verdict on a history.
public enum LinearizabilityVerdict: Sendable, Equatable {
    /// Some total order of the operations respects real time and the sequential model.
    case linearizable
    /// No such order exists.
    case notLinearizable
    /// The search gave up after its step budget (the history is too hard to decide).
    case unknown
}

/// Wing & Gong's search for a linearization with Lowe's memoization (a (linearized set,
/// state) pair that failed once is never explored again), the algorithm Porcupine uses.
/// Histories of independent objects (keys) are checked one partition at a time.
public enum LinearizabilityChecker {
    /// Checks one object's history.
    public static func check<M: SequentialModel>(_ model: M.Type, _ operations: [HistoryOperation<M.Input, M.Output>],
                                                 maxSteps: Int = 50_000_000) -> LinearizabilityVerdict {
        if operations.isEmpty { return .linearizable }
        // Events in time order: each operation's call and return; calls first on ties.
        var events: [HistoryEvent] = []
        for (index, operation) in operations.enumerated() {
            events.append(HistoryEvent(time: operation.call, isCall: true, operation: index))
            events.append(HistoryEvent(time: operation.returned, isCall: false, operation: index))
        }
        events.sort { $0.time != $1.time ? $0.time < $1.time : ($0.isCall && !$1.isCall) }
        // A doubly linked list over the events, index 0 a sentinel head.
        let count = events.count
        var next = [Int](repeating: -1, count: count + 1), previous = [Int](repeating: -1, count: count + 1)
        var callNode = [Int](repeating: 0, count: operations.count), returnNode = [Int](repeating: 0, count: operations.count)
        for (position, event) in events.enumerated() {
            let node = position + 1
            previous[node] = position
            next[position] = node
            if event.isCall { callNode[event.operation] = node } else { returnNode[event.operation] = node }
        }
        func lift(_ operation: Int) {
            for node in [callNode[operation], returnNode[operation]] {
                next[previous[node]] = next[node]
                if next[node] != -1 { previous[next[node]] = previous[node] }
            }
        }
        func unlift(_ operation: Int) {
            for node in [returnNode[operation], callNode[operation]] {
                if next[node] != -1 { previous[next[node]] = node }
                next[previous[node]] = node
            }
        }
        let twin = unknownTwins(operations, events)
        var linearized = [UInt64](repeating: 0, count: (operations.count + 63) / 64)
        var cache = Set<SearchKey<M.State>>()
        var stack: [(operation: Int, state: M.State)] = []
        var state = M.initialState
        var node = next[0]
        var steps = 0
        while next[0] != -1 {
            steps += 1
            if steps > maxSteps { return .unknown }
            guard node != -1 else { return .notLinearizable }
            let event = events[node - 1]
            if event.isCall {
                let operation = operations[event.operation]
                // Of interchangeable unknown operations, only the earliest called that is still
                // pending is tried: the others would lead to the same states.
                let twinPending = twin[event.operation] >= 0 && !isSet(linearized, twin[event.operation])
                let (legal, after) = twinPending ? (false, state) : M.step(state, operation.input, operation.output)
                if legal {
                    var marked = linearized
                    marked[event.operation / 64] |= 1 << UInt64(event.operation % 64)
                    if cache.insert(SearchKey(linearized: marked, state: after)).inserted {
                        stack.append((event.operation, state))
                        linearized = marked
                        state = after
                        lift(event.operation)
                        node = next[0]
                        continue
                    }
                }
                node = next[node]
            } else {
                // An operation returned before anything pending could be linearized: backtrack.
                guard let (operation, before) = stack.popLast() else { return .notLinearizable }
                linearized[operation / 64] &= ~(1 << UInt64(operation % 64))
                state = before
                unlift(operation)
                node = next[callNode[operation]]
            }
        }
        return .linearizable
    }

    /// For each operation of unknown outcome, the one called just before it that asked the same
    /// and got the same (unknown) answer, or -1. Two such operations are interchangeable once
    /// both are called: neither has to return, so a linearization placing one where the other
    /// is stays valid with the two swapped. Trying only the earliest pending one of each kind
    /// keeps a history with many timeouts from multiplying the search by their subsets.
    private static func unknownTwins<Input: Equatable, Output: Equatable>(
        _ operations: [HistoryOperation<Input, Output>], _ events: [HistoryEvent]
    ) -> [Int] {
        var twin = [Int](repeating: -1, count: operations.count)
        var latest: [Int] = []      // the last operation of each kind seen so far, in call order
        for event in events where event.isCall && operations[event.operation].returned == Int.max {
            let operation = operations[event.operation]
            if let kind = latest.firstIndex(where: { operations[$0].input == operation.input && operations[$0].output == operation.output }) {
                twin[event.operation] = latest[kind]
                latest[kind] = event.operation
            } else {
                latest.append(event.operation)
            }
        }
        return twin
    }

    private static func isSet(_ bits: [UInt64], _ index: Int) -> Bool {
        bits[index / 64] & (1 << UInt64(index % 64)) != 0
    }

    /// Checks a history of independent objects, partitioned by `key`: linearizable when
    /// every partition is.
    public static func check<M: SequentialModel, K: Hashable>(
        _ model: M.Type, _ operations: [HistoryOperation<M.Input, M.Output>], partitionedBy key: (M.Input) -> K,
        maxSteps: Int = 50_000_000
    ) -> LinearizabilityVerdict {
        checkPartitions(model, operations, partitionedBy: key, maxSteps: maxSteps).verdict
    }

    /// Checks a history of independent objects, partitioned by `key`, and says which partition
    /// is not linearizable (the first one found, in the order keys first appear; it stops there).
    public static func checkPartitions<M: SequentialModel, K: Hashable>(
        _ model: M.Type, _ operations: [HistoryOperation<M.Input, M.Output>], partitionedBy key: (M.Input) -> K,
        maxSteps: Int = 50_000_000
    ) -> PartitionedVerdict<K> {
        var keys: [K] = []
        var partitions: [K: [HistoryOperation<M.Input, M.Output>]] = [:]
        for operation in operations {
            let k = key(operation.input)
            if partitions[k] == nil { keys.append(k) }
            partitions[k, default: []].append(operation)
        }
        var undecided: [K] = []
        for k in keys {
            let part = partitions[k] ?? []
            switch check(model, part, maxSteps: maxSteps) {
            case .notLinearizable: return PartitionedVerdict(verdict: .notLinearizable, failing: (k, part.count), undecided: undecided)
            case .unknown: undecided.append(k)
            case .linearizable: break
            }
        }
        return PartitionedVerdict(verdict: undecided.isEmpty ? .linearizable : .unknown, failing: nil, undecided: undecided)
    }
}

/// The verdict on a history checked one partition (key) at a time, with the partitions behind it.
public struct PartitionedVerdict<Key> {
    /// Not linearizable when one partition is not; unknown when one could not be decided.
    public var verdict: LinearizabilityVerdict
    /// The partition found not linearizable and how many operations it holds.
    public var failing: (key: Key, operations: Int)?
    /// Partitions the search gave up on (within its step budget), in the order checked.
    public var undecided: [Key]
}

/// A call or return of one operation, at a point in time.
private struct HistoryEvent {
    var time: Int
    var isCall: Bool
    var operation: Int
}

/// A memoized search position: which operations are linearized, and the state after them.
private struct SearchKey<State: Hashable>: Hashable {
    var linearized: [UInt64]
    var state: State
}
