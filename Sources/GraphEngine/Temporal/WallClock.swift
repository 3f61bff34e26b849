#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the current time comes from for `datetime()`, `date()` and the others called without
/// a value: the system's real-time clock, or a fixed instant a test sets.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Int64

    /// A clock reading `read` (nanoseconds since 1970-01-01T00:00Z).
    public init(_ read: @escaping @Sendable () -> Int64) { self.read = read }

    /// The system's real-time clock.
    public static let system = WallClock {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// A clock stopped at `epochNanos`.
    public static func fixed(epochNanos: Int64) -> WallClock { WallClock { epochNanos } }

    /// Nanoseconds since 1970-01-01T00:00Z now.
    public func epochNanos() -> Int64 { read() }
}
