import Testing
@testable import Wire

@Suite("generated wire types")
struct WireRoundTripTests {
    @Test("health messages round-trip")
    func health() throws {
        let response = GrpcHealthV1.HealthCheckResponse(status: .serving)
        let decoded = try GrpcHealthV1.HealthCheckResponse(decoding: response.encoded())
        #expect(decoded == response)
    }
}
