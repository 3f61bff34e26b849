// raft-bench: throughput and commit latency of the pure Raft state machine (ClusterEngine),
// 3 and 5 nodes in one process, messages delivered in memory, nothing persisted. It measures
// the algorithm's own cost (no disk, no network); there is no external peer for this in the
// same run. Memory per proposal is the growth of the resident set (/proc/self/statm; retained
// log entries included). Allocations per proposal are counted by a malloc/calloc/realloc
// wrapper linked into this benchmark only (CAllocationCounter).
//
//   swift run -c release raft-bench [--proposals 200000] [--batch 64]
#if canImport(Glibc)
import Glibc
#endif
import CAllocationCounter
import ClusterEngine

struct Group {
    var nodes: [RaftNode]
    var inFlight: [Message] = []
    var applied = 0

    init(size: Int) {
        let ids = (1...UInt64(size)).map { $0 }
        nodes = ids.map { RaftNode(id: $0, voters: Set(ids)) }
        nodes[0].campaign()
        while settle() {}
        applied = 0
    }

    /// Runs every Ready and delivers every message once; returns whether anything moved.
    mutating func settle() -> Bool {
        var moved = false
        for i in nodes.indices {
            while nodes[i].hasReady {
                let ready = nodes[i].ready()
                inFlight += ready.messages
                if i == 0 { applied += ready.committedEntries.count }
                nodes[i].advance(ready)
                moved = true
            }
        }
        let batch = inFlight
        inFlight = []
        for m in batch { nodes[Int(m.to) - 1].step(m) }
        return moved || !batch.isEmpty
    }
}

/// Resident set size in bytes.
func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var size = 0, resident = 0
    _ = withUnsafeMutablePointer(to: &size) { s in withUnsafeMutablePointer(to: &resident) { r in
        withVaList([s, r]) { vfscanf(file, "%ld %ld", $0) } } }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func nanos() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

let options = RaftBenchOptions.parseOrExit()
let proposals = options.proposals
let batch = options.batch

/// Proposes `count` commands in batches on a settled group and runs until all are applied.
func drive(_ group: inout Group, count: Int, batch: Int) throws {
    var proposed = 0
    while proposed < count {
        for _ in 0..<min(batch, count - proposed) { try group.nodes[0].propose(command); proposed += 1 }
        _ = group.settle()
    }
    while group.applied < count { _ = group.settle() }
}

let command = [UInt8](repeating: 0x61, count: 16)

/// Mallocs (malloc, calloc, realloc) per proposal on a fresh group, counted by the
/// CAllocationCounter wrapper around glibc's allocator.
func allocationsPerProposal(nodes: Int, count: Int, batch: Int) throws -> String {
    var group = Group(size: nodes)
    allocation_counter_start()
    try drive(&group, count: count, batch: batch)
    let mallocs = allocation_counter_stop()
    return format1(Double(mallocs) / Double(count))
}

func format1(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

print("pure Raft state machine, in-memory delivery, \(proposals) proposals of 16 bytes; no external peer\n")
print("| nodes | batch | proposals/s | delivery rounds to commit (1 proposal) | mallocs per proposal (all nodes) | resident memory growth per proposal (bytes) |")
print("|---:|---:|---:|---:|---:|---:|")
for size in [3, 5] {
    // Latency: rounds of (process + deliver) from propose to the leader applying it.
    var probe = Group(size: size)
    try probe.nodes[0].propose(command)
    var rounds = 0
    let before = probe.applied
    while probe.applied == before { _ = probe.settle(); rounds += 1 }

    var group = Group(size: size)
    let heapBefore = residentBytes()
    let start = nanos()
    try drive(&group, count: proposals, batch: batch)
    let seconds = Double(nanos() - start) / 1e9
    let heapGrowth = Double(residentBytes() - heapBefore) / Double(proposals)
    let mallocs = try allocationsPerProposal(nodes: size, count: min(proposals, 20_000), batch: batch)
    print("| \(size) | \(batch) | \(Int(Double(proposals) / seconds)) | \(rounds) | \(mallocs) | \(Int(heapGrowth)) |")
}
