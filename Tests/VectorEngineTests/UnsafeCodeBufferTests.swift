import Testing
@testable import VectorEngine

@Suite struct UnsafeCodeBufferTests {
    /// Seeded appends, replacements, moves and truncations give the same bytes as an array
    /// doing the same, while the buffer grows past the huge-page threshold.
    @Test func behavesAsAnArray() {
        var rng = SeededGenerator(seed: 11)
        let buffer = _UnsafeCodeBuffer()
        var model: [UInt8] = []
        let code = 96
        func random(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        while model.count < _HugePageMemory.thresholdBytes + 100 * code {
            let chunk = random(code * Int(1 + rng.next() % 500))
            buffer.append(contentsOf: chunk); model += chunk
            let slots = model.count / code
            let at = Int(rng.next() % UInt64(slots)) * code
            let replacement = random(code)
            buffer.replace(at: at, with: replacement); model.replaceSubrange(at..<(at + code), with: replacement)
            let from = Int(rng.next() % UInt64(slots)) * code, to = Int(rng.next() % UInt64(slots)) * code
            buffer.move(from: from, to: to, length: code); model.replaceSubrange(to..<(to + code), with: model[from..<(from + code)])
            if rng.next() % 4 == 0 {
                let kept = model.count - code * Int(rng.next() % UInt64(min(slots, 50)))
                buffer.truncate(to: kept); model.removeLast(model.count - kept)
            }
        }
        #expect(buffer.count == model.count)
        #expect(buffer.array == model)
        #expect(buffer.bytes(from: code, length: code) == Array(model[code..<(2 * code)]))
        buffer.replaceAll(with: [1, 2, 3])
        #expect(buffer.array == [1, 2, 3] && buffer[2] == 3)
    }
}
