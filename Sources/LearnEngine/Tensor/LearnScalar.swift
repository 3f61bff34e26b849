#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The element type of every tensor and layer: `Float` in the server, `Double` in the
/// gradient checks, which compare against finite differences at a precision `Float` cannot reach.
public protocol LearnScalar: BinaryFloatingPoint, Sendable {
    /// e^x.
    static func exponential(_ x: Self) -> Self
    /// The natural logarithm.
    static func logarithm(_ x: Self) -> Self
    /// The hyperbolic tangent.
    static func hyperbolicTangent(_ x: Self) -> Self
}

extension Float: LearnScalar {
    /// e^x (libm `expf`).
    @inlinable public static func exponential(_ x: Float) -> Float { expf(x) }
    /// ln x (libm `logf`).
    @inlinable public static func logarithm(_ x: Float) -> Float { logf(x) }
    /// tanh x (libm `tanhf`).
    @inlinable public static func hyperbolicTangent(_ x: Float) -> Float { tanhf(x) }
}

extension Double: LearnScalar {
    /// e^x (libm `exp`).
    @inlinable public static func exponential(_ x: Double) -> Double { exp(x) }
    /// ln x (libm `log`).
    @inlinable public static func logarithm(_ x: Double) -> Double { log(x) }
    /// tanh x (libm `tanh`).
    @inlinable public static func hyperbolicTangent(_ x: Double) -> Double { tanh(x) }
}

extension LearnScalar {
    /// The logistic function 1 / (1 + e^-x), written so large |x| neither overflows nor loses sign.
    @inlinable static func sigmoid(_ x: Self) -> Self {
        if x >= 0 { return 1 / (1 + exponential(-x)) }
        let e = exponential(x)
        return e / (1 + e)
    }
}
