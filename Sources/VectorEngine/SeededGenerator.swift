/// A deterministic random number generator (SplitMix64). The engine never draws
/// unseeded randomness: every random choice (HNSW levels, k-means) comes from one of these.
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
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }
}

// Tiny libm-free helpers so the engine does not import Foundation.
@inline(__always) func _log(_ x: Double) -> Double { x.logValue }
@inline(__always) func _cos(_ x: Double) -> Double { x.cosValue }

extension Double {
    /// Natural logarithm via the stdlib's `Float80`-free path (`log` from Glibc/Darwin is not imported).
    var logValue: Double {
        // ln(x) = ln(m * 2^e) = ln(m) + e ln 2, m in [1,2); series on atanh form.
        precondition(self > 0)
        let e = Double(self.exponent)
        let m = self.significand
        let y = (m - 1) / (m + 1)
        let y2 = y * y
        var term = y, sum = 0.0, n = 1.0
        for _ in 0..<40 { sum += term / n; term *= y2; n += 2 }
        return 2 * sum + e * 0.693_147_180_559_945_3
    }

    var cosValue: Double {
        // Reduce to [-pi, pi] and sum the Taylor series.
        var x = self.truncatingRemainder(dividingBy: 2 * Double.pi)
        if x > Double.pi { x -= 2 * Double.pi } else if x < -Double.pi { x += 2 * Double.pi }
        let x2 = x * x
        var term = 1.0, sum = 1.0
        for i in stride(from: 2, through: 40, by: 2) {
            term *= -x2 / Double((i - 1) * i)
            sum += term
        }
        return sum
    }
}
