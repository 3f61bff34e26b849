import LearnEngine

/// Circuit-breaker settings (RuVector's defaults: open after 5 consecutive failures, for 30 s).
public struct CircuitBreakerConfig: Equatable, Sendable {
    /// Consecutive failures that open a closed breaker.
    public var failureThreshold = 5
    /// How long an open breaker refuses before it lets trial requests through.
    public var coolDownMillis: Int64 = 30_000
    /// Trial requests a half-open breaker admits before it hears back from one of them.
    public var halfOpenTrials = 1

    /// The defaults (5 failures, 30 s, 1 trial).
    public init(failureThreshold: Int = 5, coolDownMillis: Int64 = 30_000, halfOpenTrials: Int = 1) {
        self.failureThreshold = failureThreshold
        self.coolDownMillis = coolDownMillis
        self.halfOpenTrials = halfOpenTrials
    }

    /// Throws `invalidConfiguration` unless every value is at least 1 (the cool-down at least 0).
    public func validate() throws(LearnError) {
        guard failureThreshold >= 1 else { throw LearnError(.invalidConfiguration, "breaker failure threshold must be >= 1") }
        guard coolDownMillis >= 0 else { throw LearnError(.invalidConfiguration, "breaker cool-down must be >= 0 ms") }
        guard halfOpenTrials >= 1 else { throw LearnError(.invalidConfiguration, "breaker half-open trials must be >= 1") }
    }
}

/// One candidate's circuit breaker, a state machine driven by events and an injected clock (`nowMillis`,
/// any monotonic origin the host chooses; it never reads one itself):
///
/// - closed: every request passes; `failureThreshold` consecutive failures open it (a success resets the count).
/// - open: requests are refused until `coolDownMillis` after opening; the first request after that turns
///   it half-open.
/// - half-open: admits up to `halfOpenTrials` trial requests; the first trial success closes it, the first
///   failure opens it again for a new cool-down. Further requests are refused while the trials are out.
public struct CircuitBreaker: Equatable, Sendable {
    /// The breaker's state.
    public enum State: Equatable, Sendable {
        /// Passing requests; `failures` consecutive failures so far.
        case closed(failures: Int)
        /// Refusing since `sinceMillis`.
        case open(sinceMillis: Int64)
        /// Trial requests admitted so far.
        case halfOpen(admitted: Int)
    }

    /// The settings.
    public let config: CircuitBreakerConfig
    /// The current state.
    public private(set) var state: State = .closed(failures: 0)
    /// Times it opened (from closed or half-open), for status counters.
    public private(set) var openings = 0

    /// A closed breaker.
    public init(config: CircuitBreakerConfig = CircuitBreakerConfig()) {
        self.config = config
    }

    /// A breaker open since `openSinceMillis` (on the host's clock): a host restoring the breakers it
    /// persisted. The cool-down runs from `openSinceMillis`, so a breaker whose cool-down passed while
    /// the host was down admits a trial at the next request. `openings` starts at 0: it counts what
    /// this breaker saw, not what the one before the restart did.
    public init(config: CircuitBreakerConfig, openSinceMillis: Int64) {
        self.config = config
        state = .open(sinceMillis: openSinceMillis)
    }

    /// Whether a request may go to this candidate now, without changing anything (for listing).
    public func wouldAdmit(nowMillis: Int64) -> Bool {
        switch state {
        case .closed: true
        case let .open(since): cooledDown(since: since, nowMillis: nowMillis)
        case let .halfOpen(admitted): admitted < config.halfOpenTrials
        }
    }

    /// Asks to send one request now; true when admitted (a half-open admission counts as a trial).
    public mutating func admit(nowMillis: Int64) -> Bool {
        switch state {
        case .closed:
            return true
        case let .open(since):
            guard cooledDown(since: since, nowMillis: nowMillis) else { return false }
            state = .halfOpen(admitted: 1)
            return true
        case let .halfOpen(admitted):
            guard admitted < config.halfOpenTrials else { return false }
            state = .halfOpen(admitted: admitted + 1)
            return true
        }
    }

    /// Records the outcome of a request the candidate served.
    public mutating func record(success: Bool, nowMillis: Int64) {
        switch state {
        case let .closed(failures):
            if success {
                state = .closed(failures: 0)
            } else if failures + 1 >= config.failureThreshold {
                open(nowMillis)
            } else {
                state = .closed(failures: failures + 1)
            }
        case .halfOpen:
            if success { state = .closed(failures: 0) } else { open(nowMillis) }
        case .open:
            // A late outcome of a request sent before the breaker opened: it changes nothing.
            break
        }
    }

    /// Whether the cool-down since `since` has passed; any two clock readings, even ones far apart
    /// (a host's clock origin is its own), compare without overflow.
    func cooledDown(since: Int64, nowMillis: Int64) -> Bool {
        let (elapsed, overflow) = nowMillis.subtractingReportingOverflow(since)
        return overflow ? nowMillis > since : elapsed >= config.coolDownMillis
    }

    mutating func open(_ nowMillis: Int64) {
        state = .open(sinceMillis: nowMillis)
        openings += 1
    }
}
