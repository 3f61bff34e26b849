/// A deterministic random number generator (SplitMix64), the same algorithm as VectorEngine's,
/// kept here so LearnEngine does not depend on VectorEngine (it needs none of its kernels).
/// Every random choice (initial weights, dropout masks, shuffles, reservoir slots) draws from one.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    /// The internal state; `SeededGenerator(seed: g.state)` continues the same sequence.
    public private(set) var state: UInt64

    /// Creates a generator whose sequence depends only on `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform `Double` in the open interval (0, 1).
    public mutating func nextUnitOpen() -> Double {
        (Double(next() >> 11) + 0.5) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal sample (Box-Muller).
    public mutating func nextGaussian() -> Double {
        let u1 = nextUnitOpen(), u2 = nextUnitOpen()
        return (-2 * Double.logarithm(u1)).squareRoot() * Double.cosine(2 * Double.pi * u2)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Double {
    @inlinable static func cosine(_ x: Double) -> Double { cos(x) }
}
