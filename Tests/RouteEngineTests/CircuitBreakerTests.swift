import LearnEngine

import Testing
@testable import RouteEngine

/// The breaker's state machine on a scripted clock.
@Suite struct CircuitBreakerTests {
    /// Asks `b` to admit one request at each time, in order.
    func admits(_ b: inout CircuitBreaker, _ times: [Int64]) -> [Bool] { times.map { b.admit(nowMillis: $0) } }

    @Test func opensAfterConsecutiveFailuresAndCoolsDown() {
        var b = CircuitBreaker()   // 5 failures, 30 s, 1 trial
        for t in 0..<4 { b.record(success: false, nowMillis: Int64(t)) }
        b.record(success: true, nowMillis: 4)          // a success resets the count
        #expect(b.state == .closed(failures: 0))
        for t in 5..<9 { b.record(success: false, nowMillis: Int64(t)) }
        let admitted = b.admit(nowMillis: 9)
        #expect(b.state == .closed(failures: 4) && admitted)
        b.record(success: false, nowMillis: 10)
        #expect(b.state == .open(sinceMillis: 10) && b.openings == 1)
        #expect(admits(&b, [10, 30_009]) == [false, false] && !b.wouldAdmit(nowMillis: 30_009))
        #expect(b.wouldAdmit(nowMillis: 30_010))
        #expect(admits(&b, [30_010]) == [true] && b.state == .halfOpen(admitted: 1))
        #expect(admits(&b, [30_011]) == [false], "one trial at a time")
        b.record(success: true, nowMillis: 30_050)
        #expect(b.state == .closed(failures: 0) && admits(&b, [30_051]) == [true])
    }

    @Test func aFailedTrialReopensForANewCoolDown() {
        var b = CircuitBreaker(config: CircuitBreakerConfig(failureThreshold: 2, coolDownMillis: 100, halfOpenTrials: 3))
        b.record(success: false, nowMillis: 0)
        b.record(success: false, nowMillis: 1)
        #expect(b.state == .open(sinceMillis: 1))
        #expect(admits(&b, [101, 102, 103, 104]) == [true, true, true, false])
        b.record(success: false, nowMillis: 105)
        #expect(b.state == .open(sinceMillis: 105) && b.openings == 2)
        // A late outcome (of a request sent before it opened) changes nothing while open.
        b.record(success: true, nowMillis: 150)
        #expect(b.state == .open(sinceMillis: 105))
        #expect(admits(&b, [204, 205]) == [false, true])
        b.record(success: true, nowMillis: 206)
        #expect(b.state == .closed(failures: 0))
        #expect(throws: LearnError.self) { try CircuitBreakerConfig(failureThreshold: 0).validate() }
    }

    @Test func extremeClockReadingsNeitherTrapNorAdmitEarly() {
        var b = CircuitBreaker(config: CircuitBreakerConfig(failureThreshold: 1))
        b.record(success: false, nowMillis: .max)
        #expect(admits(&b, [.min, 0, .max - 1]) == [false, false, false])
        var c = CircuitBreaker(config: CircuitBreakerConfig(failureThreshold: 1))
        c.record(success: false, nowMillis: .min)
        #expect(admits(&c, [.min + 29_999, .max]) == [false, true])
    }
}
