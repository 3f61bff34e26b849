/// Follows the frame boundaries in the bytes a peer sends, to tell whether it stopped in the
/// middle of a frame (or of the client preface). nghttp2 keeps that state to itself; this
/// reads only the 9-byte frame headers (RFC 9113 section 4.1) and skips payloads, so it
/// costs a few integer operations per frame.
struct HTTP2FrameBoundary {
    /// The client connection preface, `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`.
    static let prefaceBytes = 24
    static let frameHeaderBytes = 9

    private var prefaceRemaining: Int
    private var headerCollected = 0
    private var headerLength = 0
    private var payloadRemaining = 0

    /// `expectsPreface`: the peer is a client, which starts with the 24-byte preface.
    init(expectsPreface: Bool) {
        prefaceRemaining = expectsPreface ? Self.prefaceBytes : 0
    }

    /// True when the bytes seen so far end inside the preface or a frame.
    var isInsideFrame: Bool {
        (prefaceRemaining > 0 && prefaceRemaining < Self.prefaceBytes) || headerCollected > 0 || payloadRemaining > 0
    }

    /// Accounts for the next bytes received, in order.
    mutating func advance(_ bytes: UnsafeRawBufferPointer) {
        var index = 0
        let count = bytes.count
        if prefaceRemaining > 0 {
            let taken = min(prefaceRemaining, count)
            prefaceRemaining -= taken
            index += taken
        }
        while index < count {
            if payloadRemaining > 0 {
                let taken = min(payloadRemaining, count - index)
                payloadRemaining -= taken
                index += taken
                continue
            }
            // The first three header bytes are the payload length, big-endian.
            while headerCollected < Self.frameHeaderBytes, index < count {
                if headerCollected < 3 { headerLength = headerLength << 8 | Int(bytes[index]) }
                headerCollected += 1
                index += 1
            }
            if headerCollected == Self.frameHeaderBytes {
                payloadRemaining = headerLength
                headerCollected = 0
                headerLength = 0
            }
        }
    }
}
