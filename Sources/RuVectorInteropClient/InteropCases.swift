import RPC
import Wire

/// A failed expectation in an interop case.
struct InteropFailure: Error, CustomStringConvertible {
    let description: String
}

private func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw InteropFailure(description: message()) }
}

private let service = "/grpc.testing.TestService/"
private let specialMessage = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"

private func zeros(_ count: Int) -> GrpcTesting.Payload { GrpcTesting.Payload(body: [UInt8](repeating: 0, count: count)) }

private func pingPongRequest(_ responseSize: Int32, _ payloadSize: Int) -> GrpcTesting.StreamingOutputCallRequest {
    GrpcTesting.StreamingOutputCallRequest(responseParameters: [GrpcTesting.ResponseParameters(size: responseSize)],
                                           payload: zeros(payloadSize))
}

/// Expects the call to fail with `code` (and `message`, when given).
private func expectStatus(_ code: StatusCode, _ message: String? = nil, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as RPCError {
        try check(error.code == code, "expected \(code), got \(error.code): \(error.message)")
        if let message { try check(error.message == message, "expected message \(message.debugDescription), got \(error.message.debugDescription)") }
        return
    }
    throw InteropFailure(description: "expected \(code), the call succeeded")
}

enum InteropCases {
    static let all: [(name: String, body: @Sendable (GRPCChannel) async throws -> Void)] = [
        ("empty_unary", emptyUnary), ("large_unary", largeUnary), ("client_streaming", clientStreaming),
        ("server_streaming", serverStreaming), ("ping_pong", pingPong), ("empty_stream", emptyStream),
        ("timeout_on_sleeping_server", timeoutOnSleepingServer), ("cancel_after_begin", cancelAfterBegin),
        ("cancel_after_first_response", cancelAfterFirstResponse), ("status_code_and_message", statusCodeAndMessage),
        ("special_status_message", specialStatusMessage), ("custom_metadata", customMetadata),
        ("unimplemented_method", unimplementedMethod), ("unimplemented_service", unimplementedService),
    ]

    static func emptyUnary(_ channel: GRPCChannel) async throws {
        let (bytes, _) = try await channel.unary(service + "EmptyCall", request: GrpcTesting.Empty().encoded())
        _ = try GrpcTesting.Empty(decoding: bytes)
    }

    static func largeUnary(_ channel: GRPCChannel) async throws {
        let request = GrpcTesting.SimpleRequest(responseSize: 314_159, payload: zeros(271_828))
        let (bytes, _) = try await channel.unary(service + "UnaryCall", request: request.encoded())
        let response = try GrpcTesting.SimpleResponse(decoding: bytes)
        try check(response.payload?.body == [UInt8](repeating: 0, count: 314_159), "payload is not 314159 zero bytes")
    }

    static func clientStreaming(_ channel: GRPCChannel) async throws {
        let call = try await channel.makeCall(path: service + "StreamingInputCall")
        for size in [27_182, 8, 1_828, 45_904] {
            try await call.send(GrpcTesting.StreamingInputCallRequest(payload: zeros(size)).encoded())
        }
        call.closeSend()
        var responses: [GrpcTesting.StreamingInputCallResponse] = []
        for try await bytes in call.responses { responses.append(try .init(decoding: bytes)) }
        try check(responses.map(\.aggregatedPayloadSize) == [74_922], "aggregated sizes \(responses.map(\.aggregatedPayloadSize))")
    }

    static func serverStreaming(_ channel: GRPCChannel) async throws {
        let sizes: [Int32] = [31_415, 9, 2_653, 58_979]
        let request = GrpcTesting.StreamingOutputCallRequest(responseParameters: sizes.map { GrpcTesting.ResponseParameters(size: $0) })
        let call = try await channel.makeCall(path: service + "StreamingOutputCall")
        try await call.send(request.encoded())
        call.closeSend()
        var received: [Int] = []
        for try await bytes in call.responses {
            let body = try GrpcTesting.StreamingOutputCallResponse(decoding: bytes).payload?.body ?? []
            try check(body.allSatisfy { $0 == 0 }, "payload is not zeros")
            received.append(body.count)
        }
        try check(received == sizes.map(Int.init), "sizes \(received)")
    }

    static func pingPong(_ channel: GRPCChannel) async throws {
        let call = try await channel.makeCall(path: service + "FullDuplexCall")
        var responses = call.responses.makeAsyncIterator()
        for (responseSize, payloadSize) in [(Int32(31_415), 27_182), (9, 8), (2_653, 1_828), (58_979, 45_904)] {
            try await call.send(pingPongRequest(responseSize, payloadSize).encoded())
            let bytes = try await responses.next()
            let response = try GrpcTesting.StreamingOutputCallResponse(decoding: bytes ?? [])
            try check(response.payload?.body.count == Int(responseSize), "response size for \(responseSize)")
        }
        call.closeSend()
        try check(try await responses.next() == nil, "unexpected extra response")
    }

    static func emptyStream(_ channel: GRPCChannel) async throws {
        let call = try await channel.makeCall(path: service + "FullDuplexCall")
        call.closeSend()
        var count = 0
        for try await _ in call.responses { count += 1 }
        try check(count == 0, "\(count) responses to an empty stream")
    }

    static func timeoutOnSleepingServer(_ channel: GRPCChannel) async throws {
        try await expectStatus(.deadlineExceeded) {
            let call = try await channel.makeCall(path: service + "FullDuplexCall", timeout: .milliseconds(1))
            try? await call.send(GrpcTesting.StreamingOutputCallRequest(payload: zeros(27_182)).encoded())
            for try await _ in call.responses {}
        }
    }

    static func cancelAfterBegin(_ channel: GRPCChannel) async throws {
        let call = try await channel.makeCall(path: service + "StreamingInputCall")
        call.cancel()
        let result = await call.result()
        try check(result.status.code == .cancelled, "status \(result.status)")
    }

    static func cancelAfterFirstResponse(_ channel: GRPCChannel) async throws {
        let call = try await channel.makeCall(path: service + "FullDuplexCall")
        var responses = call.responses.makeAsyncIterator()
        try await call.send(pingPongRequest(31_415, 27_182).encoded())
        _ = try await responses.next()
        call.cancel()
        let result = await call.result()
        try check(result.status.code == .cancelled, "status \(result.status)")
    }

    static func statusCodeAndMessage(_ channel: GRPCChannel) async throws {
        let status = GrpcTesting.EchoStatus(code: 2, message: "test status message")
        try await expectStatus(.unknown, "test status message") {
            _ = try await channel.unary(service + "UnaryCall", request: GrpcTesting.SimpleRequest(responseStatus: status).encoded())
        }
        try await expectStatus(.unknown, "test status message") {
            let call = try await channel.makeCall(path: service + "FullDuplexCall")
            try await call.send(GrpcTesting.StreamingOutputCallRequest(responseStatus: status).encoded())
            call.closeSend()
            for try await _ in call.responses {}
        }
    }

    static func specialStatusMessage(_ channel: GRPCChannel) async throws {
        let status = GrpcTesting.EchoStatus(code: 2, message: specialMessage)
        try await expectStatus(.unknown, specialMessage) {
            _ = try await channel.unary(service + "UnaryCall", request: GrpcTesting.SimpleRequest(responseStatus: status).encoded())
        }
    }

    static func customMetadata(_ channel: GRPCChannel) async throws {
        var metadata = Metadata()
        metadata.add("x-grpc-test-echo-initial", "test_initial_metadata_value")
        metadata.add("x-grpc-test-echo-trailing-bin", bytes: [0xAB, 0xAB, 0xAB])
        let request = GrpcTesting.SimpleRequest(responseSize: 314_159, payload: zeros(271_828))
        let (_, result) = try await channel.unary(service + "UnaryCall", request: request.encoded(), metadata: metadata)
        try checkEchoed(result)

        let call = try await channel.makeCall(path: service + "FullDuplexCall", metadata: metadata)
        try await call.send(pingPongRequest(314_159, 271_828).encoded())
        call.closeSend()
        for try await _ in call.responses {}
        try checkEchoed(await call.result())
    }

    private static func checkEchoed(_ result: CallResult) throws {
        try check(result.initialMetadata["x-grpc-test-echo-initial"] == "test_initial_metadata_value", "initial metadata not echoed")
        try check(result.trailingMetadata.binaryValues(forKey: "x-grpc-test-echo-trailing-bin") == [[0xAB, 0xAB, 0xAB]],
                  "trailing metadata not echoed")
    }

    static func unimplementedMethod(_ channel: GRPCChannel) async throws {
        try await expectStatus(.unimplemented) {
            _ = try await channel.unary(service + "UnimplementedCall", request: GrpcTesting.Empty().encoded())
        }
    }

    static func unimplementedService(_ channel: GRPCChannel) async throws {
        try await expectStatus(.unimplemented) {
            _ = try await channel.unary("/grpc.testing.UnimplementedService/UnimplementedCall", request: GrpcTesting.Empty().encoded())
        }
    }
}
