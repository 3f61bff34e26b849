// QPS at a target recall, from an ef sweep: read off the grid, and interpolated between grid points.
import Foundation

/// One ef sweep: recall@10 and single-thread QPS at each ef, ef ascending.
typealias Sweep = [(ef: Int, recall: Double, qps: Double)]

/// The QPS of a sweep at one target recall.
struct TargetQPS {
    var qps: Double
    /// The ef points it comes from: two when interpolated, one when read off the grid.
    var efs: [Int]
    /// Interpolation found the smallest ef of the sweep already at the target: its QPS is a lower bound.
    var atSmallestEf = false

    var cell: String {
        String(format: "%.0f", qps) + " (" + efs.map(String.init).joined(separator: "-") + (atSmallestEf ? ", smallest ef" : "") + ")"
    }
}

/// The best QPS among the grid's efs whose recall reaches `target` (how earlier tables were read).
func gridQPS(_ target: Double, _ rows: Sweep) -> TargetQPS? {
    rows.filter { $0.recall >= target }.max { $0.qps < $1.qps }.map { TargetQPS(qps: $0.qps, efs: [$0.ef]) }
}

/// QPS at exactly `target` recall: log QPS linear in recall between the last ef below the target
/// and the first ef that reaches it (in ef order). When the smallest ef reaches it already, that
/// point's QPS, marked; `nil` when no ef does.
func interpolatedQPS(_ target: Double, _ rows: Sweep) -> TargetQPS? {
    guard let i = rows.firstIndex(where: { $0.recall >= target }) else { return nil }
    let hi = rows[i]
    guard i > 0 else { return TargetQPS(qps: hi.qps, efs: [hi.ef], atSmallestEf: true) }
    let lo = rows[i - 1]  // below the target, so below `hi`
    let t = (target - lo.recall) / (hi.recall - lo.recall)
    return TargetQPS(qps: exp(log(lo.qps) + t * (log(hi.qps) - log(lo.qps))), efs: [lo.ef, hi.ef])
}

/// Prints QPS at recall 0.90 / 0.95 / 0.99 for each sweep, and its ratio to each reference sweep,
/// interpolated and on the grid.
func printTargets(_ title: String, _ sweeps: [(name: String, rows: Sweep)], against references: [(name: String, rows: Sweep)]) {
    for (how, read) in [("interpolated: log QPS linear in recall between the two bracketing efs", interpolatedQPS),
                        ("grid: best QPS among the efs that reach the target", gridQPS)] as [(String, (Double, Sweep) -> TargetQPS?)] {
        print("\n\(title), QPS (ef) \(how)\n")
        print("| engine | target recall | QPS (ef) |" + references.map { " ratio to \($0.name) |" }.joined())
        print("|---|---|---|" + references.map { _ in "---|" }.joined())
        for (name, rows) in sweeps {
            for target in [0.90, 0.95, 0.99] {
                let o = read(target, rows)
                let ratios = references.map { ref -> String in
                    guard let o, let r = read(target, ref.rows) else { return " - |" }
                    return String(format: " %.2fx |", o.qps / r.qps)
                }
                print("| \(name) | \(target) | \(o?.cell ?? "not reached") |" + ratios.joined())
            }
        }
    }
}
