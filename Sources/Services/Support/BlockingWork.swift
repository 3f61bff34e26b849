#if canImport(Glibc)
import Glibc
#endif
import NIOPosix

/// Runs work that blocks a thread (log fsyncs, snapshot files, long scans) on a dedicated
/// pool, so the few cooperative threads that run every handler never wait on a disk. More
/// threads than cores on purpose: concurrent writers share one fsync (group commit).
enum BlockingWork {
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(8, sysconf(Int32(_SC_NPROCESSORS_ONLN)) * 4))
        pool.start()
        return pool
    }()

    /// Runs `body` on the pool and returns its result (or rethrows its error).
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}
