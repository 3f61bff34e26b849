import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import VectorEngine

/// A fault the driver's own test (Tests/e2e/test_fuzz_driver.py) makes on purpose at one
/// input, to prove each kind of finding leaves that input behind (`--inject-fault`, hidden).
enum InjectedFault: String, ExpressibleByArgument, CaseIterable {
    case trap, stackOverflow = "stack-overflow", hang, memory, invariant
}

/// Runs `base`, except that input number `at` (counting from 0) makes `fault` instead.
final class FaultInjectingTarget: FuzzTarget {
    static let name = "fault-injecting"
    private let base: any FuzzTarget
    private let fault: InjectedFault
    private let at: Int
    private var runs = 0

    init(_ base: any FuzzTarget, fault: InjectedFault, at: Int) {
        self.base = base
        self.fault = fault
        self.at = at
    }

    var maxInputBytes: Int { base.maxInputBytes }
    var inputTimeBoundSeconds: Double { base.inputTimeBoundSeconds }
    var dictionary: [[UInt8]] { base.dictionary }
    func seedCorpus() throws -> [[UInt8]] { try base.seedCorpus() }
    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) -> Bool {
        base.mutate(&input, random: &random, corpus: corpus)
    }
    func finish() { base.finish() }

    func run(_ input: [UInt8]) throws -> FuzzOutcome {
        defer { runs += 1 }
        guard runs == at else { return try base.run(input) }
        switch fault {
        case .trap:
            let missing: Int? = input.count < 0 ? 1 : nil
            _ = missing!
        case .stackOverflow:
            _ = recurse(input.count)
        case .hang:
            while true { usleep(100_000) }
        case .memory:
            var blocks: [[UInt8]] = []
            while true { blocks.append([UInt8](repeating: 1, count: 64 << 20)) }
        case .invariant:
            throw FuzzFinding("injected invariant failure")
        }
        return .rejected
    }

    private func recurse(_ depth: Int) -> Int {
        var frame = [UInt8](repeating: UInt8(truncatingIfNeeded: depth), count: 64)
        return recurse(depth + 1) &+ frame.withUnsafeMutableBufferPointer { Int($0[0]) }
    }
}
