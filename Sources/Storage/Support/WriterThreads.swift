#if canImport(Glibc)
import Glibc
#endif

/// Runs `body(index)` on `count` OS threads at once and waits for all of them. Dispatch's
/// `concurrentPerform` would run at most one worker per core; durability tests and
/// benchmarks need writers that really block side by side (group commit).
public func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    final class Job: @unchecked Sendable {
        let body: @Sendable (Int) -> Void
        let index: Int
        init(_ body: @escaping @Sendable (Int) -> Void, _ index: Int) { self.body = body; self.index = index }
    }
    var threads: [pthread_t] = []
    for index in 0..<count {
        let job = Unmanaged.passRetained(Job(body, index)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
            job.body(job.index)
            return nil
        }, job)
        precondition(rc == 0, "pthread_create failed (\(rc))")
        threads.append(thread)
    }
    for thread in threads { pthread_join(thread, nil) }
}
