/// Custom gRPC metadata: ordered key/value pairs with lower-case ASCII keys.
///
/// Keys ending in `-bin` carry binary values; they travel base64-encoded on the wire and
/// are decoded here, so `binaryValues(forKey:)` returns the original bytes.
public struct Metadata: Sendable, Equatable, Sequence {
    /// One entry: a text value, or bytes for a `-bin` key.
    public enum Value: Sendable, Equatable {
        case text(String)
        case binary([UInt8])
    }

    /// The entries in the order they were added or received.
    public private(set) var entries: [(key: String, value: Value)] = []

    public init() {}

    /// Metadata with the given text entries, in order.
    public init(_ pairs: [(String, String)]) {
        for (key, value) in pairs { add(key, value) }
    }

    /// Adds a text entry (keys are lower-cased).
    public mutating func add(_ key: String, _ value: String) {
        entries.append((Self.lowercase(key), .text(value)))
    }

    /// These entries followed by those of `other`.
    public func appending(_ other: Metadata) -> Metadata {
        guard !entries.isEmpty else { return other }
        var merged = self
        merged.entries += other.entries
        return merged
    }

    /// Adds a binary entry; the key should end in `-bin`.
    public mutating func add(_ key: String, bytes: [UInt8]) {
        entries.append((Self.lowercase(key), .binary(bytes)))
    }

    /// The first text value for `key`, if any.
    public subscript(key: String) -> String? {
        let key = Self.lowercase(key)
        for entry in entries where entry.key == key {
            if case .text(let text) = entry.value { return text }
        }
        return nil
    }

    /// All binary values for a `-bin` key.
    public func binaryValues(forKey key: String) -> [[UInt8]] {
        let key = Self.lowercase(key)
        return entries.compactMap { entry in
            guard entry.key == key, case .binary(let bytes) = entry.value else { return nil }
            return bytes
        }
    }

    public var isEmpty: Bool { entries.isEmpty }

    public func makeIterator() -> IndexingIterator<[(key: String, value: Value)]> {
        entries.makeIterator()
    }

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Header names that belong to HTTP/2 or gRPC itself and never appear as custom metadata.
    /// `key` in lower case; as it is (no new string) when it is ASCII with no upper-case
    /// letter, as keys received on the wire and written in code usually are.
    static func lowercase(_ key: String) -> String {
        key.utf8.contains { $0 &- UInt8(ascii: "A") < 26 || $0 >= 0x80 } ? key.lowercased() : key
    }

    /// Pseudo-headers and the header fields HTTP/2 and gRPC themselves use: not metadata.
    /// Called for every received field, so only the names of the field's length are compared.
    static func isReserved(_ name: String) -> Bool {
        if name.utf8.first == UInt8(ascii: ":") { return true }
        switch name.utf8.count {
        case 2: return name == "te"
        case 4: return name == "host"
        case 10: return name == "user-agent" || name == "connection"
        case 11: return name == "grpc-status"
        case 12: return name == "content-type" || name == "grpc-timeout" || name == "grpc-message"
        case 13: return name == "grpc-encoding"
        case 14: return name == "content-length"
        case 15: return name == "accept-encoding"
        case 20: return name == "grpc-accept-encoding"
        case 23: return name == "grpc-status-details-bin"
        default: return false
        }
    }

    /// Builds metadata from received header fields, skipping reserved ones and decoding
    /// `-bin` values. A `-bin` value that is not valid base64 is dropped.
    init(receivedHeaders headers: [HTTP2Header]) {
        for header in headers where !Self.isReserved(header.name) {
            if header.name.hasSuffix("-bin") {
                // Several values may be joined with commas in one field.
                for part in header.value.split(separator: ",", omittingEmptySubsequences: false) {
                    let trimmed = part.trimmingSpaces()
                    if let bytes = Base64.decode(trimmed) { add(header.name, bytes: bytes) }
                }
            } else {
                add(header.name, header.value)
            }
        }
    }

    /// The header fields that carry this metadata on the wire.
    var headerFields: [HTTP2Header] {
        entries.compactMap { entry in
            guard !Self.isReserved(entry.key) else { return nil }
            switch entry.value {
            case .text(let text):
                return HTTP2Header(name: entry.key, value: text)
            case .binary(let bytes):
                let name = entry.key.hasSuffix("-bin") ? entry.key : entry.key + "-bin"
                return HTTP2Header(name: name, value: Base64.encode(bytes))
            }
        }
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var slice = self[...]
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return String(slice)
    }
}
