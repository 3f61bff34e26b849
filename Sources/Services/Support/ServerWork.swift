#if canImport(Glibc)
import Glibc
#endif
import CProcessShims
import Dispatch
import RPC
import Synchronization
import WorkControl

/// How a server runs the work of its calls: one bounded ``WorkPool`` per kind of work, the
/// memory budget every call draws from, and the per-call limit. Services run every call that
/// does more than a few microseconds of work through ``run(_:_:work:memoryLimitBytes:_:)``, which
/// gives the body its ``WorkBounds`` wired to the call: cancelled when the client cancels, the
/// deadline passes or the server stops; charged against the call's and the server's memory.
///
/// Kinds: `search` (searches, scrolls, counts, gets), `write` (upserts, deletes, collection
/// changes: more threads than cores, since concurrent writers share one fsync), `cypher` (graph
/// queries), `background` (snapshots, restores). Health and other short calls are answered on
/// the event loop and never wait for a pool.
public final class ServerWork: Sendable {
    /// Sizes and limits (defaults from the machine).
    public struct Options: Sendable, Equatable {
        /// Most memory the process should hold (data and calls together); new call work is
        /// refused past it. Default: 3/4 of the machine's memory (or of the cgroup's limit).
        public var memoryLimitBytes: Int
        /// Most memory one call may hold (results, rows, decoded requests). Default: 1 GiB,
        /// at most half of `memoryLimitBytes`.
        public var callMemoryLimitBytes: Int
        /// Threads per pool.
        public var searchThreads: Int
        public var writeThreads: Int
        public var cypherThreads: Int
        public var backgroundThreads: Int
        /// Calls that may wait for a thread, per pool; and per connection in a pool.
        public var queueLimit: Int
        public var connectionQueueLimit: Int

        /// Cores online, at least 1: the unit of the pools' defaults.
        public static var cores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

        /// Defaults for this machine.
        public init() {
            let cores = Self.cores
            memoryLimitBytes = max(256 << 20, machineMemoryBytes() / 4 * 3)
            callMemoryLimitBytes = min(1 << 30, memoryLimitBytes / 2)
            searchThreads = cores
            writeThreads = max(8, cores * 4)
            cypherThreads = max(2, cores)
            backgroundThreads = 2
            queueLimit = 4096
            connectionQueueLimit = 256
        }
    }

    /// The kinds of work, each with its own threads.
    public enum Kind: Sendable {
        case search, write, cypher, background
    }

    /// The memory all calls draw from.
    public let memory: MemoryBudget
    /// The options the pools were made with.
    public let options: Options
    let search: WorkPool
    let write: WorkPool
    let cypher: WorkPool
    let background: WorkPool
    private let reclaimer = MemoryReclaimer()
    private let sampling = Mutex<Task<Void, Never>?>(nil)

    /// Starts the pools' threads.
    public init(options: Options = Options()) {
        self.options = options
        memory = MemoryBudget(limitBytes: options.memoryLimitBytes)
        let q = options.queueLimit, c = options.connectionQueueLimit
        search = WorkPool(name: "search", threads: options.searchThreads, queueLimit: q, ownerQueueLimit: c)
        write = WorkPool(name: "write", threads: options.writeThreads, queueLimit: q, ownerQueueLimit: c)
        cypher = WorkPool(name: "cypher", threads: options.cypherThreads, queueLimit: min(q, 64 * options.cypherThreads),
                          ownerQueueLimit: min(c, 16))
        background = WorkPool(name: "background", threads: options.backgroundThreads, queueLimit: min(q, 64),
                              ownerQueueLimit: min(c, 8))
    }

    func pool(_ kind: Kind) -> WorkPool {
        switch kind {
        case .search: return search
        case .write: return write
        case .cypher: return cypher
        case .background: return background
        }
    }

    /// A fresh memory account for one call (`work` names it in messages, e.g. "the search batch").
    public func callBudget(work: String, limitBytes: Int? = nil) -> CallBudget {
        CallBudget(limitBytes: limitBytes ?? options.callMemoryLimitBytes, server: memory, work: work,
                   limitName: limitBytes == nil ? "the per-call memory limit, --call-memory-limit" : "its own limit")
    }

    /// Runs `body` on the `kind` pool with bounds tied to the call of `context`: the call's
    /// cancellation (client cancel, deadline, shutdown) raises `bounds.cancellation`, memory is
    /// charged to a fresh account of `memoryLimitBytes` (default: the per-call limit) that is
    /// closed when the body returns. Errors the body throws are mapped to statuses by `map`
    /// (the service's own mapping); `WorkLimitError` from anywhere in them is mapped here.
    func run<T: Sendable>(_ kind: Kind, _ context: ServerContext, work: String, memoryLimitBytes: Int? = nil,
                          map: @escaping @Sendable (any Error) -> RPCError,
                          _ body: @escaping @Sendable (WorkBounds) throws -> T) async throws -> T {
        let bounds = WorkBounds(memory: callBudget(work: work, limitBytes: memoryLimitBytes), cancellation: CancellationSignal())
        defer { ended(bounds) }
        do {
            return try await pool(kind).run(owner: context.connectionID, cancellation: bounds.cancellation) {
                try body(bounds)
            }
        } catch {
            throw Self.status(of: error, deadline: context.deadline, map: map)
        }
    }

    /// Runs `body` with bounds tied to the call but on the caller's task (for streaming calls
    /// that hop to pools per message): the bounds are cancelled with the task.
    func withBounds<T>(_ context: ServerContext, work: String, memoryLimitBytes: Int? = nil,
                       _ body: (WorkBounds) async throws -> T) async throws -> T {
        let bounds = WorkBounds(memory: callBudget(work: work, limitBytes: memoryLimitBytes), cancellation: CancellationSignal())
        defer { ended(bounds) }
        return try await withTaskCancellationHandler {
            try await body(bounds)
        } onCancel: {
            bounds.cancellation.cancel(context.deadline.map { ContinuousClock.now >= $0 } == true ? .deadlineExceeded : .cancelled)
        }
    }

    /// Runs `body` on the `kind` pool under `bounds` that the caller owns (see ``withBounds``).
    func run<T: Sendable>(_ kind: Kind, _ context: ServerContext, bounds: WorkBounds,
                          map: @escaping @Sendable (any Error) -> RPCError,
                          _ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await pool(kind).run(owner: context.connectionID, cancellation: bounds.cancellation, body)
        } catch {
            throw Self.status(of: error, deadline: context.deadline, map: map)
        }
    }

    /// The status a call's failure ends with: work limits as ``status(of:deadline:)`` says, the
    /// rest by `map` (the service's mapping, which handles its engines' errors that wrap a
    /// work limit by calling ``status(of:deadline:)`` too).
    static func status(of error: any Error, deadline: ContinuousClock.Instant?,
                       map: (any Error) -> RPCError) -> RPCError {
        if let error = error as? RPCError { return error }
        if let limit = error as? WorkLimitError { return status(of: limit, deadline: deadline) }
        return map(error)
    }

    /// The status for work stopped by a limit: memory is RESOURCE_EXHAUSTED, a deadline
    /// DEADLINE_EXCEEDED, shutdown UNAVAILABLE, a cancel CANCELLED (or DEADLINE_EXCEEDED when
    /// the cancel came from the deadline timer, which cancels like a client would).
    static func status(of limit: WorkLimitError, deadline: ContinuousClock.Instant? = nil) -> RPCError {
        switch limit.kind {
        case .callMemory, .serverMemory: return RPCError(.resourceExhausted, limit.message, cause: limit)
        case .stopped(.deadlineExceeded): return RPCError(.deadlineExceeded, limit.message, cause: limit)
        case .stopped(.shutdown): return RPCError(.unavailable, limit.message, cause: limit)
        case .stopped(.cancelled):
            if let deadline, ContinuousClock.now >= deadline {
                return RPCError(.deadlineExceeded, "the call's deadline passed; its work was stopped", cause: limit)
            }
            return RPCError(.cancelled, limit.message, cause: limit)
        }
    }

    /// Returns freed heap memory to the system soon, off the caller's thread (at most once per
    /// ``MemoryReclaimer/intervalMillis``). Called after large calls and automatic snapshots: a
    /// 5M x 128 import streamed inside a 1 GiB limit held 155 MB of freed memory in glibc's
    /// arenas at 3.5M points (one `malloc_trim` gave it back), memory its on-disk links then
    /// could not use as page cache.
    public func reclaimMemory() {
        reclaimer.schedule()
    }

    /// Trims run so far (tests).
    var memoryTrims: Int { reclaimer.trims.load(ordering: .relaxed) }

    private func ended(_ bounds: WorkBounds) {
        let peak = bounds.memory.peakBytes
        bounds.memory.close()
        if peak >= MemoryReclaimer.largeCallBytes { reclaimMemory() }
    }

    /// Samples the process's anonymous resident memory every `interval` and tells the budget
    /// what is held outside calls, so grants stop where the whole process would pass the limit.
    public func startMemorySampling(every interval: Duration = .milliseconds(500)) {
        let memory = self.memory
        let task = Task.detached(priority: .utility) {
            while !Task.isCancelled {
                if let anonymous = residentAnonymousBytes() { memory.setBaseline(bytes: anonymous - memory.reservedBytes) }
                try? await Task.sleep(for: interval)
            }
        }
        sampling.withLock { $0?.cancel(); $0 = task }
    }

    /// Stops sampling and the pools (waiting jobs are answered UNAVAILABLE).
    public func shutdown() {
        sampling.withLock { $0?.cancel(); $0 = nil }
        for pool in [search, write, cypher, background] { pool.shutdown() }
    }
}

/// Gives memory freed by large calls back to the system. glibc keeps freed heap memory in its
/// arenas for reuse; after a call that held hundreds of megabytes fails or ends, that memory
/// would stay resident. `malloc_trim` returns whole free pages; it runs on its own queue, at most
/// once per `intervalMillis`, after the calls that asked for it.
final class MemoryReclaimer: Sendable {
    /// Calls whose peak charge was at least this ask for a trim when they end.
    static let largeCallBytes = 32 << 20
    static let intervalMillis = 200
    private let queue = DispatchQueue(label: "ruvector.memory-reclaim", qos: .utility)
    private let pending = Mutex(false)
    /// Trims run so far (tests).
    let trims = Atomic<Int>(0)

    func schedule() {
        let first = pending.withLock { p -> Bool in defer { p = true }; return !p }
        guard first else { return }
        queue.asyncAfter(deadline: .now() + .milliseconds(Self.intervalMillis)) { [self] in
            pending.withLock { $0 = false }
            _ = CProcessShims_mallocTrim(0)
            trims.add(1, ordering: .relaxed)
        }
    }
}

/// Physical memory, or the cgroup's limit when that is lower (containers).
func machineMemoryBytes() -> Int {
    let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    var limit = physical > 0 ? physical : 8 << 30
    for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
        if let text = readSmallFile(path), let value = Int(text.trimmingWhitespace()), value > 0 { limit = min(limit, value) }
    }
    return limit
}

/// The process's resident anonymous memory (what the OOM killer counts; mapped files excluded).
func residentAnonymousBytes() -> Int? {
    guard let text = readSmallFile("/proc/self/statm") else { return nil }
    let fields = text.split(separator: " ").compactMap { Int($0.trimmingWhitespace()) }
    guard fields.count >= 3 else { return nil }
    return max(0, fields[1] - fields[2]) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

private func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = read(fd, &buffer, buffer.count)
    guard count > 0 else { return nil }
    return String(decoding: buffer[..<count], as: UTF8.self)
}

private extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
