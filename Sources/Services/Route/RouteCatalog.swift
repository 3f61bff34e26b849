import Dispatch
import RPC
import Storage
import Synchronization
import Wire
import WorkControl

/// Every router (`RouteStore`), under `<data>/route/<router>/`, opened at start. Creation writes
/// the definition last-but-atomically (a directory without `router.pb` is a crashed creation and
/// is removed at start); deletion renames the directory to `<router>.deleted.tmp` first, so a crash
/// half-way leaves no half router behind. Training runs one at a time for the whole server on its
/// own thread (as LearnService's), so routing and writes never wait for it.
final class RouteCatalog: Sendable {
    let directory: String
    private let stores: Mutex<[String: RouteStore]>
    /// Names being created (reserved while their files are written).
    private let creating = Mutex<Set<String>>([])
    private let queue = DispatchQueue(label: "ruvector.route.training", qos: .utility)

    /// Opens every router under `<dataDirectory>/route`.
    init(dataDirectory: String) throws {
        directory = dataDirectory + "/route"
        try AtomicFile.createDirectory(directory)
        var stores: [String: RouteStore] = [:]
        for entry in try AtomicFile.entries(directory) {
            let path = "\(directory)/\(entry)"
            if entry.hasSuffix(".tmp") || !AtomicFile.exists(path + "/router.pb") {
                try AtomicFile.removeTree(path)
                continue
            }
            stores[entry] = try RouteStore(directory: path)
        }
        self.stores = Mutex(stores)
    }

    /// The router `name`, or NOT_FOUND (INVALID_ARGUMENT for a name no router can have).
    func store(_ name: String) throws -> RouteStore {
        if let store = stores.withLock({ $0[name] }) { return store }
        try VectorMapping.checkCollectionName(name)
        throw RPCError(.notFound, "router \(MessageText.quoted(name)) does not exist; create it with CreateRouter")
    }

    /// Every router, by name.
    func list() -> [RouteStore] {
        stores.withLock { $0.values.sorted { $0.name < $1.name } }
    }

    /// Creates a router from a checked, resolved definition; ALREADY_EXISTS if the name is taken.
    /// `prepare` writes more files into the new directory before it is opened (an import).
    func create(_ definition: RuvectorV1.CreateRouterRequest, prepare: (String) throws -> Void = { _ in }) throws -> RouteStore {
        // The name is reserved under the lock; the files are written outside it, so routing through
        // other routers never waits for this one's fsyncs.
        try stores.withLock { stores in
            guard stores[definition.name] == nil, creating.withLock({ $0.insert(definition.name).inserted }) else {
                throw RPCError(.alreadyExists, "router \(MessageText.quoted(definition.name)) already exists; delete it first or pick another name")
            }
        }
        defer { creating.withLock { _ = $0.remove(definition.name) } }
        let path = "\(directory)/\(definition.name)"
        // Written under a temporary name and renamed: a crash leaves a .tmp that start removes.
        let staging = path + ".creating.tmp"
        if AtomicFile.exists(staging) { try AtomicFile.removeTree(staging) }
        try AtomicFile.createDirectory(staging)
        try AtomicFile.write(definition.encoded(), to: staging + "/router.pb")
        try prepare(staging)
        try AtomicFile.rename(staging, to: path)
        let store = try RouteStore(directory: path)
        stores.withLock { $0[definition.name] = store }
        return store
    }

    /// Deletes router `name` with everything it holds; NOT_FOUND if absent.
    func delete(_ name: String) throws {
        let store = try stores.withLock { stores in
            guard let store = stores.removeValue(forKey: name) else {
                try VectorMapping.checkCollectionName(name)
                throw RPCError(.notFound, "router \(MessageText.quoted(name)) does not exist")
            }
            return store
        }
        store.training.withLock { $0?.cancel() }
        try store.close()
        let doomed = "\(directory)/\(name).deleted.tmp"
        try AtomicFile.rename(store.directory, to: doomed)
        try AtomicFile.removeTree(doomed)
    }

    /// Starts a training run of `store` (FAILED_PRECONDITION while one runs for it) whose memory is
    /// charged to `budget` (closed when the run ends); `progress` and `completion` are called on the
    /// training thread. Returns the run's cancellation.
    func train(_ store: RouteStore, request: RuvectorV1.TrainRouterRequest, budget: CallBudget,
               progress: @escaping @Sendable (RuvectorV1.TrainRouterProgress) -> Void,
               completion: @escaping @Sendable (Result<RuvectorV1.RouterStatus, any Error>) -> Void) throws -> CancellationSignal {
        let cancellation = CancellationSignal()
        try store.training.withLock { running in
            guard running == nil else {
                budget.close()
                throw RPCError(.failedPrecondition, "router \(MessageText.quoted(store.name)) is already training; wait for that run to end or cancel it")
            }
            running = RouteStore.CancellationHandle(cancel: { cancellation.cancel() })
        }
        queue.async {
            defer { budget.close() }
            let result = Result<RuvectorV1.RouterStatus, any Error> {
                try cancellation.check()
                return try RouteTraining.run(store: store, request: request, memory: budget, cancellation: cancellation,
                                             nowMicros: DurabilityOptions.unixMicros, progress: progress)
            }
            store.training.withLock { $0 = nil }
            completion(result)
        }
        return cancellation
    }

    /// Cancels every run and closes every router (at shutdown); returns the failures.
    func close() -> [(String, any Error)] {
        let open = stores.withLock { stores in
            defer { stores.removeAll() }
            return stores
        }
        var failures: [(String, any Error)] = []
        for (name, store) in open {
            store.training.withLock { $0?.cancel() }
            do { try store.close() } catch { failures.append((name, error)) }
        }
        return failures
    }
}
