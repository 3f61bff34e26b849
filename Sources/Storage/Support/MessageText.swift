/// Client input as error messages may echo it: bounded and printable, so a hostile name
/// cannot make a status message huge or smuggle control characters into logs.
public enum MessageText {
    /// Characters of client input an error message echoes at most.
    public static let maxEchoedCharacters = 64

    /// `text` in single quotes, cut to `limit` characters (then "…"), with control and
    /// non-ASCII characters written as `\u{XX}` so the reader sees what was sent.
    ///
    /// ```swift
    /// MessageText.quoted("../../etc")      // "'../../etc'"
    /// MessageText.quoted(String(repeating: "a", count: 300))   // "'aaaa…aaaa…'" (64 a's)
    /// ```
    public static func quoted(_ text: String, limit: Int = maxEchoedCharacters) -> String {
        var out = "'"
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                out += "…"
                break
            }
            if scalar.value >= 0x20 && scalar.value < 0x7F {
                out.unicodeScalars.append(scalar)
            } else {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
            count += 1
        }
        return out + "'"
    }
}
