/// The `grpc-timeout` header: at most 8 ASCII digits followed by a unit
/// (H hours, M minutes, S seconds, m millis, u micros, n nanos).
enum GRPCTimeout {
    /// Parses a header value into nanoseconds; nil when malformed.
    static func parseNanos(_ value: String) -> Int64? {
        let bytes = Array(value.utf8)
        guard bytes.count >= 2, bytes.count <= 9 else { return nil }
        var amount: Int64 = 0
        for digit in bytes.dropLast() {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            amount = amount * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        let multiplier: Int64
        switch bytes[bytes.count - 1] {
        case UInt8(ascii: "H"): multiplier = 3_600_000_000_000
        case UInt8(ascii: "M"): multiplier = 60_000_000_000
        case UInt8(ascii: "S"): multiplier = 1_000_000_000
        case UInt8(ascii: "m"): multiplier = 1_000_000
        case UInt8(ascii: "u"): multiplier = 1_000
        case UInt8(ascii: "n"): multiplier = 1
        default: return nil
        }
        let (product, overflow) = amount.multipliedReportingOverflow(by: multiplier)
        return overflow ? Int64.max : product
    }

    /// Formats a timeout with the finest unit whose amount fits in 8 digits.
    static func format(nanos: Int64) -> String {
        let nanos = max(nanos, 1)
        let units: [(Int64, String)] = [(1, "n"), (1_000, "u"), (1_000_000, "m"),
                                         (1_000_000_000, "S"), (60_000_000_000, "M"),
                                         (3_600_000_000_000, "H")]
        for (size, unit) in units {
            let amount = (nanos + size - 1) / size
            if amount <= 99_999_999 { return "\(amount)\(unit)" }
        }
        return "99999999H"
    }
}
