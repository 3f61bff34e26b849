#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A deterministic random number generator (SplitMix64, Steele, Lea and Flood 2014). The engines
/// draw no unseeded randomness: every random choice (HNSW levels, k-means, initial weights,
/// dropout masks, reservoir slots, Raft election timeouts) comes from one of these, so the same
/// seed gives the same result.
///
/// ```swift
/// var rng = SeededGenerator(seed: 42)
/// let level = Int.random(in: 0..<16, using: &rng)
/// ```
///
/// Inlinable: the engines draw from it in loops (dropout masks, shuffles), as they did when each
/// had its own copy.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    @usableFromInline var counter: UInt64

    /// The internal state; `SeededGenerator(seed: g.state)` continues the same sequence.
    @inlinable public var state: UInt64 { counter }

    /// Creates a generator whose sequence depends only on `seed`.
    @inlinable public init(seed: UInt64) { counter = seed }

    /// The next 64 random bits.
    @inlinable public mutating func next() -> UInt64 {
        counter &+= 0x9E37_79B9_7F4A_7C15
        var z = counter
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A well-mixed 64-bit value of `x`: the first value of `SeededGenerator(seed: x)`. For
    /// deriving unrelated seeds from related numbers (a node id, a term).
    @inlinable public static func mix(_ x: UInt64) -> UInt64 {
        var generator = SeededGenerator(seed: x)
        return generator.next()
    }

    /// A uniform `Double` in the open interval (0, 1).
    @inlinable public mutating func nextUnitOpen() -> Double {
        (Double(next() >> 11) + 0.5) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal sample (Box-Muller).
    public mutating func nextGaussian() -> Double {
        let u1 = nextUnitOpen(), u2 = nextUnitOpen()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
