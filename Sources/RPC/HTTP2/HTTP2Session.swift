internal import CNghttp2
import NIOCore

/// Which side of the connection a session plays.
enum HTTP2Role {
    case server
    case client
}

/// A failure of the whole HTTP/2 connection (bad preface, protocol violation).
struct HTTP2SessionError: Error, CustomStringConvertible {
    /// The nghttp2 return code.
    let code: Int32
    var description: String { "HTTP/2 session error \(code)" }
}

/// Owns one nghttp2 session; every C call into nghttp2 is made here.
///
/// Not thread-safe: one session is used by one thread (its channel's event loop). The
/// delegate is held weakly-unowned: the owner keeps the session and outlives it.
final class HTTP2Session {
    private let session: OpaquePointer
    private unowned let delegate: any HTTP2SessionDelegate
    private let limits: HTTP2Limits
    /// The header block being received: HTTP/2 sends a block's frames back to back (RFC 9113
    /// section 4.3), so at most one is open at a time on a connection.
    /// `bytes` counts as SETTINGS_MAX_HEADER_LIST_SIZE does; past the limit the fields are
    /// dropped and `tooLarge` set, and the block is reported as too large once complete.
    private var pendingHeaders: (streamID: Int32, fields: [HTTP2Header], bytes: Int, tooLarge: Bool)?
    /// Streams to reset once their trailers are sent (the client had not finished its request).
    private var resetAfterTrailers = Set<Int32>()

    init(role: HTTP2Role, delegate: any HTTP2SessionDelegate, limits: HTTP2Limits) throws(HTTP2SessionError) {
        self.delegate = delegate
        self.limits = limits
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.install(callbacks)

        var option: OpaquePointer?
        nghttp2_option_new(&option)
        defer { nghttp2_option_del(option) }
        // Window updates follow what handlers actually consume: this is the backpressure.
        nghttp2_option_set_no_auto_window_update(option, 1)
        nghttp2_option_set_max_outbound_ack(option, 1000)
        nghttp2_option_set_max_settings(option, 32)

        var created: OpaquePointer?
        // The session is created before self is fully usable only through user_data, which
        // callbacks read later, once `session` is set.
        let placeholder = Unmanaged<HTTP2SessionBox>.passRetained(HTTP2SessionBox())
        let rc: Int32
        switch role {
        case .server:
            rc = nghttp2_session_server_new2(&created, callbacks, placeholder.toOpaque(), option)
        case .client:
            rc = nghttp2_session_client_new2(&created, callbacks, placeholder.toOpaque(), option)
        }
        guard rc == 0, let created else {
            placeholder.release()
            throw HTTP2SessionError(code: rc)
        }
        self.session = created
        placeholder.takeUnretainedValue().owner = self
        self.box = placeholder

        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                                   value: limits.maxConcurrentStreams),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                                   value: limits.initialWindowBytes),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue),
                                   value: limits.maxFrameBytes),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                                   value: UInt32(limits.maxHeaderListBytes)),
        ]
        if role == .client {
            settings.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0))
        }
        let settingsRC = nghttp2_submit_settings(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), settings, settings.count)
        guard settingsRC == 0 else { throw HTTP2SessionError(code: settingsRC) }
        // 65535 is the connection window every HTTP/2 connection starts with.
        if limits.connectionWindowBytes > 65535 {
            nghttp2_session_set_local_window_size(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, limits.connectionWindowBytes)
        }
    }

    private var box: Unmanaged<HTTP2SessionBox>?

    /// The bytes a server sends to turn a connection away before any stream: a GOAWAY with
    /// `code` and `debugData` saying why, after its preface (an empty SETTINGS frame) when
    /// `withPreface`. Made by nghttp2 once, sent as they are to every refused connection.
    static func refusalBytes(code: HTTP2ErrorCode, debugData: String, withPreface: Bool) -> [UInt8] {
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        defer { nghttp2_session_callbacks_del(callbacks) }
        var session: OpaquePointer?
        guard nghttp2_session_server_new(&session, callbacks, nil) == 0, let session else { return [] }
        defer { nghttp2_session_del(session) }
        var debug = Array(debugData.utf8)
        if withPreface { _ = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil, 0) }
        _ = nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, code.rawValue, &debug, debug.count)
        var bytes: [UInt8] = []
        while true {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            guard count > 0, let data else { return bytes }
            bytes += UnsafeBufferPointer(start: data, count: count)
        }
    }

    deinit {
        nghttp2_session_del(session)
        box?.release()
    }

    // MARK: Bytes in and out

    /// Feeds bytes read from the socket. Throws when the connection must be closed (after
    /// flushing `drainOutput`, which then holds a GOAWAY).
    func receive(_ bytes: UnsafeRawBufferPointer) throws(HTTP2SessionError) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let rc = nghttp2_session_mem_recv(session, base, bytes.count)
        if rc < 0 { throw HTTP2SessionError(code: Int32(truncatingIfNeeded: rc)) }
    }

    /// Appends every frame nghttp2 wants to send to `buffer`.
    func drainOutput(into buffer: inout ByteBuffer) throws(HTTP2SessionError) {
        while true {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            if count < 0 { throw HTTP2SessionError(code: Int32(truncatingIfNeeded: count)) }
            guard count > 0, let data else { return }
            buffer.writeBytes(UnsafeRawBufferPointer(start: data, count: count))
        }
    }

    /// True while the session still wants to read or write (false after GOAWAY is done).
    var isActive: Bool {
        nghttp2_session_want_read(session) != 0 || nghttp2_session_want_write(session) != 0
    }

    // MARK: Submitting frames

    /// Sends response headers; with `hasBody` the body comes from `http2ProvideData`,
    /// otherwise the HEADERS frame ends the stream (a gRPC trailers-only response).
    func submitResponse(streamID: Int32, headers: [HTTP2Header], hasBody: Bool) {
        Self.withNameValues(headers) { nva, count in
            if hasBody {
                var provider = Self.dataProvider()
                _ = nghttp2_submit_response(session, streamID, nva, count, &provider)
            } else {
                _ = nghttp2_submit_response(session, streamID, nva, count, nil)
            }
        }
    }

    /// Sends request headers (client side) and returns the new stream's id, or nil when
    /// the session cannot open more streams.
    func submitRequest(headers: [HTTP2Header]) -> Int32? {
        let id = Self.withNameValues(headers) { nva, count -> Int32 in
            var provider = Self.dataProvider()
            return nghttp2_submit_request(session, nil, nva, count, &provider, nil)
        }
        return id > 0 ? id : nil
    }

    /// Resumes a body whose provider answered `.deferred`.
    func resumeData(streamID: Int32) {
        _ = nghttp2_session_resume_data(session, streamID)
    }

    /// Resets a stream (RST_STREAM).
    func resetStream(streamID: Int32, code: HTTP2ErrorCode) {
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, code.rawValue)
    }

    /// Tells nghttp2 the application is done with `count` received body bytes, which lets it
    /// reopen the flow-control windows.
    func consume(streamID: Int32, count: Int) {
        guard count > 0 else { return }
        if nghttp2_session_consume(session, streamID, count) != 0 {
            // The stream is gone; the connection window still has to be given back.
            _ = nghttp2_session_consume_connection(session, count)
        }
    }

    /// The first step of a graceful shutdown: a GOAWAY announcing no new streams soon.
    func submitShutdownNotice() {
        _ = nghttp2_submit_shutdown_notice(session)
    }

    /// The final GOAWAY with the last stream id the server processed; `debugData` tells the
    /// peer why (RFC 9113 section 6.8: diagnostic text, never acted upon).
    func submitGoaway(code: HTTP2ErrorCode, debugData: String = "") {
        let last = nghttp2_session_get_last_proc_stream_id(session)
        var bytes = Array(debugData.utf8)
        _ = nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, code.rawValue, &bytes, bytes.count)
    }

    /// Bytes the peer lets us send on the whole connection now (its flow-control window).
    var connectionSendWindowBytes: Int {
        Int(nghttp2_session_get_remote_window_size(session))
    }

    /// Bytes the peer lets us send on `streamID` now by the stream's own window (the
    /// connection's may be smaller); 0 for a stream nghttp2 no longer knows.
    func streamSendWindowBytes(streamID: Int32) -> Int {
        max(0, Int(nghttp2_session_get_stream_remote_window_size(session, streamID)))
    }

    /// Sends a PING carrying `payload` (its ACK carries it back: `http2ReceivedPing`).
    func submitPing(payload: UInt64) {
        withUnsafeBytes(of: payload.bigEndian) { bytes in
            _ = nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// HEADERS and DATA frames sent so far (a client PING after one of them is no strike: see
    /// `ConnectionKeepalive`).
    private(set) var headersAndDataFramesSent: UInt64 = 0

    // MARK: Callback targets (called from the trampolines)

    fileprivate func onBeginHeaders(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
        var fields: [HTTP2Header] = []
        fields.reserveCapacity(8)
        pendingHeaders = (frame.pointee.hd.stream_id, fields, 0, false)
        return 0
    }

    fileprivate func onHeader(_ frame: UnsafePointer<nghttp2_frame>, _ name: UnsafePointer<UInt8>, _ nameCount: Int,
                              _ value: UnsafePointer<UInt8>, _ valueCount: Int) -> Int32 {
        let id = frame.pointee.hd.stream_id
        guard pendingHeaders?.streamID == id, pendingHeaders?.tooLarge == false else { return 0 }
        pendingHeaders!.bytes += nameCount + valueCount + 32
        if pendingHeaders!.bytes > limits.maxHeaderListBytes {
            // The rest of the block is decoded by nghttp2 (HPACK state depends on it) and
            // dropped here; the stream gets a status saying why, other streams go on.
            pendingHeaders!.fields = []
            pendingHeaders!.tooLarge = true
            return 0
        }
        pendingHeaders!.fields.append(HTTP2Header(
            name: String(decoding: UnsafeBufferPointer(start: name, count: nameCount), as: UTF8.self),
            value: String(decoding: UnsafeBufferPointer(start: value, count: valueCount), as: UTF8.self)))
        return 0
    }

    /// Once this stream's last HEADERS frame (trailers, or a trailers-only response) is on the
    /// wire, resets it with NO_ERROR: the response is complete before the request, and the client
    /// should stop sending (RFC 9113 section 8.1) so the stream does not stay half open. Reset
    /// then, not now: a reset queued beside the trailers can leave first, and the client would
    /// see the reset instead of the status.
    func resetWhenEnded(streamID: Int32) {
        resetAfterTrailers.insert(streamID)
    }

    /// A frame left: after the trailers of a stream whose client still sends, RST_STREAM(NO_ERROR).
    fileprivate func onFrameSent(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
        let header = frame.pointee.hd
        if UInt32(header.type) == NGHTTP2_HEADERS.rawValue || UInt32(header.type) == NGHTTP2_DATA.rawValue {
            headersAndDataFramesSent &+= 1
        }
        guard UInt32(header.type) == NGHTTP2_HEADERS.rawValue, header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0,
              resetAfterTrailers.remove(header.stream_id) != nil else { return 0 }
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), header.stream_id, NGHTTP2_NO_ERROR.rawValue)
        return 0
    }

    fileprivate func onFrameReceived(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
        let header = frame.pointee.hd
        let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch UInt32(header.type) {
        case NGHTTP2_HEADERS.rawValue:
            var fields: [HTTP2Header] = []
            let pending = pendingHeaders?.streamID == header.stream_id ? pendingHeaders : nil
            pendingHeaders = nil
            if let pending {
                guard !pending.tooLarge else {
                    delegate.http2HeadersTooLarge(streamID: header.stream_id)
                    return 0
                }
                fields = pending.fields
            }
            delegate.http2ReceivedHeaders(streamID: header.stream_id, headers: fields, endStream: endStream)
        case NGHTTP2_DATA.rawValue:
            if endStream { delegate.http2ReceivedEndStream(streamID: header.stream_id) }
        case NGHTTP2_SETTINGS.rawValue:
            if header.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) == 0 { delegate.http2ReceivedSettings() }
        case NGHTTP2_PING.rawValue:
            // nghttp2 has already queued the ACK of a PING (it acknowledges every one).
            let payload = withUnsafeBytes(of: frame.pointee.ping.opaque_data) { $0.loadUnaligned(as: UInt64.self) }
            delegate.http2ReceivedPing(ack: header.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0,
                                       payload: UInt64(bigEndian: payload))
        case NGHTTP2_GOAWAY.rawValue:
            let goaway = frame.pointee.goaway
            delegate.http2ReceivedGoaway(lastStreamID: goaway.last_stream_id, errorCode: goaway.error_code,
                                         debugData: HTTP2GoawayText.printable(
                                             UnsafeBufferPointer(start: goaway.opaque_data, count: goaway.opaque_data_len)))
        default:
            break
        }
        return 0
    }

    fileprivate func onDataChunk(_ streamID: Int32, _ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
        delegate.http2ReceivedData(streamID: streamID, bytes: UnsafeRawBufferPointer(start: data, count: count))
        return 0
    }

    fileprivate func onStreamClose(_ streamID: Int32, _ errorCode: UInt32) -> Int32 {
        resetAfterTrailers.remove(streamID)
        if pendingHeaders?.streamID == streamID { pendingHeaders = nil }
        delegate.http2StreamClosed(streamID: streamID, errorCode: errorCode)
        return 0
    }

    fileprivate func readData(_ streamID: Int32, _ buffer: UnsafeMutablePointer<UInt8>, _ length: Int,
                              _ flags: UnsafeMutablePointer<UInt32>) -> Int {
        switch delegate.http2ProvideData(streamID: streamID, into: UnsafeMutableRawBufferPointer(start: buffer, count: length)) {
        case .deferred:
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        case .data(let count, nil):
            return count
        case .data(let count, .endStream?):
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            return count
        case .data(let count, .trailers(let trailers)?):
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue | NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
            let rc = Self.withNameValues(trailers) { nva, nvCount in
                nghttp2_submit_trailer(session, streamID, nva, nvCount)
            }
            return rc == 0 ? count : Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
        }
    }

    // MARK: C plumbing


    fileprivate static func from(_ userData: UnsafeMutableRawPointer?) -> HTTP2Session {
        // The box is set before any callback can run (callbacks run inside mem_recv/mem_send).
        Unmanaged<HTTP2SessionBox>.fromOpaque(userData!).takeUnretainedValue().owner!
    }

    private static func dataProvider() -> nghttp2_data_provider {
        var provider = nghttp2_data_provider()
        provider.read_callback = { _, id, buf, len, flags, _, ud in HTTP2Session.from(ud).readData(id, buf!, len, flags!) }
        return provider
    }

    private static func install(_ callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, ud in HTTP2Session.from(ud).onBeginHeaders(frame!) }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nlen, value, vlen, _, ud in
            HTTP2Session.from(ud).onHeader(frame!, name!, nlen, value!, vlen)
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, ud in HTTP2Session.from(ud).onFrameReceived(frame!) }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, id, data, len, ud in
            HTTP2Session.from(ud).onDataChunk(id, data!, len)
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, id, code, ud in HTTP2Session.from(ud).onStreamClose(id, code) }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, ud in HTTP2Session.from(ud).onFrameSent(frame!) }
    }

    /// Lays the header fields out as an `nghttp2_nv` array valid for the duration of `body`
    /// (in one temporary allocation for the bytes and one for the array: on the stack when small).
    private static func withNameValues<R>(_ headers: [HTTP2Header], _ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        var byteCount = 0
        for header in headers { byteCount += header.name.utf8.count + header.value.utf8.count }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, byteCount)) { bytes in
            withUnsafeTemporaryAllocation(of: nghttp2_nv.self, capacity: max(1, headers.count)) { nva in
                var offset = 0
                for (index, header) in headers.enumerated() {
                    let name = bytes.baseAddress! + offset
                    offset = bytes[offset...].initialize(fromContentsOf: header.name.utf8)
                    let value = bytes.baseAddress! + offset
                    offset = bytes[offset...].initialize(fromContentsOf: header.value.utf8)
                    (nva.baseAddress! + index).initialize(to: nghttp2_nv(
                        name: name, value: value, namelen: value - name, valuelen: bytes.baseAddress! + offset - value,
                        flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
                }
                return body(nva.baseAddress!, headers.count)
            }
        }
    }
}

/// The object nghttp2's `user_data` points at; it refers back to the session once created.
private final class HTTP2SessionBox {
    unowned(unsafe) var owner: HTTP2Session?
}
