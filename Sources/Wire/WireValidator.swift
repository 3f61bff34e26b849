/// Walks protobuf bytes before protobuf-c unpacks them, with the schema tables generated
/// beside the messages: bounds nesting depth (protobuf-c recurses per level), and refuses
/// strings that are not UTF-8 or that hold U+0000 (protobuf-c strings are NUL-terminated,
/// so such a string would be cut silently).
enum WireValidator {
    /// Deepest sub-message nesting accepted.
    static let maxDepth = 64

    private enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    static func validate(_ bytes: [UInt8], schemaIndex: Int, messageName: String) throws(WireError) {
        try bytes.withUnsafeBufferPointer { buffer throws(WireError) in
            var reader = Reader(buffer: buffer, messageName: messageName)
            try walk(&reader, end: buffer.count, schemaIndex: schemaIndex, depth: 1, path: messageName)
        }
    }

    private struct Reader {
        let buffer: UnsafeBufferPointer<UInt8>
        let messageName: String
        var position = 0

        /// Reads a varint that must end before `limit` (the enclosing message's end).
        mutating func varint(limit: Int) throws(WireError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < limit, shift < 64 else {
                    throw WireError(.malformed, "\(messageName): truncated or overlong varint at byte \(position)")
                }
                let byte = buffer[position]
                position += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
        }
    }

    private static func fieldKind(schemaIndex: Int, number: Int32) -> (kind: Int32, child: Int)? {
        let start = Int(WireSchemas.starts[schemaIndex]), end = Int(WireSchemas.starts[schemaIndex + 1])
        var entry = start
        while entry < end {
            if WireSchemas.fields[entry * 3] == number {
                return (WireSchemas.fields[entry * 3 + 1], Int(WireSchemas.fields[entry * 3 + 2]))
            }
            entry += 1
        }
        return nil
    }

    private static func walk(_ reader: inout Reader, end: Int, schemaIndex: Int, depth: Int, path: String) throws(WireError) {
        guard depth <= maxDepth else {
            throw WireError(.tooDeep, "\(reader.messageName): sub-messages nest deeper than \(maxDepth) levels")
        }
        while reader.position < end {
            let key = try reader.varint(limit: end)
            let number = key >> 3
            guard number > 0, number <= 536_870_911 else {
                throw WireError(.malformed, "\(reader.messageName): invalid field number \(number)")
            }
            guard let wireType = WireType(rawValue: key & 7) else {
                throw WireError(.malformed, "\(reader.messageName): unsupported wire type \(key & 7) (groups are not supported)")
            }
            switch wireType {
            case .varint:
                _ = try reader.varint(limit: end)
            case .fixed64, .fixed32:
                let size = wireType == .fixed64 ? 8 : 4
                guard end - reader.position >= size else {
                    throw WireError(.malformed, "\(reader.messageName): truncated fixed-width field \(number)")
                }
                reader.position += size
            case .lengthDelimited:
                let length = try reader.varint(limit: end)
                guard length <= UInt64(end - reader.position) else {
                    throw WireError(.malformed, "\(reader.messageName): field \(number) is longer than the message")
                }
                let start = reader.position, stop = start + Int(length)
                switch fieldKind(schemaIndex: schemaIndex, number: Int32(number)) {
                case (1, _)?:
                    try checkString(reader.buffer, start..<stop, field: number, path: path, messageName: reader.messageName)
                    reader.position = stop
                case (2, let child)? where child >= 0:
                    try walk(&reader, end: stop, schemaIndex: child, depth: depth + 1, path: path)
                    guard reader.position == stop else {
                        throw WireError(.malformed, "\(reader.messageName): sub-message in field \(number) overruns its length")
                    }
                default:
                    reader.position = stop
                }
            }
        }
        guard reader.position == end else {
            throw WireError(.malformed, "\(reader.messageName): a field overruns its enclosing message")
        }
    }

    private static func checkString(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, field: UInt64,
                                    path: String, messageName: String) throws(WireError) {
        let bytes = UnsafeBufferPointer(rebasing: buffer[range])
        if bytes.contains(0) {
            throw WireError(.stringContainsNUL, "\(messageName): string field \(field) contains U+0000, which is not accepted")
        }
        if String(validating: bytes, as: UTF8.self) == nil {
            throw WireError(.invalidUTF8, "\(messageName): string field \(field) is not valid UTF-8")
        }
    }
}
