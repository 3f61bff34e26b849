import NIOCore

/// Moves bytes between a channel and a session (`HTTP2Session`, `HTTP1Session`) without re-entering it: frames
/// are written only from the outermost call, after nghttp2 has returned.
///
/// A class on purpose: nghttp2 callbacks that run inside `receive` call `flush` again, which
/// a mutating method of a stored struct would turn into an exclusivity violation.
final class SessionPump {
    private var depth = 0
    private var flushNeeded = false
    /// The buffer frames are gathered in, kept between flushes: once the channel has written
    /// it (usually at once), its storage is ours again and is reused without an allocation.
    private var output: ByteBuffer?

    /// True while nghttp2 is running (inside `receive` or `flush`).
    var isInsideSession: Bool { depth > 0 }

    enum Outcome {
        /// Keep going.
        case open
        /// The session is finished (GOAWAY done) or failed: close the connection.
        case close
    }

    /// Feeds received bytes to the session, then writes its answer.
    func receive(_ buffer: ByteBuffer, session: some WireSession, context: ChannelHandlerContext) -> Outcome {
        depth += 1
        do {
            try buffer.withUnsafeReadableBytes { bytes throws(HTTP2SessionError) in try session.receive(bytes) }
        } catch {
            depth -= 1
            // nghttp2 has queued a GOAWAY saying why; send it before closing.
            _ = flush(session: session, context: context)
            return .close
        }
        depth -= 1
        return flush(session: session, context: context)
    }

    /// Writes every frame the session has ready, unless called from inside nghttp2 (the
    /// outermost caller writes them) or the socket is full (writability resumes it).
    func flush(session: some WireSession, context: ChannelHandlerContext) -> Outcome {
        if depth > 0 {
            flushNeeded = true
            return .open
        }
        guard context.channel.isWritable else { return .open }
        repeat {
            flushNeeded = false
            var buffer = output.take() ?? context.channel.allocator.buffer(capacity: 4096)
            buffer.clear()
            depth += 1
            do {
                try session.drainOutput(into: &buffer)
            } catch {
                depth -= 1
                return .close
            }
            depth -= 1
            if buffer.readableBytes > 0 {
                context.writeAndFlush(NIOAny(buffer), promise: nil)
            }
            // A large one (a big message) is not kept.
            if buffer.capacity <= 64 << 10 { output = buffer }
        } while flushNeeded
        return session.isActive ? .open : .close
    }
}
