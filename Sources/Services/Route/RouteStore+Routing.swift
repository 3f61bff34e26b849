import LearnEngine
import RPC
import RouteEngine
import Storage
import Wire

extension RouteStore {
    /// Decides where a request goes (`features` validated). The model's probabilities are computed
    /// outside the lock; the breakers, cursor and counters change under it. An untrained router gives
    /// every candidate probability 0, so the policy's fallback decides.
    func route(_ features: [Float], requestID: String, nowMillis: Int64) throws -> RuvectorV1.RouteDecision {
        let (model, version) = state.withLock { ($0.model, $0.modelStatus.modelVersion) }
        let probabilities = try model.map { try $0.probabilities(features).map(Double.init) }
        return state.withLock { s in
            let available = s.breakers.map { $0.wouldAdmit(nowMillis: nowMillis) }
            let decision = policy.decide(probabilities: probabilities ?? candidates.map { _ in 0 }, candidates: candidates,
                                         conformal: model == nil ? nil : s.conformal, available: available,
                                         roundRobinCursor: &s.roundRobinCursor)
            if let chosen = decision.chosen {
                _ = s.breakers[chosen].admit(nowMillis: nowMillis)
                s.routedPerCandidate[chosen] += 1
            }
            s.requestsRouted += 1
            var id = requestID
            if id.isEmpty {
                s.nextRequestNumber += 1
                id = "\(name)-\(nowMillis)-\(s.nextRequestNumber)"
            }
            s.pending.insert(id, features)
            var answer = RuvectorV1.RouteDecision(chosen: decision.chosen.map { candidates[$0].name } ?? "",
                                                  confidence: probabilities == nil ? 0 : Float(decision.confidence),
                                                  predictionSet: decision.predictionSet.map { candidates[$0].name },
                                                  reason: Self.reason(decision.reason, trained: model != nil), modelVersion: version,
                                                  skippedOpen: decision.skippedOpen.map { candidates[$0].name }, requestId: id)
            if let probabilities {
                answer.alternatives = candidates.indices.sorted { probabilities[$0] > probabilities[$1] }
                    .map { RuvectorV1.ScoredCandidate(name: candidates[$0].name, score: Float(probabilities[$0])) }
            }
            return answer
        }
    }

    static func reason(_ reason: RouteReason, trained: Bool) -> RuvectorV1.DecisionReason {
        switch reason {
        case .noneAvailable: return .noneAvailable
        case _ where !trained: return .fallbackUntrained
        case .model: return .bestScore
        case .uncertain: return .uncertain
        case .lowConfidence: return .fallbackLowConfidence
        case .breakerOpen: return .fallbackCircuitOpen
        }
    }

    /// The features of a request routed recently under `id` (nil: unknown or forgotten).
    func pendingFeatures(_ id: String) -> [Float]? {
        state.withLock { $0.pending.features(of: id) }
    }

    /// The index of candidate `name`, or INVALID_ARGUMENT.
    func candidateIndex(_ name: String) throws -> Int {
        guard let i = candidates.firstIndex(where: { $0.name == name }) else {
            throw RPCError(.invalidArgument, "router \(MessageText.quoted(self.name)) has no candidate \(MessageText.quoted(name)); "
                + "its candidates: \(candidates.map(\.name).joined(separator: ", "))")
        }
        return i
    }

    /// The router's status: the stored model's metrics, counters and every breaker.
    func status() -> RuvectorV1.RouterStatus {
        let outcomeLog = self.outcomeLog
        return state.withLock { s in
            var status = s.modelStatus
            status.router = name
            status.outcomesRecorded = s.outcomesRecorded
            status.requestsRouted = s.requestsRouted
            status.conformalAlpha = definition.conformalAlpha
            status.outcomeLogRecords = outcomeLog.records
            status.outcomeLogBytes = outcomeLog.bytes
            status.breakers = candidates.indices.map { i in
                let breaker = s.breakers[i]
                var b = RuvectorV1.CircuitBreakerStatus(candidate: candidates[i].name, openings: UInt64(breaker.openings),
                                                        routed: s.routedPerCandidate[i])
                switch breaker.state {
                case let .closed(failures):
                    b.state = .closed
                    b.consecutiveFailures = UInt32(failures)
                case let .open(since):
                    b.state = .open
                    b.consecutiveFailures = UInt32(breaker.config.failureThreshold)
                    b.retryAtUnixMicros = (since &+ breaker.config.coolDownMillis) &* 1000
                case .halfOpen:
                    b.state = .halfOpen
                }
                return b
            }
            return status
        }
    }
}
