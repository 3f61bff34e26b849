import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One TCP connect to a peer's address, to tell "nothing listens there" (the connect is
/// refused) from everything else (it connects, times out, cannot resolve, is unreachable).
///
/// A refused connect to the address a node advertises and listens on is the host's kernel
/// saying that no socket listens on that port: the node's process is gone (or not started
/// yet). A server listens before it joins the cluster and stops taking writes before it stops
/// listening, so a process that listens on nothing holds no primary lease. Everything else is
/// no proof: a paused or partitioned node still accepts connects (or they time out), and a
/// proxy in between accepts and then resets.
enum ConnectProbe {
    /// What one connect attempt showed.
    enum Outcome: Equatable, Sendable {
        /// Every address the host resolved to refused the connection (ECONNREFUSED).
        case refused
        /// The connection was established (and closed at once).
        case connected
        /// Anything else: a timeout, a resolution failure, an unreachable network.
        case inconclusive
    }

    /// Connects to `host:port` once, within `timeout`, on `group`.
    static func probe(host: String, port: Int, timeout: TimeAmount, group: any EventLoopGroup) async -> Outcome {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { _ in group.any().makeSucceededVoidFuture() }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            try? await channel.close()
            return .connected
        } catch {
            return refused(error) ? .refused : .inconclusive
        }
    }

    /// Whether a connect error means the peer's host refused every attempt.
    static func refused(_ error: any Error) -> Bool {
        if let single = error as? IOError { return single.errnoCode == ECONNREFUSED }
        if let combined = error as? NIOConnectionError {
            // A name that did not resolve gives no attempts at all: no proof.
            return !combined.connectionErrors.isEmpty && combined.connectionErrors.allSatisfy { refused($0.error) }
        }
        return false
    }
}
