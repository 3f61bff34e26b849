@testable import ClusterEngine
import SeededRandom
import Testing

/// The draw behind randomized election timeouts and the Raft simulator's choices: the values it
/// gave with ClusterEngine's own SplitMix64 before the generator moved to SeededRandom, so a
/// recorded simulator seed still replays the same run.
@Suite struct ElectionTimeoutDrawTests {
    @Test func belowGivesTheRecordedValues() {
        var g = SeededGenerator(seed: 9)
        #expect((0..<6).map { _ in g.below(1000) } == [228, 106, 638, 584, 601, 150])
    }
}
