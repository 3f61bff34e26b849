import VectorEngine

/// Mutations that know the protobuf wire format: a message is split into its fields (key,
/// wire type, payload), and one field is dropped, repeated, moved, renumbered, retyped, given
/// an edge-case value or a wrong length, or mutated in place as a sub-message (its length is
/// then rewritten). Byte mutations mostly break the first varint; these reach the decoders
/// and the mapping behind them.
enum ProtobufMutator {
    struct Field {
        var number: UInt64
        var wireType: UInt8
        /// The field's bytes after its key (varint, fixed bytes, or length + payload).
        var body: [UInt8]
        /// For length-delimited fields, the payload without its length.
        var payload: [UInt8]?
    }

    /// The fields of a message, or nil when the bytes do not split into fields.
    static func fields(_ bytes: [UInt8]) -> [Field]? {
        var fields: [Field] = []
        var position = 0
        while position < bytes.count {
            guard let key = varint(bytes, &position) else { return nil }
            let wireType = UInt8(key & 7)
            let start = position
            var payload: [UInt8]?
            switch wireType {
            case 0: guard varint(bytes, &position) != nil else { return nil }
            case 1: position += 8
            case 5: position += 4
            case 2:
                guard let length = varint(bytes, &position), length <= UInt64(bytes.count - position) else { return nil }
                payload = Array(bytes[position..<(position + Int(length))])
                position += Int(length)
            default: return nil
            }
            guard position <= bytes.count else { return nil }
            fields.append(Field(number: key >> 3, wireType: wireType, body: Array(bytes[start..<position]), payload: payload))
        }
        return fields
    }

    static func encode(_ fields: [Field]) -> [UInt8] {
        var out: [UInt8] = []
        for field in fields {
            out += varintBytes(field.number << 3 | UInt64(field.wireType))
            out += field.body
        }
        return out
    }

    static func varint(_ bytes: [UInt8], _ position: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count, shift < 64 {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    static func varintBytes(_ value: UInt64, padTo width: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        var v = value
        repeat {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        } while v != 0
        // Overlong encodings (continuation bytes of zero) are legal up to 10 bytes.
        while out.count < width { out.append(0x80) }
        out[out.count - 1] &= 0x7F
        return out
    }

    static func lengthDelimited(_ payload: [UInt8]) -> [UInt8] { varintBytes(UInt64(payload.count)) + payload }

    /// Mutates one field of the message or of a sub-message; false when the bytes are not a message.
    static func mutate(_ message: inout [UInt8], random: inout SeededGenerator, depth: Int = 0) -> Bool {
        guard var fields = fields(message) else { return false }
        // Half the time, go one level down into a sub-message.
        let nested = fields.indices.filter { fields[$0].payload.map { !$0.isEmpty && Self.fields($0) != nil } ?? false }
        if depth < 8, !nested.isEmpty, random.below(2) == 0 {
            let index = nested[random.below(nested.count)]
            var payload = fields[index].payload ?? []
            if mutate(&payload, random: &random, depth: depth + 1) {
                fields[index].payload = payload
                fields[index].body = lengthDelimited(payload)
                message = encode(fields)
                return true
            }
        }
        mutateFields(&fields, random: &random)
        message = encode(fields)
        return true
    }

    private static let interestingVarints: [UInt64] = [0, 1, 2, 127, 128, 255, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
                                                       0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF,
                                                       0xFFFF_FFFF_FFFF_FF80]
    private static let interestingFloats: [UInt32] = [0x7FC0_0000, 0x7F80_0000, 0xFF80_0000, 0x8000_0000, 0x0000_0001,
                                                      0x7F7F_FFFF, 0xFF7F_FFFF]
    private static let interestingDoubles: [UInt64] = [0x7FF8_0000_0000_0000, 0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000,
                                                       0x8000_0000_0000_0000, 1, 0x7FEF_FFFF_FFFF_FFFF]

    private static func mutateFields(_ fields: inout [Field], random: inout SeededGenerator) {
        if fields.isEmpty {
            fields.append(Field(number: UInt64(1 + random.below(12)), wireType: 2, body: lengthDelimited([0x08, 0x01]), payload: [0x08, 0x01]))
            return
        }
        let at = random.below(fields.count)
        switch random.below(11) {
        case 0, 1, 2:
            fields.dropRepeatOrSwap(at: at, random: &random)
        case 3:
            let numbers: [UInt64] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 19_000, 536_870_911, 536_870_912]
            fields[at].number = numbers[random.below(numbers.count)]
        case 4:
            // Another wire type with a body that fits it.
            let wireType: UInt8 = [0, 1, 2, 5][random.below(4)]
            fields[at].wireType = wireType
            switch wireType {
            case 0: fields[at].body = varintBytes(interestingVarints[random.below(interestingVarints.count)])
            case 1: fields[at].body = [UInt8](repeating: 0xFF, count: 8)
            case 5: fields[at].body = [0, 0, 0x80, 0x7F]
            default:
                let payload = fields[at].payload ?? fields[at].body
                fields[at].payload = payload
                fields[at].body = lengthDelimited(payload)
            }
        case 5:
            switch fields[at].wireType {
            case 0: fields[at].body = varintBytes(interestingVarints[random.below(interestingVarints.count)], padTo: random.below(3) == 0 ? 10 : 0)
            case 1: fields[at].body = (0..<8).map { UInt8(truncatingIfNeeded: interestingDoubles[random.below(interestingDoubles.count)] >> (8 * UInt64($0))) }
            case 5: fields[at].body = (0..<4).map { UInt8(truncatingIfNeeded: interestingFloats[random.below(interestingFloats.count)] >> (8 * UInt32($0))) }
            default: fields[at].body = lengthDelimited([])
            }
        case 6:
            // A declared length that disagrees with the payload.
            guard let payload = fields[at].payload else { return }
            let lengths = [0, payload.count + 1, max(0, payload.count - 1), Int(UInt32.max), 1 << 30]
            fields[at].body = varintBytes(UInt64(lengths[random.below(lengths.count)])) + payload
        case 7:
            guard let payload = fields[at].payload else { return }
            let strings: [[UInt8]] = [[], [0], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], Array("docs".utf8),
                                      [UInt8](repeating: 0x41, count: 1 + random.below(2048)), payload + payload]
            let chosen = strings[random.below(strings.count)]
            fields[at].payload = chosen
            fields[at].body = lengthDelimited(chosen)
        case 8:
            // Packed repeated values: many of them, or a ragged tail.
            let count = random.below(4) == 0 ? 1 + random.below(4096) : 1 + random.below(16)
            var packed: [UInt8] = []
            for _ in 0..<count { packed += [0x00, 0x00, 0xC0, 0x7F] }
            if random.below(2) == 0 { packed.append(0x01) }
            fields[at].wireType = 2
            fields[at].payload = packed
            fields[at].body = lengthDelimited(packed)
        case 9:
            // Deep nesting: the field's payload wrapped in itself many times.
            var payload = fields[at].payload ?? []
            let number = fields[at].number
            for _ in 0..<(1 + random.below(100)) {
                payload = varintBytes(number << 3 | 2) + lengthDelimited(payload)
                if payload.count > 64 << 10 { break }
            }
            fields[at].wireType = 2
            fields[at].payload = payload
            fields[at].body = lengthDelimited(payload)
        default:
            // Overlong key or length varint.
            fields[at].body = fields[at].payload.map { varintBytes(UInt64($0.count), padTo: 10) + $0 } ?? fields[at].body
        }
    }
}
