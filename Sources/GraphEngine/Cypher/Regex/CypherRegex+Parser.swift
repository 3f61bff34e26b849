/// Pattern text to syntax tree: Java regex syntax, with refused constructs named.
extension CypherRegex {
    // MARK: - Parser

    indirect enum Node {
        case empty
        case literal(Unicode.Scalar, caseInsensitive: Bool)
        case dot(dotAll: Bool)
        case charClass(CharClass)
        case concatenation([Node])
        case alternation([Node])
        case repetition(Node, min: Int, max: Int?)
        case assertion(Assertion)
    }

    struct Flags {
        var caseInsensitive = false
        var dotAll = false
        var multiline = false
    }

    /// Recursive descent over the pattern's scalars, following java.util.regex.Pattern's
    /// grammar for the supported subset.
    struct Parser {
        private let pattern: [Unicode.Scalar]
        private let source: String
        private var position = 0
        private var flags = Flags()
        private var depth = 0
        private var groupNames: Set<String> = []

        init(_ source: String) {
            self.source = source
            pattern = Array(source.unicodeScalars)
        }

        mutating func parse() throws(GraphError) -> Node {
            let tree = try parseAlternation()
            if position < pattern.count {
                throw error("unmatched ')'", at: position)
            }
            return tree
        }

        /// The error for this pattern: `.runtime` (an ArgumentError), naming the pattern, the problem and where.
        func error(_ what: String, at index: Int, code: GraphError.Code = .runtime) -> GraphError {
            let shown = pattern.count <= 80 ? source : String(String.UnicodeScalarView(pattern.prefix(80))) + "…"
            return GraphError(code, "invalid regular expression '\(shown)': \(what) at index \(index)",
                              cypherClass: code == .runtime ? .argumentError : nil)
        }

        private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
            position + offset < pattern.count ? pattern[position + offset] : nil
        }

        private mutating func parseAlternation() throws(GraphError) -> Node {
            var branches = [try parseSequence()]
            while peek() == "|" {
                position += 1
                branches.append(try parseSequence())
            }
            return branches.count == 1 ? branches[0] : .alternation(branches)
        }

        private mutating func parseSequence() throws(GraphError) -> Node {
            var items: [Node] = []
            while let c = peek(), c != "|", c != ")" {
                if c == "\\", peek(1) == "Q" {
                    // \Q…\E quotes literally; a quantifier after it applies to the last scalar.
                    var quoted = parseQuoted()
                    guard let last = quoted.popLast() else { continue }
                    items += quoted
                    items.append(try parseQuantifier(last))
                    continue
                }
                guard let atom = try parseAtom() else { continue }
                items.append(try parseQuantifier(atom))
            }
            switch items.count {
            case 0: return .empty
            case 1: return items[0]
            default: return .concatenation(items)
            }
        }

        /// An atom, or nil for a flag group such as `(?i)` that matches nothing.
        private mutating func parseAtom() throws(GraphError) -> Node? {
            guard let c = peek() else { return .empty }
            switch c {
            case "(":
                return try parseGroup()
            case "[":
                return try parseClass()
            case ".":
                position += 1
                return .dot(dotAll: flags.dotAll)
            case "^":
                position += 1
                return .assertion(flags.multiline ? .startOfLine : .startOfInput)
            case "$":
                position += 1
                return .assertion(flags.multiline ? .endOfLine : .endOfInputOrFinalTerminator)
            case "*", "+", "?":
                throw error("dangling quantifier '\(c)' with nothing to repeat", at: position)
            case "{":
                throw error("'{' with nothing to repeat (write \\{ for a literal brace)", at: position)
            case "\\":
                let start = position
                switch try parseEscape(inClass: false) {
                case .scalar(let s): return literal(s)
                case .ranges(let r): return .charClass(CharClass(ranges: r, negated: false, caseInsensitive: false))
                case .assertion(let a): return .assertion(a)
                case .quote: throw error("unexpected \\Q", at: start)
                }
            default:
                position += 1
                return literal(c)
            }
        }

        private func literal(_ c: Unicode.Scalar) -> Node {
            .literal(c, caseInsensitive: flags.caseInsensitive)
        }

        /// Reads `\Q…\E` (or to the end of the pattern, as Java does) as literals.
        private mutating func parseQuoted() -> [Node] {
            position += 2
            var quoted: [Node] = []
            while let c = peek() {
                if c == "\\", peek(1) == "E" {
                    position += 2
                    break
                }
                quoted.append(literal(c))
                position += 1
            }
            return quoted
        }

        /// Applies a following quantifier, if any, to `atom`.
        private mutating func parseQuantifier(_ atom: Node) throws(GraphError) -> Node {
            guard let c = peek() else { return atom }
            let start = position
            let min: Int, max: Int?
            switch c {
            case "*": (min, max) = (0, nil); position += 1
            case "+": (min, max) = (1, nil); position += 1
            case "?": (min, max) = (0, 1); position += 1
            case "{": (min, max) = try parseCountedRepetition()
            default: return atom
            }
            // A lazy quantifier gives the same yes/no answer for a whole match.
            if peek() == "?" {
                position += 1
            } else if peek() == "+" {
                throw error("possessive quantifiers (such as *+) are not supported; drop the '+'", at: position)
            }
            if let next = peek(), next == "*" || next == "+" || next == "?" || next == "{" {
                throw error("dangling quantifier '\(next)' after the quantifier at index \(start); "
                            + "wrap the repeated part in a group", at: position)
            }
            return .repetition(atom, min: min, max: max)
        }

        /// `{n}`, `{n,}` or `{n,m}`, with the position on the `{`.
        private mutating func parseCountedRepetition() throws(GraphError) -> (Int, Int?) {
            let open = position
            position += 1
            guard let min = parseCount() else {
                throw error("'{' must start a repetition such as {2}, {2,} or {2,5} (write \\{ for a literal brace)",
                            at: open)
            }
            var max: Int? = min
            if peek() == "," {
                position += 1
                max = parseCount()
            }
            guard peek() == "}" else {
                throw error("unclosed counted repetition: expected '}'", at: open)
            }
            position += 1
            let largest = Swift.max(min, max ?? 0)
            if largest > CypherRegex.maxRepetitionCount {
                throw error("repetition count \(largest) exceeds the limit of \(CypherRegex.maxRepetitionCount)",
                            at: open, code: .limitExceeded)
            }
            if let max, max < min {
                throw error("repetition {\(min),\(max)} has its minimum greater than its maximum", at: open)
            }
            return (min, max)
        }

        /// Decimal digits, saturating well above the repetition limit; nil when there are none.
        private mutating func parseCount() -> Int? {
            var value: Int?
            while let c = peek(), ("0"..."9").contains(c) {
                value = Swift.min((value ?? 0) * 10 + Int(c.value - 0x30), 1_000_000)
                position += 1
            }
            return value
        }

        private mutating func parseGroup() throws(GraphError) -> Node? {
            let open = position
            depth += 1
            defer { depth -= 1 }
            if depth > CypherRegex.maxNestingDepth {
                throw error("groups nested more than \(CypherRegex.maxNestingDepth) deep", at: open, code: .limitExceeded)
            }
            position += 1
            let savedFlags = flags
            if peek() == "?" {
                position += 1
                switch peek() {
                case ":":
                    position += 1
                case "=":
                    throw error("lookahead (?=...) is not supported", at: open)
                case "!":
                    throw error("negative lookahead (?!...) is not supported", at: open)
                case ">":
                    throw error("atomic groups (?>...) are not supported", at: open)
                case "<" where peek(1) == "=":
                    throw error("lookbehind (?<=...) is not supported", at: open)
                case "<" where peek(1) == "!":
                    throw error("negative lookbehind (?<!...) is not supported", at: open)
                case "<":
                    position += 1
                    try parseGroupName(open: open)
                default:
                    // (?flags) sets flags to the end of the enclosing group; (?flags:...) only inside.
                    if try parseFlags(open: open) { return nil }
                }
            }
            let body = try parseAlternation()
            guard peek() == ")" else {
                throw error("missing ')' for the group opened", at: open)
            }
            position += 1
            flags = savedFlags
            return body
        }

        /// A Java group name (an ASCII letter, then letters and digits) and its '>'.
        private mutating func parseGroupName(open: Int) throws(GraphError) {
            var name = ""
            while let c = peek(), ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) {
                name.unicodeScalars.append(c)
                position += 1
            }
            guard peek() == ">", let first = name.unicodeScalars.first, !("0"..."9").contains(first) else {
                throw error("a group name must be a letter followed by letters and digits, then '>'", at: open)
            }
            guard groupNames.insert(name).inserted else {
                throw error("group name '\(name)' is already defined", at: open)
            }
            position += 1
        }

        /// Reads `ims-ims` then ')' (returns true) or ':' (returns false), updating `flags`.
        private mutating func parseFlags(open: Int) throws(GraphError) -> Bool {
            var enable = true
            while let c = peek() {
                position += 1
                switch c {
                case "i": flags.caseInsensitive = enable
                case "s": flags.dotAll = enable
                case "m": flags.multiline = enable
                case "u": break  // case folding is always Unicode-aware here
                case "-" where enable: enable = false
                case "d", "x", "U", "c":
                    throw error("inline flag '\(c)' is not supported (only i, s, m and u are)", at: position - 1)
                case ")": return true
                case ":": return false
                default:
                    throw error("unknown group construct or inline flag '\(c)'", at: position - 1)
                }
            }
            throw error("missing ')' for the group opened", at: open)
        }

        private mutating func parseClass() throws(GraphError) -> Node {
            let open = position
            position += 1
            let negated = peek() == "^"
            if negated { position += 1 }
            var ranges: [ClosedRange<UInt32>] = []
            var first = true
            while true {
                guard let c = peek() else {
                    throw error("missing ']' for the character class opened", at: open)
                }
                // As in Java, a ']' first in the class is a literal.
                if c == "]" && !first {
                    position += 1
                    break
                }
                first = false
                if c == "[" {
                    throw error("nested character classes ([a[b]]) are not supported; escape '[' as \\[", at: position)
                }
                if c == "&" && peek(1) == "&" {
                    throw error("character class intersection (&&) is not supported", at: position)
                }
                let low: Unicode.Scalar
                switch try parseClassMember() {
                case .ranges(let r):
                    ranges += r
                    continue
                case .scalar(let s):
                    low = s
                }
                if peek() == "-", let end = peek(1), end != "]", end != "[" {
                    let dash = position
                    position += 1
                    guard case .scalar(let high) = try parseClassMember() else {
                        throw error("a range cannot end with a class such as \\d", at: dash + 1)
                    }
                    guard low <= high else {
                        throw error("illegal range: its start is greater than its end", at: dash)
                    }
                    ranges.append(low.value...high.value)
                } else {
                    ranges.append(low.value...low.value)
                }
            }
            return .charClass(CharClass(ranges: CharClass.normalized(ranges), negated: negated,
                                        caseInsensitive: flags.caseInsensitive))
        }

        private enum ClassMember { case scalar(Unicode.Scalar), ranges([ClosedRange<UInt32>]) }

        private mutating func parseClassMember() throws(GraphError) -> ClassMember {
            guard let c = peek() else { return .ranges([]) }
            guard c == "\\" else {
                position += 1
                return .scalar(c)
            }
            let start = position
            switch try parseEscape(inClass: true) {
            case .scalar(let s): return .scalar(s)
            case .ranges(let r): return .ranges(r)
            case .assertion, .quote: throw error("this escape is not allowed inside [...]", at: start)
            }
        }

        private enum Escape {
            case scalar(Unicode.Scalar)
            case ranges([ClosedRange<UInt32>])
            case assertion(Assertion)
            case quote
        }

        /// One escape sequence, with the position on its backslash.
        private mutating func parseEscape(inClass: Bool) throws(GraphError) -> Escape {
            let start = position
            position += 1
            guard let c = peek() else {
                throw error("pattern ends with a lone backslash", at: start)
            }
            position += 1
            switch c {
            case "t": return .scalar("\t")
            case "n": return .scalar("\n")
            case "r": return .scalar("\r")
            case "f": return .scalar("\u{0C}")
            case "a": return .scalar("\u{07}")
            case "e": return .scalar("\u{1B}")
            case "0": return .scalar(try parseOctal(start: start))
            case "x": return .scalar(try parseHexEscape(start: start))
            case "u": return .scalar(try parseUnicodeEscape(start: start))
            case "c":
                guard let x = peek(), let control = Unicode.Scalar(x.value ^ 0x40) else {
                    throw error("\\c must be followed by a character", at: start)
                }
                position += 1
                return .scalar(control)
            case "d": return .ranges(CharClass.digit)
            case "D": return .ranges(CharClass.complement(CharClass.digit))
            case "w": return .ranges(CharClass.word)
            case "W": return .ranges(CharClass.complement(CharClass.word))
            case "s": return .ranges(CharClass.space)
            case "S": return .ranges(CharClass.complement(CharClass.space))
            case "h": return .ranges(CharClass.horizontalSpace)
            case "H": return .ranges(CharClass.complement(CharClass.horizontalSpace))
            case "v": return .ranges(CharClass.verticalSpace)
            case "V": return .ranges(CharClass.complement(CharClass.verticalSpace))
            case "b" where !inClass:
                if peek() == "{" && peek(1) == "g" && peek(2) == "}" {
                    throw error("grapheme cluster boundaries (\\b{g}) are not supported", at: start)
                }
                return .assertion(.wordBoundary)
            case "B" where !inClass: return .assertion(.notWordBoundary)
            case "A" where !inClass, "G" where !inClass: return .assertion(.startOfInput)
            case "z" where !inClass: return .assertion(.endOfInput)
            case "Z" where !inClass: return .assertion(.endOfInputOrFinalTerminator)
            case "Q" where !inClass: return .quote
            case "1"..."9", "k":
                throw error("backreferences (\\\(c)) are not supported", at: start)
            case "p", "P":
                throw error("Unicode property classes (\\\(c){...}) are not supported", at: start)
            case "Q":
                throw error("quoting with \\Q...\\E is not supported inside [...]", at: start)
            case "R", "X", "N":
                throw error("the escape \\\(c) is not supported", at: start)
            default:
                // Java: a backslash before a non-letter always means that character itself.
                if ("a"..."z").contains(c) || ("A"..."Z").contains(c) {
                    throw error("unknown escape sequence \\\(c)" + (inClass ? " inside [...]" : ""), at: start)
                }
                return .scalar(c)
            }
        }

        /// `\0n`, `\0nn` or `\0mnn` (m ≤ 3), after the `0`.
        private mutating func parseOctal(start: Int) throws(GraphError) -> Unicode.Scalar {
            var digits: [UInt32] = []
            while digits.count < 3, let c = peek(), ("0"..."7").contains(c) {
                if digits.count == 2 && digits[0] > 3 { break }
                digits.append(c.value - 0x30)
                position += 1
            }
            guard !digits.isEmpty, let scalar = Unicode.Scalar(digits.reduce(0) { $0 * 8 + $1 }) else {
                throw error("illegal octal escape: \\0 must be followed by octal digits", at: start)
            }
            return scalar
        }

        /// `\xhh` or `\x{h…h}`, after the `x`.
        private mutating func parseHexEscape(start: Int) throws(GraphError) -> Unicode.Scalar {
            let value: UInt32?
            if peek() == "{" {
                position += 1
                let digits = readHexDigits(max: 8)
                guard peek() == "}" else { throw error("unclosed \\x{...} escape", at: start) }
                position += 1
                value = digits
            } else {
                value = readHexDigits(exactly: 2)
            }
            guard let value, value <= 0x10FFFF, let scalar = Unicode.Scalar(value) else {
                throw error("illegal hexadecimal escape: expected \\xhh or \\x{h...h} naming a Unicode scalar", at: start)
            }
            return scalar
        }

        /// `\uhhhh`, after the `u`; a surrogate pair written as two escapes is one scalar.
        private mutating func parseUnicodeEscape(start: Int) throws(GraphError) -> Unicode.Scalar {
            guard let unit = readHexDigits(exactly: 4) else {
                throw error("illegal Unicode escape: expected \\u followed by 4 hexadecimal digits", at: start)
            }
            if let scalar = Unicode.Scalar(unit) { return scalar }
            if (0xD800...0xDBFF).contains(unit), peek() == "\\", peek(1) == "u" {
                let saved = position
                position += 2
                if let low = readHexDigits(exactly: 4), (0xDC00...0xDFFF).contains(low),
                   let scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) {
                    return scalar
                }
                position = saved
            }
            throw error("\\u escape is a lone surrogate; write a surrogate pair or \\x{...}", at: start)
        }

        private mutating func readHexDigits(exactly count: Int) -> UInt32? {
            let start = position
            let value = readHexDigits(max: count)
            guard position - start == count else {
                position = start
                return nil
            }
            return value
        }

        private mutating func readHexDigits(max: Int) -> UInt32? {
            var value: UInt32?
            var digits = 0
            while digits < max, let c = peek(), let digit = Self.hexValue(c) {
                value = (value ?? 0) << 4 | digit
                digits += 1
                position += 1
            }
            return value
        }

        private static func hexValue(_ c: Unicode.Scalar) -> UInt32? {
            switch c {
            case "0"..."9": return c.value - 0x30
            case "a"..."f": return c.value - 0x61 + 10
            case "A"..."F": return c.value - 0x41 + 10
            default: return nil
            }
        }
    }
}
