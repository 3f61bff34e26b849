import Dispatch
import Storage
import Synchronization

/// Hands elements from a thread that may block (a query running on a work pool) to an async
/// consumer (an RPC writer). The producer runs ahead of the consumer by up to `capacity`
/// elements, or further while the elements waiting weigh at most `capacityBytes` in all; past
/// both it waits, so a slow client slows the query instead of filling memory, and a client that
/// reads nothing for `stallTimeout` stops it.
///
/// The byte allowance lets a result that fits in it be produced whole while the client is
/// slow: the query ends and gives its thread back, and only the waiting elements (whose memory
/// the caller charges) stay until the client reads them or goes away.
final class BlockingHandoff<Element: Sendable>: Sendable {
    /// Why `send` gave up.
    struct Stopped: Error, Sendable {
        let message: String
    }

    private struct State {
        var buffer: [(element: Element, bytes: Int)] = []
        var bufferedBytes = 0
        var bufferStart = 0
        var finished = false
        var cancelled = false
        var producerWaiting = false
        var waitingConsumer: CheckedContinuation<Element?, Never>? = nil

        var count: Int { buffer.count - bufferStart }
    }

    private let state = Mutex(State())
    /// Signalled when a waiting producer may find room.
    private let space = DispatchSemaphore(value: 0)
    private let capacity: Int
    private let capacityBytes: Int
    private let stallTimeout: Duration

    init(capacity: Int, capacityBytes: Int = 0, stallTimeout: Duration = .seconds(60)) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.capacityBytes = max(0, capacityBytes)
        self.stallTimeout = stallTimeout
    }

    private enum Placement {
        case handedOver(CheckedContinuation<Element?, Never>)
        case queued
        case full
    }

    /// Producer: queues `element` (weighing `bytes`), waiting while the consumer is behind by
    /// `capacity` elements and `capacityBytes` bytes. Throws `Stopped` when the consumer went
    /// away or read nothing for `stallTimeout`.
    func send(_ element: Element, bytes: Int = 0) throws(Stopped) {
        let micros = max(0, stallTimeout.wholeMicroseconds)
        let deadline = DispatchTime.now() + .microseconds(Int(clamping: micros))
        while true {
            let placement = try state.withLock { (s: inout State) throws(Stopped) -> Placement in
                if s.cancelled { throw Stopped(message: "the call was cancelled") }
                if let waiting = s.waitingConsumer {
                    s.waitingConsumer = nil
                    return .handedOver(waiting)
                }
                guard s.count < capacity || s.bufferedBytes + bytes <= capacityBytes else {
                    s.producerWaiting = true
                    return .full
                }
                s.buffer.append((element, bytes))
                s.bufferedBytes += bytes
                return .queued
            }
            switch placement {
            case .handedOver(let consumer):
                consumer.resume(returning: element)
                return
            case .queued:
                return
            case .full:
                guard space.wait(timeout: deadline) == .success else {
                    throw Stopped(message: "the client read nothing for \(stallTimeout); the query was stopped")
                }
            }
        }
    }

    /// Producer: no more elements (call once at least, also after a failure; more is harmless).
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
            let (ready, wake): (Element??, Bool) = state.withLock { s in
                if s.count > 0 {
                    let (element, bytes) = s.buffer[s.bufferStart]
                    s.bufferStart += 1
                    s.bufferedBytes -= bytes
                    if s.bufferStart == s.buffer.count || s.bufferStart >= 64 {
                        s.buffer.removeFirst(s.bufferStart)
                        s.bufferStart = 0
                    }
                    defer { s.producerWaiting = false }
                    return (.some(element), s.producerWaiting)
                }
                if s.finished { return (.some(nil), false) }
                s.waitingConsumer = continuation
                return (nil, false)
            }
            if wake { space.signal() }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Consumer: gives up reading; the producer's next `send` throws.
    func cancel() {
        state.withLock { s in
            s.cancelled = true
            s.buffer.removeAll()
            s.bufferStart = 0
            s.bufferedBytes = 0
        }
        // Wake a producer waiting for room; it finds `cancelled`.
        space.signal()
    }
}
