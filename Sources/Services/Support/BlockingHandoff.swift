import Dispatch
import Storage
import Synchronization

/// Hands elements from a thread that may block (a query running on `BlockingWork`'s pool) to
/// an async consumer (an RPC writer), at most `capacity` elements ahead: the producer waits
/// while the consumer is behind, so a slow client slows the query instead of filling memory,
/// and a client that stops reading for `stallTimeout` stops the query.
final class BlockingHandoff<Element: Sendable>: Sendable {
    /// Why `send` gave up.
    struct Stopped: Error, Sendable {
        let message: String
    }

    private struct State {
        var buffer: [Element] = []
        var finished = false
        var cancelled = false
        var waitingConsumer: CheckedContinuation<Element?, Never>? = nil
    }

    private let state = Mutex(State())
    private let space: DispatchSemaphore
    private let capacity: Int
    private let stallTimeout: Duration

    init(capacity: Int, stallTimeout: Duration = .seconds(60)) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.stallTimeout = stallTimeout
        space = DispatchSemaphore(value: capacity)
    }

    /// Producer: queues `element`, waiting while `capacity` elements are unread. Throws
    /// `Stopped` when the consumer went away or read nothing for `stallTimeout`.
    func send(_ element: Element) throws(Stopped) {
        let micros = max(0, stallTimeout.wholeMicroseconds)
        guard space.wait(timeout: .now() + .microseconds(Int(clamping: micros))) == .success else {
            throw Stopped(message: "the client read nothing for \(stallTimeout); the query was stopped")
        }
        let consumer: CheckedContinuation<Element?, Never>? = try state.withLock { (s: inout State) throws(Stopped) in
            if s.cancelled { throw Stopped(message: "the call was cancelled") }
            if let waiting = s.waitingConsumer {
                s.waitingConsumer = nil
                return waiting
            }
            s.buffer.append(element)
            return nil
        }
        if let consumer {
            space.signal()          // handed over directly: it never occupied the buffer
            consumer.resume(returning: element)
        }
    }

    /// Producer: no more elements (call exactly once, also after a failure).
    func finish() {
        let consumer = state.withLock { s in
            s.finished = true
            defer { s.waitingConsumer = nil }
            return s.waitingConsumer
        }
        consumer?.resume(returning: nil)
    }

    /// Consumer: the next element, or nil once the producer finished and all were read.
    func next() async -> Element? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
            let ready: Element?? = state.withLock { s in
                if !s.buffer.isEmpty { return .some(s.buffer.removeFirst()) }
                if s.finished { return .some(nil) }
                s.waitingConsumer = continuation
                return nil
            }
            if let ready {
                if ready != nil { space.signal() }
                continuation.resume(returning: ready)
            }
        }
    }

    /// Consumer: gives up reading; the producer's next `send` throws.
    func cancel() {
        state.withLock { s in
            s.cancelled = true
            s.buffer.removeAll()
        }
        // Wake a producer waiting for space; every later send finds `cancelled`.
        for _ in 0...capacity { space.signal() }
    }
}
