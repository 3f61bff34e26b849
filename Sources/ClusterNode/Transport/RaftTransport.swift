import ClusterEngine
import Logging
import NIOPosix
import RPC
import Synchronization
import Wire

/// This node's links to its peers over our own gRPC stack: Raft messages out (batched per
/// peer, one long-lived stream each), snapshots out (chunked), and channels for forwarding a
/// client's request to the leader. Addresses come from the cluster's metadata; `routes`
/// override where a peer is dialled (a proxy, a tunnel) without changing its advertised address.
final class RaftTransport: Sendable {
    private let selfID: NodeID
    private let routes: [NodeID: String]
    private let tls: TLSConfiguration?
    private let callMetadata: Metadata
    private let logger: Logger
    private let events: PeerLinkEvents
    private let links = Mutex<[NodeID: PeerLink]>([:])
    private let advertised = Mutex<[NodeID: String]>([:])
    /// Addresses peers gave for themselves (`RaftBatch.from_address`), used only for peers the
    /// metadata does not place yet.
    private let announced = Mutex<[NodeID: String]>([:])
    /// This node's advertised address, sent with every batch.
    let selfAddress = Mutex("")
    /// One event loop of its own for the links' senders: on the concurrent pool they queued
    /// behind a write flood's pool work (the leader's heartbeats waited out followers' election
    /// timeouts), and on the Raft loop they would wait behind its fsyncs.
    private let senderLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let senderExecutor: EventLoopTaskExecutor

    init(selfID: NodeID, routes: [NodeID: String], tls: TLSConfiguration?, callMetadata: Metadata, logger: Logger, events: PeerLinkEvents) {
        self.selfID = selfID
        self.routes = routes
        self.tls = tls
        self.callMetadata = callMetadata
        self.logger = logger
        self.events = events
        senderExecutor = EventLoopTaskExecutor(senderLoop.next())
    }

    /// The members' advertised addresses (from the metadata), for dialling and for leader hints.
    func setAddresses(_ addresses: [NodeID: String]) {
        // Called after every applied batch: nothing to do unless a member moved or joined.
        let changed = advertised.withLock { known -> Bool in
            guard known != addresses else { return false }
            known = addresses
            return true
        }
        guard changed else { return }
        for (peer, link) in links.withLock({ $0 }) {
            if let address = routes[peer] ?? addresses[peer] { link.setAddress(address) }
        }
    }

    /// The advertised address of `node`, if known.
    func address(of node: NodeID) -> String? { advertised.withLock { $0[node] } ?? announced.withLock { $0[node] } }

    /// Where a connect probe may ask whether `peer` listens (`ConnectProbe`): the address it
    /// advertises in the metadata, where it listens itself. Nil for a peer dialled through a
    /// route (a proxy or tunnel answers there, and its refusals say nothing of the peer) or
    /// with no address in the metadata.
    func probeAddress(of peer: NodeID) -> String? {
        guard routes[peer] == nil else { return nil }
        return advertised.withLock { $0[peer] }
    }

    /// A peer's own word on where it is, kept while the metadata has no address for it (a node
    /// that just joined hears from a leader whose address it has not applied yet).
    func learnAddress(_ address: String, of peer: NodeID) {
        guard peer != selfID, PeerAddress.split(address) != nil, advertised.withLock({ $0[peer] }) == nil else { return }
        let changed = announced.withLock { known -> Bool in
            guard known[peer] != address else { return false }
            known[peer] = address
            return true
        }
        if changed, routes[peer] == nil, let link = links.withLock({ $0[peer] }) { link.setAddress(address) }
    }

    /// Sends a Ready's messages, each to its peer.
    func send(_ messages: [Message]) {
        var byPeer: [NodeID: [RuvectorV1.RaftMessage]] = [:]
        for message in messages where message.to != selfID {
            if message.kind == .snapshot {
                // The engine waits for the outcome of every snapshot it sends.
                guard let link = link(message.to) else {
                    events.snapshotSent(message.to, false)
                    continue
                }
                link.sendSnapshot(message)
            } else if let wire = RaftWireMapping.wire(message) {
                byPeer[message.to, default: []].append(wire)
            }
        }
        for (peer, batch) in byPeer { link(peer)?.send(batch) }
    }

    /// A channel to `peer` (for forwarding to the leader).
    func channel(to peer: NodeID, for purpose: ChannelPurpose = .raft) async throws -> GRPCChannel {
        guard let link = link(peer) else {
            throw ClusterError(.unavailable, "no address is known for node \(peer)")
        }
        return try await link.channel(purpose)
    }

    /// The link to `peer`, created on first use; nil while its address is unknown.
    private func link(_ peer: NodeID) -> PeerLink? {
        if let existing = links.withLock({ $0[peer] }) { return existing }
        guard let address = routes[peer] ?? address(of: peer) else { return nil }
        return links.withLock { links in
            if let existing = links[peer] { return existing }
            let created = PeerLink(peer: peer, selfID: selfID, selfAddress: selfAddress.withLock { $0 }, address: address, tls: tls, callMetadata: callMetadata, logger: logger,
                                   events: events, executor: senderExecutor)
            links[peer] = created
            return created
        }
    }

    /// Messages dropped per peer since start.
    var droppedMessages: [NodeID: Int] { links.withLock { $0.mapValues(\.droppedMessages) } }

    /// Closes every link.
    func close() async {
        let all = links.withLock { links in defer { links = [:] }; return Array(links.values) }
        for link in all { await link.close() }
        try? await senderLoop.shutdownGracefully()
    }
}
