import NIOCore

/// Framed messages waiting to be copied into HTTP/2 DATA frames for one stream, with the
/// senders that wait for room. Used on the connection's event loop only.
struct OutboundQueue {
    private var messages = CircularBuffer<[UInt8]>()
    private var offset = 0
    /// Bytes queued and not yet handed to nghttp2.
    private(set) var queuedBytes = 0
    private var waiters: [CheckedContinuation<Void, any Error>] = []
    let highWaterMarkBytes: Int
    /// Each framed message is queued as base64 text (gRPC-Web's text mode), padded on its
    /// own: the protocol lets a body be a run of padded base64 chunks.
    var encodesBase64 = false

    init(highWaterMarkBytes: Int) {
        self.highWaterMarkBytes = highWaterMarkBytes
    }

    var isEmpty: Bool { messages.isEmpty }

    /// Queues a message (`compressed`: its bytes are compressed, the flag is set); the
    /// continuation resumes now, or once the queue has drained below half the high-water mark.
    mutating func append(_ message: [UInt8], compressed: Bool = false, continuation: CheckedContinuation<Void, any Error>) {
        let framed = encoded(MessageFraming.frame(message, compressed: compressed))
        messages.append(framed)
        queuedBytes += framed.count
        if queuedBytes > highWaterMarkBytes {
            waiters.append(continuation)
        } else {
            continuation.resume()
        }
    }

    /// Queues a message nobody waits on (the last one of a call, sent with its status).
    mutating func appendFinal(_ message: [UInt8], compressed: Bool = false) {
        appendFramed(MessageFraming.frame(message, compressed: compressed))
    }

    /// Queues an already framed message nobody waits on (gRPC-Web's trailer frame).
    mutating func appendFramed(_ frame: [UInt8]) {
        let framed = encoded(frame)
        messages.append(framed)
        queuedBytes += framed.count
    }

    private func encoded(_ framed: [UInt8]) -> [UInt8] {
        encodesBase64 ? Array(Base64.encode(framed).utf8) : framed
    }

    /// Copies as many queued bytes as fit into `buffer`; returns how many.
    mutating func take(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        while written < buffer.count, let head = messages.first {
            let count = min(head.count - offset, buffer.count - written)
            head.withUnsafeBytes { source in
                let slice = UnsafeRawBufferPointer(rebasing: source[offset..<offset + count])
                UnsafeMutableRawBufferPointer(rebasing: buffer[written..<written + count]).copyMemory(from: slice)
            }
            written += count
            offset += count
            if offset == head.count {
                messages.removeFirst()
                offset = 0
            }
        }
        queuedBytes -= written
        if queuedBytes <= highWaterMarkBytes / 2 { releaseWaiters() }
        return written
    }

    /// Drops everything queued (the call ended) and fails the waiting senders.
    mutating func discard(error: any Error) {
        messages.removeAll()
        offset = 0
        queuedBytes = 0
        releaseWaiters(throwing: error)
    }

    /// Wakes every waiting sender, with `error` or without one.
    mutating func releaseWaiters(throwing error: (any Error)? = nil) {
        let pending = waiters
        waiters = []
        for waiter in pending {
            if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }
}
