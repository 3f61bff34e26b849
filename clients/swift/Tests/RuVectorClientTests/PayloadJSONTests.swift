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
    }
}
