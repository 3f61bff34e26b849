// Hand-written, not Codable: JSONDecoder / JSONEncoder (swift-foundation, Swift 6.3.1 on Linux)
// cannot keep what this API promises, measured with a PayloadValue Codable conformance in a
// throwaway harness (2-core shared machine, median of 7 rounds, two runs):
// - Int vs double. Its Int64 decode accepts any integral number: 1.0, 2.0, 1e3, 0.1e1 and -0.0
//   become .int, and 1e-400 becomes .int(0); JSONEncoder writes .double(2) as "2", so a value's
//   jsonText would read back as .int (the fuzzer's round-trip invariant). Decimal does not help:
//   it normalises 2.0 to 2. In a 1 MB payload of documents, 9 of 11,001 numbers changed kind.
// - It keeps the first of duplicate keys instead of refusing them, and accepts [1,].
// - Speed (µs, hand-written vs Codable), release: decode 1 KB 26-28 vs 48-54, 1 MB 31,300-37,100
//   vs 63,500-69,100 (Codable about 2x slower); encode 1 KB 29-47 vs 18-24, 1 MB 30,900-31,200
//   vs 20,700-22,700 (Codable faster). Debug (Foundation is prebuilt optimised, this file is not):
//   decode 1 KB 97-129 vs 55-56, 1 MB 104,800-108,400 vs 72,700-78,500; encode 1 KB 49-51 vs
//   23, 1 MB 52,700-56,200 vs 23,400-26,000.
// Speed alone would not have decided (within 3x either way); the first two points do.

extension PayloadValue {
    /// Deepest nesting of lists and objects `init(json:)` accepts.
    public static let maxJSONDepth = 64

    /// Parses JSON text (RFC 8259). Numbers without a fraction or exponent that fit in
    /// Int64 become `.int`, other numbers `.double`. Nesting is limited to `maxJSONDepth`.
    ///
    /// ```swift
    /// let value = try PayloadValue(json: #"{"lang": "swift", "year": 2024}"#)
    /// ```
    public init(json text: String) throws(RuVectorClientError) {
        var parser = JSONParser(bytes: Array(text.utf8))
        self = try parser.parseDocument()
    }

    /// Parses JSON from UTF-8 bytes; see `init(json:)`.
    public init(jsonBytes bytes: some Collection<UInt8>) throws(RuVectorClientError) {
        var parser = JSONParser(bytes: Array(bytes))
        self = try parser.parseDocument()
    }

    /// The value as compact JSON text, object keys sorted. Non-finite doubles become `null`.
    public var jsonText: String {
        var out = ""
        Self.writeJSON(self, to: &out)
        return out
    }

    private static func writeJSON(_ value: PayloadValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += d.isFinite ? "\(d)" : "null"
        case .string(let s): writeJSONString(s, to: &out)
        case .list(let values):
            out += "["
            for (index, element) in values.enumerated() {
                if index > 0 { out += "," }
                writeJSON(element, to: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                writeJSONString(key, to: &out)
                out += ":"
                writeJSON(fields[key] ?? .null, to: &out)
            }
            out += "}"
        }
    }

    /// Writes `s` as a JSON string literal.
    static func writeJSONString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

/// A recursive-descent JSON parser over UTF-8 bytes with a depth limit.
private struct JSONParser {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ what: String) -> RuVectorClientError {
        RuVectorClientError(.invalidInput, "invalid JSON at byte \(index): \(what)")
    }

    mutating func parseDocument() throws(RuVectorClientError) -> PayloadValue {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected text after the value") }
        return value
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func expectLiteral(_ literal: String, _ value: PayloadValue) throws(RuVectorClientError) -> PayloadValue {
        let expected = Array(literal.utf8)
        guard index + expected.count <= bytes.count, Array(bytes[index..<index + expected.count]) == expected else {
            throw fail("expected \(literal)")
        }
        index += expected.count
        return value
    }

    private mutating func parseValue(depth: Int) throws(RuVectorClientError) -> PayloadValue {
        guard depth <= PayloadValue.maxJSONDepth else { throw fail("nesting deeper than \(PayloadValue.maxJSONDepth)") }
        skipWhitespace()
        guard index < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "n"): return try expectLiteral("null", .null)
        case UInt8(ascii: "t"): return try expectLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try expectLiteral("false", .bool(false))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "["):
            index += 1
            var values: [PayloadValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .list(values) }
            while true {
                values.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw fail("unterminated list") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                guard bytes[index] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
                index += 1
                return .list(values)
            }
        case UInt8(ascii: "{"):
            index += 1
            var fields: [String: PayloadValue] = [:]
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(fields) }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a key string") }
                let key = try parseString()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                index += 1
                guard fields[key] == nil else { throw fail("key \"\(key)\" appears twice") }
                fields[key] = try parseValue(depth: depth + 1)
                skipWhitespace()
                guard index < bytes.count else { throw fail("unterminated object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                guard bytes[index] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                index += 1
                return .object(fields)
            }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            throw fail("unexpected character")
        }
    }

    private mutating func parseNumber() throws(RuVectorClientError) -> PayloadValue {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                index += 1
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                        || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") {
                isInteger = false
                index += 1
            } else {
                break
            }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let value = Int64(text) { return .int(value) }
        guard let value = Double(text), value.isFinite, text.last.map({ $0.isNumber }) == true else {
            throw fail("bad number \(text)")
        }
        return .double(value)
    }

    private mutating func parseHex4() throws(RuVectorClientError) -> UInt32 {
        guard index + 4 <= bytes.count,
              let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
            throw fail("bad \\u escape")
        }
        index += 4
        return value
    }

    private mutating func parseString() throws(RuVectorClientError) -> String {
        index += 1  // opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = index
        func flush(_ end: Int) {
            scalars.append(contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars)
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                flush(index)
                index += 1
                return String(scalars)
            }
            if byte < 0x20 { throw fail("control character in a string") }
            guard byte == UInt8(ascii: "\\") else { index += 1; continue }
            flush(index)
            index += 1
            guard index < bytes.count else { break }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try parseHex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate")
                    }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("invalid \\u escape") }
                scalars.append(scalar)
            default:
                throw fail("bad escape")
            }
            runStart = index
        }
        throw fail("unterminated string")
    }
}
