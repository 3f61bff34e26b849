import ClusterEngine
import Logging
import RPC
import Synchronization
import Wire

/// The connection from this node to one peer: one long-lived `RaftService/Send` stream that
/// carries this node's messages for that peer in batches (everything queued since the last
/// send goes in one message), and InstallSnapshot transfers, one at a time. Messages that
/// cannot be delivered are dropped (Raft retries what matters) and the node is told the peer
/// is unreachable, so it stops pipelining to it.
final class PeerLink: Sendable {
    let peer: NodeID
    private let selfID: NodeID
    private let selfAddress: String
    private let tls: TLSConfiguration?
    private let callMetadata: Metadata
    private let logger: Logger
    private let events: PeerLinkEvents
    private let state = Mutex(State())
    private let wake: AsyncStream<Void>.Continuation
    private let sender: Mutex<Task<Void, Never>?> = Mutex(nil)

    private struct State {
        var address: String
        var queue: [RuvectorV1.RaftMessage] = []
        var channels: [ChannelPurpose: GRPCChannel] = [:]
        var connecting = false
        var snapshotRunning = false
        var closed = false
        /// Messages dropped because the queue was full or the link down (for metrics).
        var dropped = 0
        init(address: String = "") { self.address = address }
    }

    /// Messages held for a peer while its stream is busy; more are dropped.
    static let queueLimit = 4096
    /// Snapshot chunk size.
    static let chunkBytes = 1 << 20

    /// `executor`: where the sender runs (an event loop of the transport's, off the concurrent pool).
    init(peer: NodeID, selfID: NodeID, selfAddress: String, address: String, tls: TLSConfiguration?, callMetadata: Metadata, logger: Logger,
         events: PeerLinkEvents, executor: any TaskExecutor) {
        self.peer = peer
        self.selfID = selfID
        self.selfAddress = selfAddress
        self.tls = tls
        self.callMetadata = callMetadata
        self.logger = logger
        self.events = events
        state.withLock { $0.address = address }
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wake = continuation
        let task = Task(executorPreference: executor) { [self] in await run(stream) }
        sender.withLock { $0 = task }
    }

    /// Where the peer is dialled (a new address applies to the next connection).
    func setAddress(_ address: String) {
        let old = state.withLock { s -> [GRPCChannel] in
            guard s.address != address else { return [] }
            s.address = address
            defer { s.channels = [:] }
            return Array(s.channels.values)
        }
        if !old.isEmpty { Task { for channel in old { await channel.close() } } }
    }

    var address: String { state.withLock { $0.address } }
    var droppedMessages: Int { state.withLock { $0.dropped } }

    /// Queues messages for the peer (never blocks).
    func send(_ messages: [RuvectorV1.RaftMessage]) {
        state.withLock { s in
            let room = max(0, Self.queueLimit - s.queue.count)
            s.queue += messages.prefix(room)
            s.dropped += messages.count - min(room, messages.count)
        }
        wake.yield()
    }

    /// The channel to the peer for `purpose`, connecting when there is none. Raft messages and
    /// the node's own forwarded calls use one connection, shard data (replication streams,
    /// snapshot transfers, forwarded writes and reads) another, so megabytes of data never
    /// queue ahead of a heartbeat on one TCP connection.
    func channel(_ purpose: ChannelPurpose = .raft) async throws -> GRPCChannel {
        if let channel = state.withLock({ $0.channels[purpose] }) { return channel }
        let address = self.address
        guard let (host, port) = PeerAddress.split(address) else {
            throw ClusterError(.unavailable, "peer \(peer) has no usable address (\(address))")
        }
        let channel = try await GRPCChannel.connect(host: host, port: port, tls: tls, metadata: callMetadata)
        let (kept, extra) = state.withLock { s -> (GRPCChannel, GRPCChannel?) in
            if let existing = s.channels[purpose] { return (existing, channel) }
            if s.closed { return (channel, channel) }
            s.channels[purpose] = channel
            return (channel, nil)
        }
        if let extra { await extra.close() }
        return kept
    }

    private func run(_ wakes: AsyncStream<Void>) async {
        var call: ClientCall?
        var backoffMillis = 0
        for await _ in wakes {
            if state.withLock({ $0.closed }) { break }
            let batch = state.withLock { s -> [RuvectorV1.RaftMessage] in defer { s.queue = [] }; return s.queue }
            guard !batch.isEmpty else { continue }
            do {
                if call == nil {
                    call = try await channel().makeCall(path: "/ruvector.v1.RaftService/Send")
                }
                try await call?.send(RuvectorV1.RaftBatch(from: selfID, messages: batch, fromAddress: selfAddress).encoded())
                backoffMillis = 0
            } catch {
                call?.cancel()
                call = nil
                state.withLock { $0.dropped += batch.count }
                events.unreachable(peer)
                if backoffMillis == 0 {
                    logger.debug("peer unreachable", metadata: ["peer": "\(peer)", "error": "\(error)"])
                }
                // Retry soon, then less often: a dead peer costs a refused connect per backoff, not per heartbeat.
                backoffMillis = min(max(backoffMillis * 2, 20), 500)
                try? await Task.sleep(for: .milliseconds(backoffMillis))
                state.withLock { s in s.dropped += s.queue.count; s.queue = [] }
            }
        }
        call?.cancel()
    }

    /// Streams a snapshot to the peer in chunks (resuming where the peer says it stopped) and
    /// reports the result; a transfer already running for this peer makes this a no-op.
    func sendSnapshot(_ message: Message) {
        guard let snapshot = message.snapshot else {
            events.snapshotSent(peer, false)
            return
        }
        let start = state.withLock { s -> Bool in
            guard !s.snapshotRunning, !s.closed else { return false }
            s.snapshotRunning = true
            return true
        }
        guard start else { return }
        Task { [self] in
            let succeeded: Bool
            do {
                try await transfer(snapshot, term: message.term)
                succeeded = true
            } catch {
                logger.info("snapshot transfer failed", metadata: ["peer": "\(peer)", "index": "\(snapshot.index)", "error": "\(error)"])
                succeeded = false
            }
            state.withLock { $0.snapshotRunning = false }
            events.snapshotSent(peer, succeeded)
        }
    }

    private func transfer(_ snapshot: Snapshot, term: UInt64) async throws {
        let call = try await channel().makeCall(path: "/ruvector.v1.RaftService/InstallSnapshot", timeout: .seconds(60))
        var header = RuvectorV1.InstallSnapshotRequest(
            term: term, leaderId: selfID, lastIncludedIndex: snapshot.index, lastIncludedTerm: snapshot.term,
            voters: snapshot.configuration.voters.sorted(), learners: snapshot.configuration.learners.sorted(),
            totalBytes: UInt64(snapshot.data.count), to: peer)
        try await call.send(header.encoded())
        var responses = call.responses.makeAsyncIterator()
        guard let first = try await responses.next() else { throw ClusterError(.unavailable, "the peer ended the transfer") }
        var offset = Int(min(try RuvectorV1.InstallSnapshotResponse(decoding: first).nextOffset, UInt64(snapshot.data.count)))
        repeat {
            let end = min(offset + Self.chunkBytes, snapshot.data.count)
            header.offset = UInt64(offset)
            header.data = Array(snapshot.data[offset..<end])
            header.done = end == snapshot.data.count
            try await call.send(header.encoded())
            offset = end
        } while offset < snapshot.data.count
        call.closeSend()
        while let bytes = try await responses.next() {
            if try RuvectorV1.InstallSnapshotResponse(decoding: bytes).done { return }
        }
        throw ClusterError(.unavailable, "the peer did not confirm the snapshot")
    }

    /// Stops sending and closes the connection.
    func close() async {
        let channels = state.withLock { s -> [GRPCChannel] in
            s.closed = true
            defer { s.channels = [:] }
            return Array(s.channels.values)
        }
        wake.finish()
        sender.withLock { $0?.cancel() }
        for channel in channels { await channel.close() }
    }
}

/// What a connection to a peer carries (see `PeerLink.channel(_:)`).
public enum ChannelPurpose: Hashable, Sendable {
    /// Raft messages and the node's forwarded proposals and reads.
    case raft
    /// Shard data: replication, transfers, forwarded point calls.
    case data
}

/// What a link tells its node.
struct PeerLinkEvents: Sendable {
    /// A message for the peer could not be delivered.
    var unreachable: @Sendable (NodeID) -> Void
    /// A snapshot transfer ended (true: the peer installed it).
    var snapshotSent: @Sendable (NodeID, Bool) -> Void
}

/// Node addresses, HOST:PORT.
public enum PeerAddress {
    /// HOST and PORT of "HOST:PORT" (an IPv6 host in brackets); nil when it is not one.
    public static func split(_ address: String) -> (host: String, port: Int)? {
        guard address.utf8.count <= 261, let colon = address.lastIndex(of: ":"),
              let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        return (host, port)
    }
}
