import VectorEngine

/// The seeded mutation loop: picks a corpus entry, mutates it (the target's structure-aware
/// mutation or the byte mutator), runs it, and keeps a bounded pool of mutated inputs the
/// target accepted, to mutate further. The sequence of inputs depends only on the seed, the
/// seed corpus and the targets' accept/reject answers (deterministic for every target but
/// `http2`, whose handlers run on other threads).
struct FuzzDriver {
    /// When to stop.
    struct Budget {
        var seconds: Double
        var runs: Int?
    }

    /// What a run did, for the summary.
    struct Statistics {
        var executions = 0
        var accepted = 0
        var rejected = 0
        var structureAwareMutations = 0
        var seconds = 0.0
        var poolSize = 0
    }

    let target: any FuzzTarget
    let seed: UInt64
    /// Accepted inputs kept besides the seeds, and their bytes at most (snapshot inputs are
    /// tens of KiB each; the pool must stay far below the RSS limit).
    static let maxPoolEntries = 4096
    static let maxPoolBytes = 256 << 20

    /// Runs until the budget is spent; throws the first `FuzzFinding`, after saving its input.
    func run(seeds: [[UInt8]], budget: Budget, report: (String) -> Void) throws -> Statistics {
        var random = SeededGenerator(seed: seed)
        let mutator = ByteMutator(maxBytes: target.maxInputBytes, dictionary: target.dictionary)
        var pool: [[UInt8]] = []
        var poolBytes = 0
        var statistics = Statistics()
        let started = ContinuousClock.now
        var lastReport = started
        let seedsToRun = seeds.filter { $0.count <= target.maxInputBytes }
        guard !seedsToRun.isEmpty else { throw FuzzSetupError("no seed input fits in \(target.maxInputBytes) bytes") }
        var index: UInt64 = 0
        while true {
            let elapsed = ContinuousClock.now - started
            if let runs = budget.runs, statistics.executions >= runs { break }
            if budget.runs == nil, elapsed >= .milliseconds(Int64(budget.seconds * 1000)) { break }
            // The seeds themselves first, then mutants.
            var input: [UInt8]
            if Int(index) < seedsToRun.count {
                input = seedsToRun[Int(index)]
            } else {
                let fromPool = !pool.isEmpty && random.below(3) == 0
                input = fromPool ? pool[random.below(pool.count)] : seedsToRun[random.below(seedsToRun.count)]
                let corpus = random.below(2) == 0 || pool.isEmpty ? seedsToRun : pool
                if random.below(2) == 0, target.mutate(&input, random: &random, corpus: corpus) {
                    statistics.structureAwareMutations += 1
                } else {
                    mutator.mutate(&input, random: &random, corpus: corpus)
                }
                // Structure-aware mutations may grow an input past the bound the crash buffer holds.
                if input.count > target.maxInputBytes { input.removeLast(input.count - target.maxInputBytes) }
            }
            CrashGuard.begin(input, index: index)
            let outcome: FuzzOutcome
            do {
                outcome = try target.run(input)
            } catch let finding as FuzzFinding {
                let path = CrashGuard.save(kind: "finding")
                report("==ruvector-fuzz== finding on input #\(index): \(finding.description)\n"
                       + "input saved to \(path ?? "(could not save)")")
                throw finding
            } catch {
                outcome = .rejected
            }
            CrashGuard.end()
            statistics.executions += 1
            switch outcome {
            case .accepted:
                statistics.accepted += 1
                if Int(index) >= seedsToRun.count {
                    if pool.count < Self.maxPoolEntries && poolBytes + input.count <= Self.maxPoolBytes || pool.isEmpty {
                        pool.append(input)
                        poolBytes += input.count
                    } else {
                        let replaced = random.below(pool.count)
                        if poolBytes - pool[replaced].count + input.count <= Self.maxPoolBytes {
                            poolBytes += input.count - pool[replaced].count
                            pool[replaced] = input
                        }
                    }
                }
            case .rejected:
                statistics.rejected += 1
            }
            index += 1
            let now = ContinuousClock.now
            if now - lastReport >= .seconds(10) {
                lastReport = now
                let seconds = Self.seconds(now - started)
                report("#\(statistics.executions) \(Int(Double(statistics.executions) / max(seconds, 0.001))) exec/s, "
                       + "\(statistics.accepted) accepted, \(statistics.rejected) rejected, pool \(pool.count), \(Int(seconds)) s")
            }
        }
        statistics.seconds = Self.seconds(ContinuousClock.now - started)
        statistics.poolSize = pool.count
        return statistics
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
