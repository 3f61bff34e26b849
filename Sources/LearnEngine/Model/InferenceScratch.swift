#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Scratch memory for `RerankModel.scores`: one growing `Float` buffer per thread, so re-ranking
/// allocates nothing once its thread has scored a query of that size (fresh buffers of a few hundred
/// KiB each cost page faults on every call: glibc hands them out by mmap and returns them on free).
/// The server scores from many threads at once; each thread has its own buffer and nothing is shared.
/// The only owner of that memory.
final class InferenceScratch {
    private var base: UnsafeMutablePointer<Float>
    private var capacity: Int

    /// Above this many floats (16 MiB) a call gets its own buffer, freed after it: one huge request
    /// must not leave every thread holding that much.
    static let retainedLimitFloats = 4 << 20

    private init() {
        base = .allocate(capacity: 1)
        capacity = 1
    }

    deinit { base.deallocate() }

    /// Runs `body` with at least `count` floats of uninitialised scratch, valid only during the call.
    /// Not reentrant on one thread: `body` must not call `withScratch` again.
    static func withScratch<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        if count > retainedLimitFloats {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { buffer.deallocate() }
            return body(buffer)
        }
        let scratch = current()
        if scratch.capacity < count {
            scratch.base.deallocate()
            scratch.base = .allocate(capacity: count)
            scratch.capacity = count
        }
        return body(scratch.base)
    }

    /// The calling thread's scratch, created on first use and released when the thread exits.
    private static func current() -> InferenceScratch {
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<InferenceScratch>.fromOpaque(pointer).takeUnretainedValue()
        }
        let scratch = InferenceScratch()
        pthread_setspecific(key, Unmanaged.passRetained(scratch).toOpaque())
        return scratch
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        #if canImport(Darwin)
        let status = pthread_key_create(&key) { Unmanaged<InferenceScratch>.fromOpaque($0).release() }
        #else
        let status = pthread_key_create(&key) { if let pointer = $0 { Unmanaged<InferenceScratch>.fromOpaque(pointer).release() } }
        #endif
        precondition(status == 0, "pthread_key_create failed (\(status))")
        return key
    }()
}
