import Testing
@testable import RPC

private func pendingInline() -> PendingInlineCall {
    let context = ServerContext(path: "/test.Echo/Unary", requestMetadata: Metadata(), deadline: nil, peer: "test", connectionID: 1)
    return PendingInlineCall(handler: { request, _ in .response(request) }, cost: InlineCost(), context: context, started: .now)
}

private let okTrailers = [HTTP2Header(name: "grpc-status", value: "0")]

/// Collects what a request stream delivers until it ends; `failed` when it ended with an error.
private func drain(_ stream: AsyncThrowingStream<ReceivedMessage, any Error>) async -> (messages: Int, failed: Bool) {
    var count = 0
    do {
        for try await _ in stream { count += 1 }
        return (count, false)
    } catch {
        return (count, true)
    }
}

@Suite("Inline method cost (a moving average shared by connections)")
struct InlineCostTests {
    @Test("unmeasured is not cheap; cheap runs make it cheap; slow runs take it back past the threshold")
    func average() {
        let cost = InlineCost()
        #expect(!cost.isCheap)
        cost.record(nanos: 2_000)
        #expect(cost.isCheap)
        // One slow run among cheap ones moves the average by an eighth of it.
        cost.record(nanos: 50_000)
        #expect(cost.isCheap)
        for _ in 0..<4 { cost.record(nanos: 50_000) }
        #expect(!cost.isCheap)
        for _ in 0..<40 { cost.record(nanos: 1_000) }
        #expect(cost.isCheap)
    }

    @Test("measure records the handler's time, also when it throws")
    func measure() {
        let cost = InlineCost()
        #expect(cost.measure { 7 } == 7)
        #expect(cost.isCheap)
        let slow = InlineCost()
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try slow.measure {
                let end = ContinuousClock.now + .microseconds(50)
                while ContinuousClock.now < end {}
                throw Refused()
            }
        }
        #expect(!slow.isCheap)
    }
}

@Suite("Server call state (state machine, no channel)")
struct ServerCallStateTests {
    @Test("an inline unary call: request held until its end, then run; response headers, one message, trailers")
    func inlineUnary() {
        var state = ServerCallState()
        #expect(!state.acceptsRequests)
        state.route(inline: pendingInline())
        #expect(state.acceptsRequests && state.isInline)
        #expect(state.receiveInline([ReceivedMessage(bytes: [1, 2, 3])]) == 1)
        #expect(state.inlineRequestBytes == 3)
        guard case .runInline(let pending) = state.endOfRequests() else {
            Issue.record("the end of requests did not run the inline handler")
            return
        }
        #expect(pending.messages == [[1, 2, 3]])
        #expect(state.clientEnded && !state.acceptsRequests && state.inlineRequestBytes == 0)
        // The handler's answer: headers with the message, then the status.
        #expect(state.startBody() == true)
        #expect(state.startBody() == false)
        #expect(state.finish(trailers: okTrailers, web: false) == .endBody(resume: false))
        #expect(state.statusDecided && state.trailersQueued)
        #expect(state.finish(trailers: okTrailers, web: false) == .alreadyDecided)
        // nghttp2 takes the message and, the queue empty, the trailers.
        guard case .data(count: 8, end: .trailers(let trailers)?) = state.provideData(written: 8, queueEmpty: true) else {
            Issue.record("the body did not end with the trailers")
            return
        }
        #expect(trailers == okTrailers)
        #expect(state.response == .ended && !state.trailersQueued)
        #expect(state.streamClosed().cancelled == false)
    }

    @Test("a second request message on an inline call is counted (the caller fails the call); a compressed one is noted")
    func inlineSeveral() {
        var state = ServerCallState()
        state.route(inline: pendingInline())
        #expect(state.receiveInline([ReceivedMessage(bytes: [1])]) == 1)
        #expect(state.receiveInline([ReceivedMessage(bytes: [2]), ReceivedMessage(bytes: [3], wasCompressed: true)]) == 3)
        guard case .runInline(let pending) = state.endOfRequests() else {
            Issue.record("the end of requests did not run the inline handler")
            return
        }
        #expect(pending.compressed, "a compressed message was not noted for ServerContext.requestCompressed")
    }

    @Test("a status before any message is a trailers-only response; nothing is taken after it")
    func trailersOnly() {
        var state = ServerCallState()
        state.route(inline: pendingInline())
        #expect(state.stopRequests() == nil)   // a failure: the inline request is dropped
        #expect(state.finish(trailers: okTrailers, web: false) == .trailersOnly)
        #expect(state.response == .ended && state.statusDecided && state.responseStarted)
        #expect(!state.acceptsRequests)
        #expect(state.startBody() == false)
        #expect(state.dataQueued() == false)
        if case .none = state.endOfRequests() {} else { Issue.record("a decided call still took the end of requests") }
    }

    @Test("a streaming call: messages flow to the handler's stream, which ends when the client ends")
    func streamingRequests() async {
        var state = ServerCallState()
        let (stream, continuation) = AsyncThrowingStream<ReceivedMessage, any Error>.makeStream()
        state.route(streaming: continuation)
        #expect(state.acceptsRequests && !state.isInline)
        state.requestStream?.yield(ReceivedMessage(bytes: [1]))
        state.requestStream?.yield(ReceivedMessage(bytes: [2]))
        guard case .finishStream(let requests) = state.endOfRequests() else {
            Issue.record("the end of requests did not finish the stream")
            return
        }
        requests.finish()
        #expect(state.requestStream == nil)
        let (messages, failed) = await drain(stream)
        #expect(messages == 2 && !failed)
    }

    @Test("nghttp2 waits for data: deferred on an empty queue, resumed by the next message or by the status")
    func deferredData() {
        var state = ServerCallState()
        #expect(state.startBody() == true)
        #expect(state.dataQueued() == false)                        // not deferred: nothing to resume
        #expect(state.provideData(written: 0, queueEmpty: true) == .deferred)
        #expect(state.dataQueued() == true)                          // resume once
        #expect(state.dataQueued() == false)
        if case .data(count: 5, end: nil) = state.provideData(written: 5, queueEmpty: true) {} else {
            Issue.record("a message without a status should not end the body")
        }
        #expect(state.provideData(written: 0, queueEmpty: true) == .deferred)
        #expect(state.finish(trailers: okTrailers, web: false) == .endBody(resume: true))
    }

    @Test("gRPC-Web: the status is the body's last frame, and the body ends with END_STREAM once it is sent")
    func webBody() {
        var state = ServerCallState()
        #expect(state.startBody() == true)
        #expect(state.finish(trailers: okTrailers, web: true) == .endBody(resume: false))
        #expect(!state.trailersQueued)
        if case .data(count: 3, end: nil) = state.provideData(written: 3, queueEmpty: false) {} else {
            Issue.record("the body ended before its queue was empty")
        }
        if case .data(count: 3, end: .endStream?) = state.provideData(written: 3, queueEmpty: true) {} else {
            Issue.record("the body did not end with END_STREAM")
        }
        #expect(state.response == .ended)
    }

    @Test("answered without a handler: a refusal has no body; a static file's body ends with END_STREAM")
    func answeredWithoutHandler() {
        var refused = ServerCallState()
        refused.answeredWithoutBody()
        #expect(refused.statusDecided && !refused.acceptsRequests)
        #expect(refused.finish(trailers: okTrailers, web: false) == .alreadyDecided)

        var file = ServerCallState()
        file.answeredWithBody()
        #expect(file.statusDecided && !file.trailersQueued)
        if case .data(count: 10, end: .endStream?) = file.provideData(written: 10, queueEmpty: true) {} else {
            Issue.record("the file's body did not end")
        }
    }

    @Test("the client resets a running call: cancelled, and its request stream ends with an error")
    func clientCancels() async {
        var state = ServerCallState()
        let (stream, continuation) = AsyncThrowingStream<ReceivedMessage, any Error>.makeStream()
        state.route(streaming: continuation)
        #expect(state.startBody() == true)
        let (cancelled, requests) = state.streamClosed()
        #expect(cancelled)
        requests?.finish(throwing: CancellationError())
        #expect(await drain(stream).failed)
        // Closed twice (a reset on a stall, then the stream's close): the second is not a cancel.
        #expect(state.streamClosed().cancelled == false)
        #expect(state.streamClosed().requests == nil)
    }

    @Test("a handler that returns while the client still streams: its stream ends, without error, when the stream closes")
    func handlerReturnsEarly() async {
        var state = ServerCallState()
        let (stream, continuation) = AsyncThrowingStream<ReceivedMessage, any Error>.makeStream()
        state.route(streaming: continuation)
        #expect(state.finish(trailers: okTrailers, web: false) == .trailersOnly)
        #expect(!state.acceptsRequests)
        let (cancelled, requests) = state.streamClosed()
        #expect(!cancelled)
        requests?.finish()
        #expect(await drain(stream).failed == false)
    }
}
