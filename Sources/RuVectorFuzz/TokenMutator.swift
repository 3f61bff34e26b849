import VectorEngine

/// Mutations of text at the level of its tokens (words, numbers, quoted strings,
/// punctuation), for query languages and JSON: a byte mutation of `MATCH` mostly yields a
/// syntax error, a token mutation yields another query the parser must take apart.
struct TokenMutator {
    /// Keywords, operators and names to insert or substitute.
    let dictionary: [String]
    let maxBytes: Int

    static let interestingNumbers = [
        "0", "-1", "1", "-0", "0.0", "1e308", "-1e308", "1e-320", "2147483647", "2147483648", "4294967296",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "1.7976931348623157e309", "NaN", "0x7fffffffffffffff", "0o777", "00", "1.", ".5", "1e",
        "100000000", "65536",
    ]
    static let interestingStrings = [
        "''", "\"\"", "'\\u0000'", "'\\uD800'", "'\\'", "'é日本'", "'\u{1F600}'", "'\\n\\t\\\\'",
        "'" + String(repeating: "a", count: 300) + "'", "\"\\u0000\"", "\"\\ud800\\udc00\"", "\"\\uDFFF\"",
    ]

    /// Splits text into tokens; concatenating them gives the text back.
    static func tokens(_ text: [UInt8]) -> [[UInt8]] {
        var tokens: [[UInt8]] = []
        var i = 0
        func isWord(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x5F || byte >= 0x80
        }
        while i < text.count {
            let start = i
            let byte = text[i]
            if byte == 0x27 || byte == 0x22 || byte == 0x60 {   // ' " `
                i += 1
                while i < text.count, text[i] != byte {
                    i += text[i] == 0x5C ? 2 : 1
                }
                i = min(text.count, i + 1)
            } else if isWord(byte) {
                while i < text.count, isWord(text[i]) || (text[i] == 0x2E && i + 1 < text.count && text[i + 1] >= 0x30 && text[i + 1] <= 0x39) {
                    i += 1
                }
            } else if byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D {
                while i < text.count, text[i] == 0x20 || text[i] == 0x0A || text[i] == 0x09 || text[i] == 0x0D { i += 1 }
            } else {
                i += 1
            }
            tokens.append(Array(text[start..<i]))
        }
        return tokens
    }

    /// Applies one to three token mutations; false when the text has no token.
    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) -> Bool {
        var tokens = Self.tokens(input)
        guard !tokens.isEmpty else { return false }
        for _ in 0...random.below(3) { mutateOnce(&tokens, random: &random, corpus: corpus) }
        input = Array(tokens.joined())
        if input.count > maxBytes { input.removeLast(input.count - maxBytes) }
        return true
    }

    private func mutateOnce(_ tokens: inout [[UInt8]], random: inout SeededGenerator, corpus: [[UInt8]]) {
        guard !tokens.isEmpty else {
            tokens = [Array((dictionary.randomElement(using: &random) ?? "x").utf8)]
            return
        }
        let at = random.below(tokens.count)
        switch random.below(10) {
        case 0, 1, 2:
            tokens.dropRepeatOrSwap(at: at, random: &random)
        case 3, 4:
            guard let word = dictionary.randomElement(using: &random) else { return }
            if random.below(2) == 0 { tokens[at] = Array(word.utf8) } else { tokens.insert(Array(" \(word) ".utf8), at: at) }
        case 5:
            tokens[at] = Array(Self.interestingNumbers[random.below(Self.interestingNumbers.count)].utf8)
        case 6:
            tokens[at] = Array(Self.interestingStrings[random.below(Self.interestingStrings.count)].utf8)
        case 7:
            guard let other = corpus.randomElement(using: &random) else { return }
            let theirs = Self.tokens(other)
            guard !theirs.isEmpty else { return }
            tokens = Array(tokens[..<at]) + Array(theirs[random.below(theirs.count)...])
        case 8:
            // Deep nesting or long repetition: a span repeated many times.
            let end = min(tokens.count, at + 1 + random.below(4))
            let span = Array(tokens[at..<end])
            let times = random.below(4) == 0 ? 1 + random.below(2000) : 1 + random.below(20)
            var repeated: [[UInt8]] = []
            for _ in 0..<times where repeated.count * max(1, span.count) < maxBytes { repeated += span }
            tokens.insert(contentsOf: repeated, at: at)
        default:
            guard let other = corpus.randomElement(using: &random) else { return }
            let theirs = Self.tokens(other)
            guard !theirs.isEmpty else { return }
            let start = random.below(theirs.count)
            tokens.insert(contentsOf: theirs[start..<min(theirs.count, start + 1 + random.below(8))], at: at)
        }
    }
}
