/// A regular expression for Cypher's `s =~ pattern`, matched in time linear in the input.
///
/// Patterns and strings come from untrusted clients, so the pattern is compiled to a
/// Thompson NFA and simulated one input scalar at a time over the set of live states (a
/// Pike VM without captures). Matching takes O(program size × string length) time: no
/// pattern, such as `(a+)+$`, can make it backtrack.
///
/// The syntax is the subset of Java's `java.util.regex` that Cypher users write: literals
/// and escapes, `.`, classes (`[a-z]`, `[^…]`, `\d \w \s \h \v` and their negations),
/// `^ $ \b \B \A \z \Z`, groups (plain, `(?:…)`, `(?<name>…)`), `|`, the quantifiers
/// `* + ? {n} {n,} {n,m}` and their lazy forms, `\Q…\E`, and the flags `i s m` (and `u`,
/// which changes nothing) as `(?ims)`, `(?-i)` or `(?i:…)`. Case-insensitive matching
/// folds Unicode letters one scalar at a time, as Java's `(?iu)` (Java's plain `(?i)` folds
/// only ASCII). Where a loop's body can match empty, the answer is the regular language's,
/// which Java's backtracker occasionally misses (`(?:^b*){2}` matches "b"). Backreferences,
/// lookaround, atomic groups, possessive quantifiers and `\p{…}` are refused.
///
///     let r = try CypherRegex("\\d{3}-\\d{4}")
///     r.matchesWhole("555-1234")   // true
///     r.matchesWhole("555-12345")  // false: the whole string must match
struct CypherRegex: Sendable {
    /// Longer patterns (in UTF-8 bytes) are refused with `.limitExceeded`.
    static let maxPatternBytes = 4_096
    /// Largest count in `{n}`, `{n,}` or `{n,m}`.
    static let maxRepetitionCount = 1_000
    /// Largest compiled program: bounds memory and time per input scalar.
    static let maxProgramInstructions = 10_000
    /// Deepest group nesting: the parser and compiler recurse once per level.
    static let maxNestingDepth = 100

    private let program: [Instruction]
    private let classes: [CharClass]
    /// Whether matching needs the case variants of each input scalar.
    private let usesCaseFolding: Bool

    /// Compiles `pattern`.
    ///
    /// Throws `.runtime` for a syntax error or an unsupported construct (the message names
    /// it and its index in Unicode scalars), and `.limitExceeded` for a pattern longer than
    /// `maxPatternBytes`, a count over 1000, groups nested over 100 deep, or a pattern whose
    /// expanded program exceeds 10,000 instructions.
    init(_ pattern: String) throws(GraphError) {
        guard pattern.utf8.count <= Self.maxPatternBytes else {
            throw GraphError(.limitExceeded, "regular expression of \(pattern.utf8.count) bytes is longer than the "
                             + "limit of \(Self.maxPatternBytes) bytes")
        }
        var parser = Parser(pattern)
        let tree = try parser.parse()
        var compiler = Compiler()
        try compiler.compile(tree)
        _ = try compiler.emit(.match)
        program = compiler.program
        classes = compiler.classes
        usesCaseFolding = compiler.usesCaseFolding
        #if RUVECTOR_INTERNAL_CHECKS
        checkProgram()
        #endif
    }

    #if RUVECTOR_INTERNAL_CHECKS
    /// Every jump lands inside the program and only the last instruction is `.match`, so
    /// `pc + 1` after a consuming instruction or an assertion is always valid.
    private func checkProgram() {
        for (pc, instruction) in program.enumerated() {
            switch instruction {
            case .split(let first, let second):
                precondition(first < program.count && second < program.count, "split out of range at \(pc)")
            case .jump(let target):
                precondition(target < program.count, "jump out of range at \(pc)")
            case .charClass(let k):
                precondition(k < classes.count, "class out of range at \(pc)")
            case .match:
                precondition(pc == program.count - 1, "match before the end at \(pc)")
            case .scalar, .foldedScalar, .anyScalar, .anyExceptLineTerminator, .assertion:
                break
            }
        }
    }
    #endif

    /// Whether the whole of `s` matches, as Java's `String.matches` (and Cypher's `=~`).
    func matchesWhole(_ s: String) -> Bool { (try? matchesWhole(s, checking: nil)) ?? false }

    /// The same, calling `check` (a query's cancellation and deadline) every `checkInterval`
    /// input scalars and stopping if it throws: a long string against a large pattern takes
    /// program size x length steps.
    func matchesWhole(_ s: String, checking check: (() throws(GraphError) -> Void)?) throws(GraphError) -> Bool {
        var consumed = 0
        let interval = checkInterval
        var current = StateSet(capacity: program.count)
        var next = StateSet(capacity: program.count)
        var pending: [Int32] = []
        var scalars = s.unicodeScalars.makeIterator()
        var window = Window(previous: nil, current: scalars.next(), next: nil, afterNext: nil)
        if window.current != nil { window.next = scalars.next() }
        if window.next != nil { window.afterNext = scalars.next() }

        addState(0, to: &current, at: window, pending: &pending)
        while let scalar = window.current {
            if current.isEmpty { return false }
            consumed += 1
            if consumed % interval == 0, let check { try check() }
            let variants = usesCaseFolding ? CaseVariants(scalar) : nil
            let afterNext = window.afterNext == nil ? nil : scalars.next()
            window = Window(previous: scalar, current: window.next, next: window.afterNext, afterNext: afterNext)
            next.removeAll()
            for i in 0..<current.count {
                let pc = Int(current.dense[i])
                let advances: Bool
                switch program[pc] {
                case .scalar(let expected): advances = scalar == expected
                case .foldedScalar(let key): advances = variants?.folded == key
                case .anyScalar: advances = true
                case .anyExceptLineTerminator: advances = !Self.isLineTerminator(scalar)
                case .charClass(let k): advances = classes[k].matches(scalar, variants)
                case .split, .jump, .assertion, .match: advances = false
                }
                if advances { addState(pc + 1, to: &next, at: window, pending: &pending) }
            }
            swap(&current, &next)
        }
        return current.contains(program.count - 1)
    }

    /// Input scalars between two checks: about 16K instruction steps at most (each scalar may
    /// step every instruction), so a check comes within a millisecond or so.
    var checkInterval: Int { max(1, min(1024, 16_384 / max(1, program.count))) }

    /// Adds `pc` and every state reachable from it without consuming input (the
    /// epsilon closure). An explicit stack, because programs can be 10,000 long.
    private func addState(_ pc: Int, to set: inout StateSet, at window: Window, pending: inout [Int32]) {
        pending.append(Int32(pc))
        while let top = pending.popLast() {
            let pc = Int(top)
            guard !set.contains(pc) else { continue }
            set.insert(pc)
            switch program[pc] {
            case .jump(let target):
                pending.append(Int32(target))
            case .split(let first, let second):
                pending.append(Int32(second))
                pending.append(Int32(first))
            case .assertion(let assertion):
                if assertion.holds(at: window) { pending.append(Int32(pc + 1)) }
            case .scalar, .foldedScalar, .anyScalar, .anyExceptLineTerminator, .charClass, .match:
                break
            }
        }
    }
}

// Helper types nest in CypherRegex so their short names (Parser, Node) cannot clash
// with the Cypher front end's types in this module.
