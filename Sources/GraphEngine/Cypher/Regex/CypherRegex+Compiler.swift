/// Syntax tree to program, bounded by `maxProgramInstructions`.
extension CypherRegex {
    // MARK: - Compiler

    /// Turns the tree into a Thompson NFA program, expanding counted repetition and stopping
    /// as soon as the program would exceed its limit.
    struct Compiler {
        private(set) var program: [Instruction] = []
        private(set) var classes: [CharClass] = []
        private(set) var usesCaseFolding = false

        mutating func emit(_ instruction: Instruction) throws(GraphError) -> Int {
            guard program.count < CypherRegex.maxProgramInstructions else {
                throw GraphError(.limitExceeded, "regular expression expands to more than "
                                 + "\(CypherRegex.maxProgramInstructions) instructions; use smaller repetition counts")
            }
            program.append(instruction)
            return program.count - 1
        }

        mutating func compile(_ node: Node) throws(GraphError) {
            switch node {
            case .empty:
                break
            case .literal(let c, let caseInsensitive):
                let variants = CaseVariants(c)
                if caseInsensitive && variants.hasOtherCase {
                    usesCaseFolding = true
                    _ = try emit(.foldedScalar(variants.folded))
                } else {
                    _ = try emit(.scalar(c))
                }
            case .dot(let dotAll):
                _ = try emit(dotAll ? .anyScalar : .anyExceptLineTerminator)
            case .charClass(let cls):
                if cls.caseInsensitive { usesCaseFolding = true }
                classes.append(cls)
                _ = try emit(.charClass(classes.count - 1))
            case .concatenation(let items):
                for item in items { try compile(item) }
            case .alternation(let branches):
                var exits: [Int] = []
                for branch in branches.dropLast() {
                    let split = try emit(.split(0, 0))
                    try compile(branch)
                    exits.append(try emit(.jump(0)))
                    program[split] = .split(split + 1, program.count)
                }
                if let last = branches.last { try compile(last) }
                for exit in exits { program[exit] = .jump(program.count) }
            case .repetition(let body, let min, let max):
                try compileRepetition(body, min: min, max: max)
            case .assertion(let assertion):
                _ = try emit(.assertion(assertion))
            }
        }

        private mutating func compileRepetition(_ body: Node, min: Int, max: Int?) throws(GraphError) {
            guard let max else {
                if min == 0 {
                    // L: split(body, out); body; jump L
                    let split = try emit(.split(0, 0))
                    try compile(body)
                    _ = try emit(.jump(split))
                    program[split] = .split(split + 1, program.count)
                } else {
                    // min - 1 copies, then body+ as L: body; split(L, out)
                    for _ in 0..<(min - 1) { try compile(body) }
                    let loop = program.count
                    try compile(body)
                    _ = try emit(.split(loop, program.count + 1))
                }
                return
            }
            for _ in 0..<min { try compile(body) }
            var splits: [Int] = []
            for _ in min..<max {
                splits.append(try emit(.split(0, 0)))
                try compile(body)
            }
            for split in splits { program[split] = .split(split + 1, program.count) }
        }
    }
}
