/// Flow-control accounting for the messages received on one stream: received bytes are given
/// back to nghttp2 (opening its window again) only while the reader keeps up, that is while
/// at most `highWaterMarkBytes` have been delivered and not yet read. Holding them back is
/// what slows a fast sender down. Used by server calls and client streams alike.
struct ReceiveWindow {
    let highWaterMarkBytes: Int
    /// Bytes of messages handed to the reader and not yet read.
    private(set) var unreadBytes = 0
    /// Bytes received whose window update is held back.
    private var heldBytes = 0

    init(highWaterMarkBytes: Int) {
        self.highWaterMarkBytes = highWaterMarkBytes
    }

    /// Whether window updates are held back now (the reader is behind): a sender stopped in the
    /// middle of a message may be waiting for them, not stalling.
    var holdsBack: Bool { heldBytes > 0 }

    /// A complete message of `messageBytes` (prefix included) was handed to the reader.
    mutating func delivered(messageBytes: Int) {
        unreadBytes += messageBytes
    }

    /// `count` bytes arrived (after their complete messages were delivered); returns how
    /// many bytes to give back to the session now.
    mutating func received(_ count: Int) -> Int {
        guard unreadBytes <= highWaterMarkBytes else {
            heldBytes += count
            return 0
        }
        defer { heldBytes = 0 }
        return count + heldBytes
    }

    /// The reader took a message of `count` bytes; returns how many held-back bytes to give
    /// back now (0 when there are none, or the reader is still behind).
    mutating func read(_ count: Int) -> Int {
        unreadBytes -= count
        guard unreadBytes <= highWaterMarkBytes, heldBytes > 0 else { return 0 }
        defer { heldBytes = 0 }
        return heldBytes
    }
}
