import Synchronization

/// Serving status per service name ("" is the whole server), with watchers notified on
/// every change. Shared by the health service and the server's lifecycle.
public final class HealthStatusRegistry: Sendable {
    /// The statuses of grpc.health.v1 a service can be in.
    public enum ServingStatus: Sendable, Equatable {
        case serving
        case notServing
        /// Only reported to watchers of a name that is not registered.
        case serviceUnknown
    }

    private struct State {
        var statuses: [String: ServingStatus] = [:]
        var watchers: [Int: (service: String, continuation: AsyncStream<ServingStatus>.Continuation)] = [:]
        var nextWatcherID = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Sets (and announces) the status of `service`.
    public func set(_ status: ServingStatus, for service: String) {
        let watchers = state.withLock { state in
            state.statuses[service] = status
            return state.watchers.values.filter { $0.service == service }.map(\.continuation)
        }
        for watcher in watchers { watcher.yield(status) }
    }

    /// Sets every registered service, and the server itself, to `status`.
    public func setAll(_ status: ServingStatus) {
        let names = state.withLock { Array($0.statuses.keys) }
        for name in names { set(status, for: name) }
    }

    /// The current status, or nil for a name never registered.
    public func status(of service: String) -> ServingStatus? {
        state.withLock { $0.statuses[service] }
    }

    /// A stream of statuses for `service`: the current one first, then each change. The
    /// stream keeps only the newest unread status (a slow watcher skips intermediate ones).
    public func watch(_ service: String) -> AsyncStream<ServingStatus> {
        let (stream, continuation) = AsyncStream<ServingStatus>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state -> Int in
            let id = state.nextWatcherID
            state.nextWatcherID += 1
            state.watchers[id] = (service, continuation)
            continuation.yield(state.statuses[service] ?? .serviceUnknown)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}
