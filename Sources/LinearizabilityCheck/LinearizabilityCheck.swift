#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ClusterEngine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `ruvector-lincheck [--max-steps N] [--format membership|registers] HISTORY`: checks a
/// history written by a cluster soak test for linearizability, one key at a time, with the
/// project's checker: a membership history (`HistoryFormats.membership`, collections created,
/// deleted and listed; the default) or a register history (`HistoryFormats.registers`, point
/// values written and read, checked against `KeyValueModel`).
///
/// Prints one line and exits with its code:
/// - `linearizable` (0);
/// - `not linearizable: key K (N operations)` (1): no order of key K's N operations respects
///   both real time and the model;
/// - `unknown` (2): the search gave up on some key after N steps (default 50,000,000), the
///   undecided keys are named on stderr;
/// - 64 on a malformed history (its line number on stderr) or a bad command line, 66 when the
///   file cannot be read.
@main
struct LinearizabilityCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ruvector-lincheck",
        abstract: "Check a recorded cluster history for linearizability, key by key (0 linearizable, 1 not, 2 unknown).")

    /// The history's line format and the model it is checked against.
    enum Format: String, CaseIterable, ExpressibleByArgument {
        /// Collections created, deleted and listed (`MembershipModel`).
        case membership
        /// Point values written and read (`KeyValueModel`).
        case registers
    }

    @Option(help: "Search steps per key before giving up with `unknown`.")
    var maxSteps = 50_000_000

    @Option(help: "History format: membership or registers.")
    var format = Format.membership

    @Argument(help: "The history file.")
    var path: String

    func validate() throws {
        guard maxSteps > 0 else { throw ValidationError("--max-steps must be at least 1") }
    }

    func run() throws {
        guard let text = Self.readFile(path) else { Self.fail(66, "cannot read \(path)") }
        let result: PartitionedVerdict<String>
        do {
            if format == .registers {
                result = LinearizabilityChecker.checkPartitions(KeyValueModel.self, try HistoryFormats.registers(text),
                                                                partitionedBy: { $0.key }, maxSteps: maxSteps)
            } else {
                result = LinearizabilityChecker.checkPartitions(MembershipModel.self, try HistoryFormats.membership(text),
                                                                partitionedBy: { $0.key }, maxSteps: maxSteps)
            }
        } catch let malformed as HistoryFormats.Malformed {
            Self.fail(64, "\(path): malformed history: \(malformed.description)")
        } catch {
            Self.fail(64, "\(path): \(error)")
        }
        switch result.verdict {
        case .linearizable:
            print("linearizable")
        case .notLinearizable:
            let (key, count) = result.failing ?? ("?", 0)
            print("not linearizable: key \(key) (\(count) operations)")
            throw ExitCode(1)
        case .unknown:
            print("unknown")
            Self.report("undecided after \(maxSteps) steps: keys \(result.undecided.joined(separator: ", "))")
            throw ExitCode(2)
        }
    }

    /// The whole file as UTF-8 text, or nil when it cannot be read.
    static func readFile(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    static func report(_ message: String) {
        let line = Array("ruvector-lincheck: \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    static func fail(_ code: Int32, _ message: String) -> Never {
        report(message)
        exit(withError: ExitCode(code))
    }
}
