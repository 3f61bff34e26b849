import ClusterNode
import Logging
import RPC
import Wire

/// A node started with `--join HOST:PORT` asks that member to add it (following the leader
/// hint when the member is a follower) until the node finds itself in the configuration.
struct ClusterJoiner: Sendable {
    let node: ClusterNode
    let via: String
    let advertisedAddress: String
    let logger: Logger

    func start() {
        Task { await run() }
    }

    private func run() async {
        var target = via
        var attempt = 0
        while !isMember() {
            attempt += 1
            do {
                guard let (host, port) = PeerAddress.split(target) else {
                    logger.error("cannot join: the address to join through is not HOST:PORT", metadata: ["join": "\(target)"])
                    return
                }
                let channel = try await GRPCChannel.connect(host: host, port: port, tls: node.options.tls, metadata: node.options.callMetadata)
                defer { Task { await channel.close() } }
                let request = RuvectorV1.JoinRequest(nodeId: node.id, address: advertisedAddress)
                _ = try await channel.unary("/ruvector.v1.ClusterService/Join", request: request.encoded(), timeout: .seconds(5))
                logger.info("joined the cluster", metadata: ["via": "\(target)"])
                target = via
            } catch let error as RPCError {
                if let leader = error.trailingMetadata[ClusterMapping.leaderAddressKey] {
                    target = leader
                    continue
                }
                if attempt == 1 || attempt % 20 == 0 {
                    logger.warning("joining the cluster failed; retrying", metadata: ["via": "\(target)", "error": "\(error)"])
                }
                target = via
            } catch {
                if attempt == 1 || attempt % 20 == 0 {
                    logger.warning("joining the cluster failed; retrying", metadata: ["via": "\(target)", "error": "\(error)"])
                }
                // A hinted leader that cannot be reached may be gone: ask the given member again.
                target = via
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    private func isMember() -> Bool {
        let status = node.status
        return status.voters.contains(node.id) || status.learners.contains(node.id)
    }
}
