import Foundation
import Testing
import VectorEngine
@testable import GraphEngine

@Suite struct CypherRegexTests {
    struct MatchCase: Sendable, CustomTestStringConvertible {
        var pattern: String
        var input: String
        var expected: Bool
        init(_ pattern: String, _ input: String, _ expected: Bool) {
            (self.pattern, self.input, self.expected) = (pattern, input, expected)
        }
        var testDescription: String { "\(pattern.debugDescription) =~ \(input.debugDescription) is \(expected)" }
    }

    /// Java `String.matches` answers for every supported feature.
    static let matchCases: [MatchCase] = [
        // Literals and whole-string semantics
        .init("", "", true), .init("", "a", false),
        .init("abc", "abc", true), .init("abc", "abcd", false), .init("abc", "xabc", false),
        .init("a|b", "ab", false), .init("a|b", "b", true), .init("a|", "", true), .init("(|a)b", "b", true),
        .init("ab*c", "ac", true), .init("ab*c", "abbbc", true), .init("ab*c", "abbd", false),
        .init("ab+c", "ac", false), .init("ab?c", "abc", true), .init("ab?c", "abbc", false),
        .init(" x#y ", " x#y ", true), .init("a}", "a}", true), .init("]", "]", true),
        // Escapes
        .init(#"\.\\\*\+\?\(\)\[\]\{\}\|\^\$\/\-"#, #".\*+?()[]{}|^$/-"#, true),
        .init(#"a\.c"#, "abc", false),
        .init(#"\n\t\r\f"#, "\n\t\r\u{0C}", true),
        .init(#"\a\e\cA"#, "\u{07}\u{1B}\u{01}", true),
        .init(#"caf\u00e9"#, "caf\u{E9}", true), .init(#"\u00E9"#, "e\u{301}", false),
        .init(#"\uD83D\uDE00"#, "\u{1F600}", true), .init(#"\x{1F600}\x41"#, "\u{1F600}A", true),
        .init(#"\0101\012"#, "A\n", true), .init(#"\0400"#, " 0", true),
        .init(#"\Qa.b*\E"#, "a.b*", true), .init(#"\Qa.b*\E"#, "axbbb", false), .init(#"\Qab\E+"#, "abbb", true),
        .init(#"\Qa|b"#, "a|b", true),
        // Dot and line terminators
        .init(".", "x", true), .init(".", "\u{E9}", true), .init(".", "\u{1F600}", true),
        .init(".", "e\u{301}", false), .init("..", "e\u{301}", true), .init(".", "", false),
        .init("a.c", "a\nc", false), .init("(?s)a.c", "a\nc", true), .init(".", "\r", false),
        .init(".", "\u{85}", false), .init(".", "\u{2028}", false), .init(".", "\u{2029}", false),
        .init("(?s).", "\u{2028}", true), .init(".*", "", true), .init(".*", "anything at all", true),
        .init(".*", "two\nlines", false), .init("(?s).*", "two\nlines", true),
        // Classes
        .init("[abc]+", "cab", true), .init("[abc]", "d", false), .init("[a-z]+", "hello", true),
        .init("[a-z]", "A", false), .init("[^a-c]+", "xyz", true), .init("[^a-c]+", "xaz", false),
        .init("[^a]", "\n", true), .init("[]a]+", "]a]", true), .init("[^]a]", "b", true), .init("[^]a]", "]", false),
        .init("[a-]+", "a-", true), .init("[-a]+", "-a", true), .init(#"[\w-]+"#, "a_-9", true),
        .init(#"[\]\\\-]+"#, #"]\-"#, true), .init("[.*+]+", ".*+", true), .init("[.]", "x", false),
        .init("[a^]+", "^a", true), .init(#"[\u00e0-\u00ff]"#, "\u{E9}", true), .init("[😀-😂]", "😁", true),
        .init(#"[\d\s]+"#, "1 2\t3", true), .init(#"[^\d]"#, "5", false), .init(#"[\D]"#, "x", true),
        // Predefined classes (ASCII, as Java's default)
        .init(#"\d{3}-\d{4}"#, "555-1234", true), .init(#"\d{3}-\d{4}"#, "555-12345", false),
        .init(#"\d"#, "\u{0663}", false), .init(#"\D"#, "\u{0663}", true),
        .init(#"\w+"#, "a_Z9", true), .init(#"\w"#, "\u{E9}", false), .init(#"\W"#, "-", true), .init(#"\W"#, "a", false),
        .init(#"\s+"#, " \t\n\u{0B}\u{0C}\r", true), .init(#"\s"#, "\u{A0}", false), .init(#"\S"#, "x", true),
        .init(#"\h"#, "\u{A0}", true), .init(#"\h"#, "\n", false), .init(#"\v"#, "\u{2028}", true), .init(#"\V"#, "\n", false),
        // Anchors and boundaries
        .init("^abc$", "abc", true), .init("a^b", "ab", false), .init("a$b", "ab", false),
        .init("^*a", "a", true), .init("a$\n", "a\n", true), .init("a$\r\n", "a\r\n", true),
        .init("a$\n\n", "a\n\n", false), .init("a$\r\n", "a\r\n", true), .init("a\r$\n", "a\r\n", false),
        .init(#"a\z\n"#, "a\n", false), .init(#"a\Z\n"#, "a\n", true), .init(#"\Aa"#, "a", true),
        .init("(?m)^a$\n^b$", "a\nb", true), .init("a$\n^b", "a\nb", false), .init("(?m)a$\r\n^b", "a\r\nb", true),
        .init("(?m)a\r^\nb", "a\r\nb", false), .init("(?m)a\n^", "a\n", false), .init("(?m)^", "", false),
        .init("^", "", true), .init("(?m)$", "", true),
        .init(#".*\bfoo\b.*"#, "a foo b", true), .init(#".*\bfoo\b.*"#, "afoob", false),
        .init(#"\Bb\B"#, "b", false), .init(#"a\Bb"#, "ab", true), .init(#"\b"#, "", false), .init(#"\B"#, "", true),
        .init(#"caf\b"#, "caf", true),
        // Groups
        .init("(ab)+", "ababab", true), .init("(ab)+", "aba", false), .init("(?:ab|cd)*e", "abcdabe", true),
        .init("(?<word>ab)+c", "ababc", true), .init("(a(b(c)))", "abc", true), .init("()", "", true),
        // Counted repetition
        .init("a{3}", "aaa", true), .init("a{3}", "aa", false), .init("a{2,}", "aaaaa", true), .init("a{2,}", "a", false),
        .init("a{2,3}", "aaaa", false), .init("a{2,3}", "aa", true), .init("(ab){0}", "", true), .init("(ab){0}c", "c", true),
        .init("a{0,0}", "", true), .init("(a|bc){2,3}", "bcabc", true), .init("(a*){3,5}", "aaaa", true),
        .init("x{1000}", String(repeating: "x", count: 1000), true), .init("x{1000}", String(repeating: "x", count: 999), false),
        // Lazy quantifiers give the same yes/no answer as greedy ones
        .init("a*?", "aaa", true), .init("a+?b", "aab", true), .init("a??b", "b", true), .init("a{2,3}?", "aaa", true),
        // Inline flags
        .init("(?i)HELLO", "hello", true), .init("(?i)HELLO", "HeLlO", true), .init("HELLO", "hello", false),
        .init("(?i)[a-c]+", "ABC", true), .init("(?i)[A-C]+", "abc", true), .init("(?i)[^a]", "A", false),
        .init("a(?i)b", "aB", true), .init("a(?i)b", "AB", false), .init("(?i:a)b", "Ab", true), .init("(?i:a)b", "AB", false),
        .init("(?i)a(?-i)b", "Ab", true), .init("(?i)a(?-i)b", "AB", false), .init("((?i)a)b", "AB", false),
        .init("(?is)A.B", "a\nb", true), .init("(?si)A.B", "a\nb", true), .init("(?iu)x", "X", true),
        .init("(?i)\u{C9}COLE", "\u{E9}cole", true), .init("(?i)stra\u{DF}e", "STRASSE", false),
        .init("(?i)\u{3A3}", "\u{3C3}", true), .init("(?i)\u{3C3}", "\u{3C2}", true), .init("(?i)k", "\u{212A}", true),
        .init("(?i)[\u{E0}-\u{FE}]", "\u{C0}", true), .init("(?i)\u{1F600}", "\u{1F600}", true), .init("(?i)1", "1", true),
        .init("(?i)\\w", "\u{212A}", false),
        // Loops whose body can match empty: the regular-language answer. Java 17 answers
        // false for the first (it abandons the loop); ICU answers false for the second.
        .init("(?:^b*){2}", "b", true), .init("(?:|b)*?", "b", true), .init("(a*)*", "aa", true),
    ]

    @Test(arguments: matchCases)
    func matchesWholeStringLikeJava(_ c: MatchCase) throws {
        let regex = try CypherRegex(c.pattern)
        #expect(regex.matchesWhole(c.input) == c.expected)
    }

    // MARK: Differential test against ICU's backtracking engine

    /// A random pattern over {a, b} and whether it can match the empty string.
    ///
    /// Only patterns that cannot match empty are repeated: when a loop's body can match
    /// empty, backtracking engines (ICU, and Java too) sometimes stop early and answer
    /// false where the regular language, and this matcher, say true (see the table).
    static func randomPattern(_ rng: inout SeededGenerator, depth: Int = 0) -> (pattern: String, nullable: Bool) {
        let branchCount = Int.random(in: 0..<6, using: &rng) == 0 ? 2 : 1
        let branches = (0..<branchCount).map { _ in
            let items = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                let atoms = ["a", "b", "a", "b", ".", "[ab]", "[^a]", "[a-b]", "[^b]", "^", "$", #"\b"#, #"\B"#]
                var atom = atoms.randomElement(using: &rng) ?? "a"
                var nullable = atom.hasPrefix("^") || atom.hasPrefix("$") || atom.hasPrefix("\\")
                if depth < 3 && Int.random(in: 0..<4, using: &rng) == 0 {
                    let open = Bool.random(using: &rng) ? "(" : "(?:"
                    let inner = randomPattern(&rng, depth: depth + 1)
                    (atom, nullable) = (open + inner.pattern + ")", inner.nullable)
                }
                if nullable { return (atom, true) }
                let quantifiers = ["", "", "", "*", "+", "?", "{2}", "{0,2}", "{1,}", "*?", "+?", "??"]
                let quantifier = quantifiers.randomElement(using: &rng) ?? ""
                return (atom + quantifier, ["*", "?", "{0"].contains { quantifier.hasPrefix($0) })
            }
            return (items.map(\.0).joined(), items.allSatisfy(\.1))
        }
        return (branches.map(\.0).joined(separator: "|"), branches.contains(where: \.1))
    }

    @Test func agreesWithNSRegularExpressionOnRandomPatterns() throws {
        let seed: UInt64 = 0x5EED_CAFE
        var rng = SeededGenerator(seed: seed)
        var compared = 0
        for _ in 0..<400 {
            let pattern = Self.randomPattern(&rng).pattern
            let regex = try CypherRegex(pattern)
            let reference = try NSRegularExpression(pattern: #"\A(?:"# + pattern + #")\z"#)
            for _ in 0..<25 {
                let input = String((0..<Int.random(in: 0...7, using: &rng)).map { _ in Bool.random(using: &rng) ? "a" : "b" })
                let range = NSRange(location: 0, length: input.utf16.count)
                let expected = reference.firstMatch(in: input, options: [.anchored], range: range) != nil
                #expect(regex.matchesWhole(input) == expected,
                        "seed \(seed): \(pattern.debugDescription) =~ \(input.debugDescription)")
                compared += 1
            }
        }
        #expect(compared == 10_000)
    }

    // MARK: Linear time on patterns that make backtracking engines explode

    struct TimingCase: Sendable, CustomTestStringConvertible {
        var pattern: String
        var input: String
        var expected: Bool
        var testDescription: String { "\(pattern) against \(input.unicodeScalars.count) scalars" }
    }

    static let aaa = String(repeating: "a", count: 100_000)

    /// Measured one at a time on the 2-core dev VM: 0.16–0.34 s each in a debug build
    /// ((a+)+$ 0.16 s, (a|a)*b 0.25 s, (a*)*b 0.22 s, (.*a){20} 0.34 s), 4–16 ms in release.
    static let timingCases: [TimingCase] = [
        .init(pattern: "(a+)+$", input: aaa + "!", expected: false),
        .init(pattern: "(a+)+$", input: aaa, expected: true),
        .init(pattern: "(a|a)*b", input: aaa, expected: false),
        .init(pattern: "(a*)*b", input: aaa, expected: false),
        .init(pattern: "(a|aa)+$", input: aaa + "b", expected: false),
        .init(pattern: "(.*a){20}", input: String(repeating: "a", count: 10_000) + "b", expected: false),
        .init(pattern: "(?i)(A+)+[^a]", input: aaa, expected: false),
    ]

    @Test(arguments: timingCases)
    func linearTimeOnCatastrophicBacktrackingPatterns(_ c: TimingCase) throws {
        let regex = try CypherRegex(c.pattern)
        var result = !c.expected
        let elapsed = ContinuousClock().measure { result = regex.matchesWhole(c.input) }
        #expect(result == c.expected)
        #expect(elapsed < .seconds(5), "took \(elapsed)")
    }

    // MARK: Refused patterns

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var pattern: String
        var code: GraphError.Code
        var fragment: String
        init(_ pattern: String, _ code: GraphError.Code, _ fragment: String) {
            (self.pattern, self.code, self.fragment) = (pattern, code, fragment)
        }
        var testDescription: String { "\(pattern.debugDescription) gives \(code)" }
    }

    static let errorCases: [ErrorCase] = [
        .init("(a", .runtime, "missing ')' for the group opened at index 0"),
        .init("a)", .runtime, "unmatched ')' at index 1"),
        .init("(?:a", .runtime, "missing ')'"),
        .init("[ab", .runtime, "missing ']' for the character class opened at index 0"),
        .init("[]", .runtime, "missing ']'"),
        .init("*a", .runtime, "dangling quantifier '*' with nothing to repeat at index 0"),
        .init("a|+", .runtime, "dangling quantifier '+'"),
        .init("a**", .runtime, "dangling quantifier '*'"),
        .init("a{2}{3}", .runtime, "dangling quantifier '{'"),
        .init("(?i)*", .runtime, "dangling quantifier"),
        .init("{", .runtime, "'{' with nothing to repeat"),
        .init("a{", .runtime, "'{' must start a repetition"),
        .init("a{x}", .runtime, "'{' must start a repetition"),
        .init("a{2", .runtime, "unclosed counted repetition"),
        .init("a{3,2}", .runtime, "minimum greater than its maximum"),
        .init("a{1001}", .limitExceeded, "exceeds the limit of 1000"),
        .init("a{1,99999999999999999999}", .limitExceeded, "exceeds the limit of 1000"),
        .init("[z-a]", .runtime, "illegal range"),
        .init(#"[a-\d]"#, .runtime, "a range cannot end with a class"),
        .init(#"(a)\1"#, .runtime, #"backreferences (\1) are not supported"#),
        .init(#"(?<n>a)\k<n>"#, .runtime, #"backreferences (\k) are not supported"#),
        .init("(?=a)a", .runtime, "lookahead (?=...) is not supported at index 0"),
        .init("(?!a)b", .runtime, "negative lookahead (?!...) is not supported"),
        .init("(?<=a)b", .runtime, "lookbehind (?<=...) is not supported"),
        .init("(?<!a)b", .runtime, "negative lookbehind (?<!...) is not supported"),
        .init("(?>a)", .runtime, "atomic groups (?>...) are not supported"),
        .init("a*+", .runtime, "possessive quantifiers (such as *+) are not supported"),
        .init("a{2}+", .runtime, "possessive quantifiers"),
        .init(#"\p{L}"#, .runtime, #"Unicode property classes (\p{...}) are not supported"#),
        .init(#"[\P{L}]"#, .runtime, #"Unicode property classes (\P{...}) are not supported"#),
        .init(#"\R"#, .runtime, #"the escape \R is not supported"#),
        .init(#"\b{g}"#, .runtime, "grapheme cluster boundaries (\\b{g}) are not supported"),
        .init("(?x)a", .runtime, "inline flag 'x' is not supported"),
        .init("(?q)a", .runtime, "unknown group construct or inline flag 'q'"),
        .init("(?<1a>x)", .runtime, "a group name must be a letter"),
        .init("(?<n>a)(?<n>b)", .runtime, "group name 'n' is already defined"),
        .init(#"\q"#, .runtime, #"unknown escape sequence \q at index 0"#),
        .init(#"[\b]"#, .runtime, #"unknown escape sequence \b inside [...]"#),
        .init(#"[\Qa\E]"#, .runtime, "not supported inside [...]"),
        .init(#"a\"#, .runtime, "pattern ends with a lone backslash at index 1"),
        .init(#"\uD800"#, .runtime, "lone surrogate"),
        .init(#"\u12"#, .runtime, "illegal Unicode escape"),
        .init(#"\x{110000}"#, .runtime, "illegal hexadecimal escape"),
        .init(#"\0"#, .runtime, "illegal octal escape"),
        .init("[[a]]", .runtime, "nested character classes"),
        .init("[a&&b]", .runtime, "intersection (&&) is not supported"),
        .init("(a{1000}){1000}", .limitExceeded, "more than 10000 instructions"),
        .init("((a{100}){100}){100}", .limitExceeded, "more than 10000 instructions"),
        .init(String(repeating: "(", count: 101) + String(repeating: ")", count: 101), .limitExceeded,
              "groups nested more than 100 deep"),
        .init(String(repeating: "a", count: CypherRegex.maxPatternBytes + 1), .limitExceeded,
              "longer than the limit of 4096 bytes"),
        .init(String(repeating: "\u{E9}", count: 2_049), .limitExceeded, "4098 bytes"),
    ]

    @Test(arguments: errorCases)
    func refusesWithCodeAndMessage(_ c: ErrorCase) {
        do {
            _ = try CypherRegex(c.pattern)
            Issue.record("expected \(c.code) for \(c.pattern.debugDescription)")
        } catch {
            #expect(error.code == c.code)
            #expect(error.message.contains(c.fragment), "message: \(error.message)")
            if c.code == .runtime {
                #expect(error.message.hasPrefix("invalid regular expression '\(c.pattern)': "))
            }
        }
    }

    @Test func limitsAreInclusive() throws {
        #expect(try CypherRegex(String(repeating: "a", count: CypherRegex.maxPatternBytes)).matchesWhole(
            String(repeating: "a", count: CypherRegex.maxPatternBytes)))
        let nested = String(repeating: "(", count: 100) + "a" + String(repeating: ")", count: 100)
        #expect(try CypherRegex(nested).matchesWhole("a"))
        // (a{1000}){10} plus the final match instruction would not fit; 9 copies do.
        #expect(try CypherRegex("(a{1000}){9}").matchesWhole(String(repeating: "a", count: 9_000)))
    }

    @Test func longPatternsInErrorsAreShortened() {
        let pattern = String(repeating: "a", count: 200) + ")"
        do {
            _ = try CypherRegex(pattern)
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "invalid regular expression '\(String(repeating: "a", count: 80))…': "
                    + "unmatched ')' at index 200")
        }
    }
}
