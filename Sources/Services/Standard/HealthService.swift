import RPC
import Wire

/// `grpc.health.v1.Health`: Check answers the current status (NOT_FOUND for a service the
/// server does not have); Watch streams the status and every change (SERVICE_UNKNOWN for an
/// unknown name, as the protocol asks, while it stays unknown).
struct HealthService: RPCService {
    static let name = "grpc.health.v1.Health"
    let registry: HealthStatusRegistry

    func register(into router: inout RPCRouter) {
        let registry = self.registry
        // Answered on the event loop: health stays responsive whatever the work pools are doing.
        router.inlineUnary(Self.name, "Check", GrpcHealthV1.HealthCheckRequest.self) { request, _ in
            guard let status = registry.status(of: request.service) else {
                throw RPCError(.notFound, "unknown service '\(request.service)'; ask the server's reflection service for the list")
            }
            return GrpcHealthV1.HealthCheckResponse(status: Self.wireStatus(status))
        }
        router.serverStreaming(Self.name, "Watch", GrpcHealthV1.HealthCheckRequest.self,
                               GrpcHealthV1.HealthCheckResponse.self) { request, writer, _ in
            for await status in registry.watch(request.service) {
                try Task.checkCancellation()
                try await writer.send(GrpcHealthV1.HealthCheckResponse(status: Self.wireStatus(status)))
            }
        }
    }

    static func wireStatus(_ status: HealthStatusRegistry.ServingStatus) -> GrpcHealthV1.HealthCheckResponse.ServingStatus {
        switch status {
        case .serving: return .serving
        case .notServing: return .notServing
        case .serviceUnknown: return .serviceUnknown
        }
    }
}
