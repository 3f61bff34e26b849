import RuVectorClient
import Testing

/// The JSON reader and writer of `PayloadValue` (used by the CLI for points and filters).
@Suite struct PayloadJSONTests {
    @Test func parsesEveryKind() throws {
        let value = try PayloadValue(json: #" {"s": "a\"b\\c\n\u00e9\ud83d\ude00", "i": -42, "d": 1.5e2, "t": true, "f": false, "n": null, "l": [1, 2.0, []], "o": {}} "#)
        #expect(value == [
            "s": "a\"b\\c\né😀", "i": -42, "d": 150.0, "t": true, "f": false, "n": nil, "l": [1, 2.0, []], "o": [:],
        ])
        #expect(try PayloadValue(json: "9223372036854775807") == .int(.max))
        #expect(try PayloadValue(json: "9223372036854775808") == .double(9_223_372_036_854_775_808))
    }

    @Test func writesAndReadsBack() throws {
        let value: PayloadValue = ["z": [1, -2.25, "x\u{1}y"], "a": ["nested": true, "none": nil]]
        #expect(value.jsonText == #"{"a":{"nested":true,"none":null},"z":[1,-2.25,"x\u0001y"]}"#)
        #expect(try PayloadValue(json: value.jsonText) == value)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "01x", "\"unterminated", "{\"a\":1,\"a\":2}", "1 2", "\"\\ud800\"", "-", "1.", "nan"])
    func refusesMalformedJSON(_ text: String) {
        #expect(throws: RuVectorClientError.self) { try PayloadValue(json: text) }
    }

    @Test func limitsNesting() throws {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let error = #expect(throws: RuVectorClientError.self) { try PayloadValue(json: deep) }
        #expect(error?.code == .invalidInput && error?.message.contains("nesting") == true)
        let fine = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect(throws: Never.self) { try PayloadValue(json: fine) }
        let limit = String(repeating: "[", count: PayloadValue.maxJSONDepth + 1) + String(repeating: "]", count: PayloadValue.maxJSONDepth + 1)
        #expect(throws: Never.self) { try PayloadValue(json: limit) }
    }

    /// Refused at depth 65, long before the stack could run out (and without reading the rest).
    @Test(arguments: [String(repeating: "[", count: 100_000), String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
                      String(repeating: #"{"a":"#, count: 100_000)])
    func refusesVeryDeepInputWithoutCrashing(_ text: String) {
        let error = #expect(throws: RuVectorClientError.self) { try PayloadValue(json: text) }
        #expect(error?.message.contains("nesting deeper than 64") == true)
    }

    /// Numbers written without a fraction or exponent that fit in Int64 are `.int`; every other
    /// number is `.double`, even when its value is integral (what JSONDecoder does not keep: it
    /// reads 1.0, 1e3 and -0.0 as integers).
    @Test(arguments: [("0", PayloadValue.int(0)), ("-0", .int(0)), ("42", .int(42)), ("-9223372036854775808", .int(.min)),
                      ("9223372036854775807", .int(.max)), ("1.0", .double(1)), ("2.50", .double(2.5)), ("1e3", .double(1000)),
                      ("1E2", .double(100)), ("1e+2", .double(100)), ("0.1e1", .double(1)), ("-0.0", .double(0)),
                      ("9223372036854775808", .double(9_223_372_036_854_775_808)),
                      ("-9223372036854775809", .double(-9_223_372_036_854_775_809)), ("1e-400", .double(0))])
    func numbersKeepTheirKind(_ text: String, _ expected: PayloadValue) throws {
        let value = try PayloadValue(json: text)
        #expect(value == expected)
        if text.hasPrefix("-0.") { #expect(value.doubleValue?.sign == .minus) }
    }

    @Test(arguments: ["1e400", "-1e400"])
    func refusesNumbersBeyondDouble(_ text: String) {
        let error = #expect(throws: RuVectorClientError.self) { try PayloadValue(json: text) }
        #expect(error?.message == "invalid JSON at byte \(text.utf8.count): bad number \(text)")
    }

    @Test func textReadsBackAsTheSameKinds() throws {
        let values: [PayloadValue] = [.double(2), .double(-0.0), .double(1e300), .double(5e-324), .double(0.1), .int(2), .int(.min)]
        let back = try PayloadValue(json: PayloadValue.list(values).jsonText)
        #expect(back == .list(values))
        #expect(back.listValue?[1].doubleValue?.sign == .minus)
        #expect(PayloadValue.double(2).jsonText == "2.0")
    }

    @Test func nonFiniteDoublesAreWrittenAsNull() {
        #expect(PayloadValue.list([.double(.nan), .double(.infinity), .double(-.infinity), 1.5]).jsonText == "[null,null,null,1.5]")
    }

    @Test func errorsSayWhereAndWhat() {
        let error = #expect(throws: RuVectorClientError.self) { try PayloadValue(json: "[1,]") }
        #expect(error?.code == .invalidInput && error?.message == "invalid JSON at byte 3: unexpected character")
        let twice = #expect(throws: RuVectorClientError.self) { try PayloadValue(json: #"{"a":1,"a":2}"#) }
        #expect(twice?.message.contains(#"key "a" appears twice"#) == true)
    }
}
