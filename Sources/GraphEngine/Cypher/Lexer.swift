/// One lexical token with its 1-based source position.
struct Token: Sendable {
    enum Kind: Equatable, Sendable {
        case identifier(String)   // bare words (keywords are identifiers, matched case-insensitively)
        case quotedIdentifier(String)
        case integer(Int64)
        /// 9223372036854775808 (2^63), valid only negated: the smallest integer.
        case integerTwoTo63
        case float(Double)
        case string(String)
        case parameter(String)
        case symbol(String)
        case end
    }
    let kind: Kind
    let line: Int
    let column: Int
    /// Unicode-scalar offsets of the token's first character and one past its last.
    var start = 0
    var end = 0
}

private func appendToken(_ tokens: inout [Token], _ start: Int, _ end: Int, _ t: Token) {
    var t = t
    t.start = start
    t.end = end
    tokens.append(t)
}

/// Splits Cypher text into tokens. Positions are 1-based line:column.
struct Lexer {
    /// Largest query text accepted, in UTF-8 bytes.
    static let maxQueryBytes = 1 << 20

    /// The token of an integer literal's magnitude, nil when it cannot be an Int64 even negated.
    static func integerToken(_ magnitude: UInt64) -> Token.Kind? {
        if magnitude <= UInt64(Int64.max) { return .integer(Int64(magnitude)) }
        return magnitude == UInt64(Int64.max) + 1 ? .integerTwoTo63 : nil
    }

    static func tokenize(_ text: String) throws(GraphError) -> [Token] {
        guard text.utf8.count <= maxQueryBytes else {
            throw GraphError(.limitExceeded, "query is longer than \(maxQueryBytes) bytes; split it")
        }
        let chars = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var i = 0, line = 1, col = 1
        func peek(_ o: Int = 0) -> Unicode.Scalar? { i + o < chars.count ? chars[i + o] : nil }
        func advance() { if chars[i] == "\n" { line += 1; col = 1 } else { col += 1 }; i += 1 }
        func err(_ m: String, _ l: Int, _ c: Int) -> GraphError { GraphError(.syntax, "\(l):\(c): \(m)") }
        func isIdStart(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic || c == "_" }
        func isIdPart(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic || c == "_" || ("0"..."9").contains(c) }
        var tokenStart = 0
        while let c = peek() {
            let l = line, cl = col
            tokenStart = i
            if c.properties.isWhitespace { advance(); continue }
            if c == "/" && peek(1) == "/" { while let d = peek(), d != "\n" { advance() }; continue }
            if c == "/" && peek(1) == "*" {
                advance(); advance()
                while true {
                    guard let d = peek() else { throw err("unterminated comment", l, cl) }
                    if d == "*" && peek(1) == "/" { advance(); advance(); break }
                    advance()
                }
                continue
            }
            if isIdStart(c) {
                var s = ""
                while let d = peek(), isIdPart(d) { s.unicodeScalars.append(d); advance() }
                appendToken(&tokens, tokenStart, i, Token(kind: .identifier(s), line: l, column: cl)); continue
            }
            if c == "`" {
                advance(); var s = ""
                while true {
                    guard let d = peek() else { throw err("unterminated `identifier`", l, cl) }
                    advance()
                    if d == "`" { if peek() == "`" { s.append("`"); advance(); continue }; break }
                    s.unicodeScalars.append(d)
                }
                appendToken(&tokens, tokenStart, i, Token(kind: .quotedIdentifier(s), line: l, column: cl)); continue
            }
            if c == "$" {
                advance(); var s = ""
                while let d = peek(), isIdPart(d) { s.unicodeScalars.append(d); advance() }
                guard !s.isEmpty else { throw err("expected a parameter name after '$'", l, cl) }
                appendToken(&tokens, tokenStart, i, Token(kind: .parameter(s), line: l, column: cl)); continue
            }
            if ("0"..."9").contains(c) || (c == "." && peek(1).map { ("0"..."9").contains($0) } == true) {
                var s = ""
                var isFloat = false
                if c == "0", let prefix = peek(1), let radix = ["x": 16, "X": 16, "o": 8, "O": 8][Character(prefix)] {
                    advance(); advance()
                    while let d = peek(), let digit = Int(String(d), radix: 36), digit < radix { s.unicodeScalars.append(d); advance() }
                    let what = radix == 16 ? "hexadecimal" : "octal"
                    if let d = peek(), isIdPart(d) { throw err("invalid \(what) integer", l, cl) }
                    guard let v = UInt64(s, radix: radix) else { throw err("invalid \(what) integer", l, cl) }
                    guard let kind = Self.integerToken(v) else { throw err("\(what) integer literal 0\(prefix)\(s) is too large", l, cl) }
                    appendToken(&tokens, tokenStart, i, Token(kind: kind, line: l, column: cl)); continue
                }
                while let d = peek(), ("0"..."9").contains(d) { s.unicodeScalars.append(d); advance() }
                if peek() == ".", let n = peek(1), ("0"..."9").contains(n) {
                    isFloat = true; s.append("."); advance()
                    while let d = peek(), ("0"..."9").contains(d) { s.unicodeScalars.append(d); advance() }
                }
                if peek() == "e" || peek() == "E" {
                    let save = (i, line, col)
                    var e = "e"; advance()
                    if peek() == "-" || peek() == "+" { e.unicodeScalars.append(chars[i]); advance() }
                    if let d = peek(), ("0"..."9").contains(d) {
                        while let d = peek(), ("0"..."9").contains(d) { e.unicodeScalars.append(d); advance() }
                        s += e; isFloat = true
                    } else { (i, line, col) = save }
                }
                if let d = peek(), isIdStart(d) { throw err("invalid number literal", l, cl) }
                if isFloat {
                    guard let v = Double(s) else { throw err("invalid float literal", l, cl) }
                    guard v.isFinite else { throw err("float literal \(s) is too large (beyond 1.7976931348623157e308)", l, cl) }
                    appendToken(&tokens, tokenStart, i, Token(kind: .float(v), line: l, column: cl))
                } else {
                    guard let v = UInt64(s), let kind = Self.integerToken(v) else { throw err("integer literal \(s) is too large", l, cl) }
                    appendToken(&tokens, tokenStart, i, Token(kind: kind, line: l, column: cl))
                }
                continue
            }
            if c == "'" || c == "\"" {
                let q = c; advance(); var s = ""
                while true {
                    guard let d = peek() else { throw err("unterminated string", l, cl) }
                    advance()
                    if d == q { break }
                    if d == "\\" {
                        guard let e = peek() else { throw err("unterminated string", l, cl) }
                        advance()
                        switch e {
                        case "n": s.append("\n"); case "t": s.append("\t"); case "r": s.append("\r")
                        case "b": s.append("\u{8}"); case "f": s.append("\u{c}")
                        case "\\", "'", "\"": s.unicodeScalars.append(e)
                        case "u":
                            var h = ""
                            for _ in 0..<4 { guard let x = peek() else { break }; h.unicodeScalars.append(x); advance() }
                            guard let v = UInt32(h, radix: 16), let u = Unicode.Scalar(v) else { throw err("invalid \\u escape", l, cl) }
                            s.unicodeScalars.append(u)
                        default: throw err("invalid escape \\\(e)", line, col)
                        }
                        continue
                    }
                    s.unicodeScalars.append(d)
                }
                appendToken(&tokens, tokenStart, i, Token(kind: .string(s), line: l, column: cl)); continue
            }
            let two = peek(1).map { String(c) + String($0) } ?? ""
            if ["<>", "<=", ">=", "..", "+=", "=~", "->", "<-"].contains(two) && two != "->" && two != "<-" {
                advance(); advance(); appendToken(&tokens, tokenStart, i, Token(kind: .symbol(two), line: l, column: cl)); continue
            }
            if "()[]{},.:;|=<>+-*/%^!".unicodeScalars.contains(c) {
                advance(); appendToken(&tokens, tokenStart, i, Token(kind: .symbol(String(c)), line: l, column: cl)); continue
            }
            throw err("unexpected character '\(c)'", l, cl)
        }
        tokens.append(Token(kind: .end, line: line, column: col, start: i, end: i))
        return tokens
    }
}
