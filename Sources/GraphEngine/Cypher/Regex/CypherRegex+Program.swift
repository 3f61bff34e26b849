/// The compiled form of a `CypherRegex`: instructions, assertions, the state sets of the
/// Thompson simulation, and character classes with case folding.
extension CypherRegex {
    // MARK: - Program

    enum Instruction: Sendable {
        case scalar(Unicode.Scalar)
        /// A scalar under case-insensitive matching: matches when the input folds to `key`.
        case foldedScalar(UInt32)
        case anyScalar
        case anyExceptLineTerminator
        case charClass(Int)
        case split(Int, Int)
        case jump(Int)
        case assertion(Assertion)
        case match
    }

    /// Zero-width tests, with Java's definitions (java.util.regex.Pattern's Begin, Caret,
    /// Dollar and Bound nodes).
    enum Assertion: Sendable {
        case startOfInput                  // ^, \A, \G
        case startOfLine                   // (?m)^
        case endOfInput                    // \z
        case endOfInputOrFinalTerminator   // $, \Z
        case endOfLine                     // (?m)$
        case wordBoundary                  // \b
        case notWordBoundary               // \B

        func holds(at w: Window) -> Bool {
            switch self {
            case .startOfInput:
                return w.previous == nil
            case .startOfLine:
                // Java (like Perl) never matches (?m)^ at the end of input, even after a newline.
                guard let current = w.current else { return false }
                guard let previous = w.previous else { return true }
                if previous == "\r" && current == "\n" { return false }
                return isLineTerminator(previous)
            case .endOfInput:
                return w.current == nil
            case .endOfInputOrFinalTerminator:
                guard let current = w.current else { return true }
                guard let next = w.next else {
                    return current == "\n" ? w.previous != "\r" : isLineTerminator(current)
                }
                return w.afterNext == nil && current == "\r" && next == "\n"
            case .endOfLine:
                guard let current = w.current else { return true }
                return current == "\n" ? w.previous != "\r" : isLineTerminator(current)
            case .wordBoundary:
                return isWordScalar(w.previous) != isWordScalar(w.current)
            case .notWordBoundary:
                return isWordScalar(w.previous) == isWordScalar(w.current)
            }
        }
    }

    /// The input scalars around the current position, enough for every assertion.
    struct Window {
        var previous: Unicode.Scalar?
        var current: Unicode.Scalar?
        var next: Unicode.Scalar?
        var afterNext: Unicode.Scalar?
    }

    /// Java's line terminators (without UNIX_LINES).
    static func isLineTerminator(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x0A, 0x0D, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }

    /// `\w` as Java defines it by default (ASCII); `\b` uses the same definition, as since JDK 19.
    static func isWordScalar(_ c: Unicode.Scalar?) -> Bool {
        switch c?.value {
        case .some(0x30...0x39), .some(0x41...0x5A), .some(0x5F), .some(0x61...0x7A): return true
        default: return false
        }
    }

    /// A set of NFA states with O(1) insert, test and clear (Briggs–Torczon sparse set).
    struct StateSet {
        var dense: [Int32]
        var sparse: [Int32]
        var count = 0

        init(capacity: Int) {
            dense = Array(repeating: 0, count: capacity)
            sparse = Array(repeating: 0, count: capacity)
        }
        var isEmpty: Bool { count == 0 }
        func contains(_ pc: Int) -> Bool {
            let i = Int(sparse[pc])
            return i < count && Int(dense[i]) == pc
        }
        mutating func insert(_ pc: Int) {
            dense[count] = Int32(pc)
            sparse[pc] = Int32(count)
            count += 1
        }
        mutating func removeAll() { count = 0 }
    }

    // MARK: - Characters

    /// The simple (one scalar to one scalar) case mappings of an input scalar.
    struct CaseVariants {
        var lower: UInt32
        var upper: UInt32
        /// Equal for two scalars exactly when they match each other case-insensitively.
        var folded: UInt32

        init(_ c: Unicode.Scalar) {
            if c.isASCII {
                let v = c.value
                lower = (0x41...0x5A).contains(v) ? v + 0x20 : v
                upper = (0x61...0x7A).contains(v) ? v - 0x20 : v
                folded = lower
            } else {
                let up = Self.single(c.properties.uppercaseMapping) ?? c
                lower = (Self.single(c.properties.lowercaseMapping) ?? c).value
                upper = up.value
                folded = (Self.single(up.properties.lowercaseMapping) ?? up).value
            }
        }
        var hasOtherCase: Bool { lower != upper || lower != folded }

        /// The mapping when it is one scalar; mappings such as ß → "SS" are not simple folds.
        private static func single(_ mapping: String) -> Unicode.Scalar? {
            var scalars = mapping.unicodeScalars.makeIterator()
            guard let first = scalars.next(), scalars.next() == nil else { return nil }
            return first
        }
    }

    /// A bracket expression or predefined class: sorted, disjoint ranges of scalar values.
    struct CharClass: Sendable {
        var ranges: [ClosedRange<UInt32>]
        var negated: Bool
        var caseInsensitive: Bool

        static let digit: [ClosedRange<UInt32>] = [0x30...0x39]
        static let word: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
        static let space: [ClosedRange<UInt32>] = [0x09...0x0D, 0x20...0x20]
        static let horizontalSpace: [ClosedRange<UInt32>] = [0x09...0x09, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680,
                                                             0x180E...0x180E, 0x2000...0x200A, 0x202F...0x202F,
                                                             0x205F...0x205F, 0x3000...0x3000]
        static let verticalSpace: [ClosedRange<UInt32>] = [0x0A...0x0D, 0x85...0x85, 0x2028...0x2029]

        /// Sorts and merges overlapping or adjacent ranges.
        static func normalized(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
            var merged: [ClosedRange<UInt32>] = []
            for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
                if let last = merged.last, r.lowerBound <= last.upperBound &+ 1 {
                    merged[merged.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
                } else {
                    merged.append(r)
                }
            }
            return merged
        }

        /// Every scalar value not in `ranges` (which must be normalized).
        static func complement(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
            var result: [ClosedRange<UInt32>] = []
            var start: UInt32 = 0
            for r in ranges {
                if r.lowerBound > start { result.append(start...(r.lowerBound - 1)) }
                start = r.upperBound + 1
            }
            if start <= 0x10FFFF { result.append(start...0x10FFFF) }
            return result
        }

        func contains(_ value: UInt32) -> Bool {
            var low = 0, high = ranges.count
            while low < high {
                let mid = (low + high) / 2
                if ranges[mid].upperBound < value { low = mid + 1 } else { high = mid }
            }
            return low < ranges.count && ranges[low].contains(value)
        }

        /// Java applies case folding to the class's members and then its negation, so
        /// `(?i)[^a]` does not match "A".
        func matches(_ c: Unicode.Scalar, _ variants: CaseVariants?) -> Bool {
            var hit = contains(c.value)
            if !hit, caseInsensitive, let v = variants {
                hit = contains(v.lower) || contains(v.upper) || contains(v.folded)
            }
            return hit != negated
        }
    }
}
