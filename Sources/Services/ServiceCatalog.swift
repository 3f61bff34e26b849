import Logging
import RPC
import Wire

/// Builds the server's router: the standard gRPC services, the RuVector services, and
/// (for tests) the interop TestService. The one place that decides what is served.
public final class ServiceCatalog: Sendable {
    /// What to serve beyond the defaults.
    public struct Options: Sendable {
        /// Serve grpc.testing.TestService (interoperability tests only).
        public var enableInteropTestService: Bool
        public init(enableInteropTestService: Bool = false) {
            self.enableInteropTestService = enableInteropTestService
        }
    }

    /// RuVector services whose engine is not wired to the server yet. Each method answers
    /// UNIMPLEMENTED saying so; the README lists them. Remove a name here when its service
    /// is registered for real.
    public static let servicesNotYetAvailable = [
        "ruvector.v1.VectorService", "ruvector.v1.GraphService", "ruvector.v1.LearnService",
        "ruvector.v1.RouteService", "ruvector.v1.ClusterService",
    ]

    /// The router to hand to `GRPCServer`.
    public let router: RPCRouter
    /// Health statuses, for the server's lifecycle.
    public let health = HealthStatusRegistry()

    public init(options: Options, logger: Logger) {
        var router = RPCRouter()
        router.register(HealthService(registry: health))
        for name in Self.servicesNotYetAvailable {
            router.registerFallback(service: name) { _, _, context in
                let method = context.path.split(separator: "/").last.map(String.init) ?? context.path
                throw RPCError(.unimplemented,
                    "\(name)/\(method) is not available yet in this build of ruvector-server: its engine is not wired to the server (see README, 'Status')")
            }
        }
        if options.enableInteropTestService {
            router.register(InteropTestService())
        }
        // Reflection lists what the router serves, including itself.
        let served = router.serviceNames + ReflectionService.names
        router.register(ReflectionService(servedServices: { served.sorted() }))
        self.router = router
    }

    /// Marks the server and every served service SERVING (after the listener is up).
    public func markServing() {
        health.set(.serving, for: "")
        for name in router.serviceNames where !Self.servicesNotYetAvailable.contains(name) {
            health.set(.serving, for: name)
        }
    }

    /// Marks everything NOT_SERVING (at shutdown), so watchers learn before the drain.
    public func markNotServing() {
        health.setAll(.notServing)
    }
}
