#if canImport(Glibc)
import Glibc
#endif

/// A mutex with a condition variable (the Synchronization module has no condition
/// variable). Used by the write-ahead log for group commit: writers wait until their record
/// is durable while one of them syncs for all.
final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Runs `body` holding the lock.
    func locked<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Inside `locked`: releases the lock until `broadcast`, then holds it again.
    func wait() { pthread_cond_wait(condition, mutex) }

    /// Inside `locked`: temporarily releases the lock around `body`.
    func unlocked<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_mutex_unlock(mutex)
        defer { pthread_mutex_lock(mutex) }
        return try body()
    }

    /// Wakes every waiter.
    func broadcast() { pthread_cond_broadcast(condition) }
}
