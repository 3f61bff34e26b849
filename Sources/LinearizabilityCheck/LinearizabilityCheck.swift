#if canImport(Glibc)
import Glibc
#endif
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
struct LinearizabilityCheck {
    static let usage = "usage: ruvector-lincheck [--max-steps N] [--format membership|registers] HISTORY"

    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var maxSteps = 50_000_000
        var format = "membership"
        while arguments.count >= 3 {
            switch arguments[0] {
            case "--max-steps":
                guard let steps = Int(arguments[1]), steps > 0 else { fail(64, usage) }
                maxSteps = steps
            case "--format":
                guard ["membership", "registers"].contains(arguments[1]) else { fail(64, usage) }
                format = arguments[1]
            default:
                fail(64, usage)
            }
            arguments.removeFirst(2)
        }
        guard arguments.count == 1, !arguments[0].hasPrefix("-") else { fail(64, usage) }
        let path = arguments[0]
        guard let text = readFile(path) else { fail(66, "cannot read \(path)") }
        let result: PartitionedVerdict<String>
        do {
            if format == "registers" {
                result = LinearizabilityChecker.checkPartitions(KeyValueModel.self, try HistoryFormats.registers(text),
                                                                partitionedBy: { $0.key }, maxSteps: maxSteps)
            } else {
                result = LinearizabilityChecker.checkPartitions(MembershipModel.self, try HistoryFormats.membership(text),
                                                                partitionedBy: { $0.key }, maxSteps: maxSteps)
            }
        } catch let malformed as HistoryFormats.Malformed {
            fail(64, "\(path): malformed history: \(malformed.description)")
        } catch {
            fail(64, "\(path): \(error)")
        }
        switch result.verdict {
        case .linearizable:
            print("linearizable")
            exit(0)
        case .notLinearizable:
            let (key, count) = result.failing ?? ("?", 0)
            print("not linearizable: key \(key) (\(count) operations)")
            exit(1)
        case .unknown:
            print("unknown")
            report("undecided after \(maxSteps) steps: keys \(result.undecided.joined(separator: ", "))")
            exit(2)
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
        exit(code)
    }
}
