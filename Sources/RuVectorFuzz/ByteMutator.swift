import VectorEngine

/// libFuzzer's classic byte mutations (bit flips, inserts, deletes, copies, interesting
/// integers, dictionary tokens, splices with other corpus entries), drawn from a seeded
/// generator so a run is repeatable from its seed.
struct ByteMutator {
    /// Inputs never grow past this.
    let maxBytes: Int
    /// Tokens to insert or overwrite with.
    let dictionary: [[UInt8]]

    /// Integers at the edges of types and of common limits, each usable at widths 1...8.
    static let interesting: [UInt64] = [
        0, 1, 2, 7, 8, 16, 32, 64, 100, 127, 128, 255, 256, 1000, 1024, 4095, 4096, 32767, 32768, 65535, 65536,
        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000, 1 << 53, 0x7FFF_FFFF_FFFF_FFFF,
        0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFE, 0xFFFF_FFFF_FFFF_FF80,
    ]

    /// Applies one to four stacked mutations.
    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) {
        for _ in 0...random.below(4) { mutateOnce(&input, random: &random, corpus: corpus) }
        if input.count > maxBytes { input.removeLast(input.count - maxBytes) }
    }

    private func mutateOnce(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) {
        if input.isEmpty {
            input = [UInt8](repeating: 0, count: 1 + random.below(16)).map { _ in random.byte() }
            return
        }
        let count = input.count
        switch random.below(16) {
        case 0:
            input[random.below(count)] ^= 1 << UInt8(random.below(8))
        case 1:
            input[random.below(count)] = random.byte()
        case 2:
            let bytes = (0..<1 + random.below(8)).map { _ in random.byte() }
            input.insert(contentsOf: bytes, at: random.below(count + 1))
        case 3:
            let start = random.below(count)
            input.removeSubrange(start..<min(count, start + 1 + random.below(16)))
        case 4:
            let range = random.range(in: count, maxLength: 64)
            input.insert(contentsOf: input[range], at: random.below(count + 1))
        case 5:
            let range = random.range(in: count, maxLength: 64)
            let copy = Array(input[range])
            let at = random.below(count)
            for (offset, byte) in copy.enumerated() where at + offset < count { input[at + offset] = byte }
        case 6, 7:
            let width = [1, 2, 4, 8][random.below(4)]
            var value = Self.interesting[random.below(Self.interesting.count)]
            if random.below(2) == 0 { value = (~value) &+ 1 }
            var bytes = (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
            if random.below(2) == 0 { bytes.reverse() }
            let at = random.below(count)
            if random.below(2) == 0 { input.insert(contentsOf: bytes, at: at) } else { input.overwrite(with: bytes, at: at) }
        case 8:
            let at = random.below(count)
            let delta = UInt8(1 + random.below(35))
            input[at] = random.below(2) == 0 ? input[at] &+ delta : input[at] &- delta
        case 9, 10:
            guard !dictionary.isEmpty else { return mutateOnce(&input, random: &random, corpus: corpus) }
            let token = dictionary[random.below(dictionary.count)]
            let at = random.below(count + 1)
            if random.below(2) == 0 || at == count { input.insert(contentsOf: token, at: at) } else { input.overwrite(with: token, at: at) }
        case 11:
            guard let other = corpus.randomElement(using: &random), !other.isEmpty else { return }
            input = Array(input[..<random.below(count + 1)]) + Array(other[random.below(other.count)...])
        case 12:
            guard let other = corpus.randomElement(using: &random), !other.isEmpty else { return }
            input.insert(contentsOf: other[random.range(in: other.count, maxLength: 256)], at: random.below(count + 1))
        case 13:
            input.removeLast(count - random.below(count))
        case 14:
            let run = [UInt8](repeating: random.below(2) == 0 ? input[random.below(count)] : random.byte(),
                              count: 1 + random.below(random.below(8) == 0 ? 4096 : 64))
            input.insert(contentsOf: run, at: random.below(count + 1))
        default:
            let range = random.range(in: count, maxLength: 8)
            input[range].shuffle(using: &random)
        }
    }
}

extension SeededGenerator {
    /// A uniform integer in 0..<bound (bound > 0).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// A random byte.
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }

    /// A non-empty random range of at most `maxLength` within 0..<count (count > 0).
    mutating func range(in count: Int, maxLength: Int) -> Range<Int> {
        let start = below(count)
        return start..<min(count, start + 1 + below(maxLength))
    }
}

extension Array {
    /// The list mutation every structure-aware mutator shares (tokens, protobuf fields, HTTP/2
    /// frames, log records, snapshot sections): the element at `index` dropped, repeated
    /// somewhere, or swapped with another.
    mutating func dropRepeatOrSwap(at index: Int, random: inout SeededGenerator) {
        switch random.below(3) {
        case 0: remove(at: index)
        case 1: insert(self[index], at: random.below(count + 1))
        default: swapAt(index, random.below(count))
        }
    }
}

extension Array where Element == UInt8 {
    /// Overwrites bytes from `offset`, growing the array where `bytes` runs past its end.
    mutating func overwrite(with bytes: [UInt8], at offset: Int) {
        for (index, byte) in bytes.enumerated() {
            if offset + index < count { self[offset + index] = byte } else { append(byte) }
        }
    }
}
