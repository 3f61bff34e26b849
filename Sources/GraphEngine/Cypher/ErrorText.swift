/// The text of an error message about values: every `Value` interpolated into it is rendered
/// by `Value.preview`, cut short. A message must not grow with the value it names: a type
/// error about a list of ten million items would otherwise build (and send) its whole text.
struct ErrorText: ExpressibleByStringInterpolation {
    let text: String

    init(stringLiteral value: String) { text = value }
    init(stringInterpolation: Interpolation) { text = stringInterpolation.text }

    struct Interpolation: StringInterpolationProtocol {
        var text = ""
        init(literalCapacity: Int, interpolationCount: Int) { text.reserveCapacity(literalCapacity) }
        mutating func appendLiteral(_ literal: String) { text += literal }
        mutating func appendInterpolation(_ value: Value) { text += value.preview }
        mutating func appendInterpolation<T>(_ value: T) { text += String(describing: value) }
    }
}

extension Value {
    /// Longest preview, in UTF-8 bytes (give or take the closing brackets).
    static let previewBytes = 120

    /// The value as Cypher text, cut with "..." past about `previewBytes` bytes.
    var preview: String {
        var out = ""
        Self.render(self, into: &out)
        return out
    }

    private static func render(_ value: Value, into out: inout String) {
        switch value {
        case .string(let s):
            if s.utf8.count <= previewBytes { out += "'" + s + "'" } else { out += "'" + String(s.prefix(previewBytes)) + "...'" }
        case .list(let items):
            out += "["
            for (i, item) in items.enumerated() {
                guard out.utf8.count < previewBytes else { out += "..."; break }
                if i > 0 { out += ", " }
                render(item, into: &out)
            }
            out += "]"
        case .map(let entries):
            out += "{"
            for (i, key) in entries.keys.sorted().enumerated() {
                guard out.utf8.count < previewBytes else { out += "..."; break }
                if i > 0 { out += ", " }
                out += key.utf8.count <= previewBytes ? key : String(key.prefix(previewBytes)) + "..."
                out += ": "
                render(entries[key] ?? .null, into: &out)
            }
            out += "}"
        case .path(let nodes, let relationships) where nodes.count + relationships.count > 16:
            out += "path(\(nodes.count) nodes, \(relationships.count) relationships)"
        default:
            out += value.description
        }
    }
}
