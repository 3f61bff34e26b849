// raft-bench: throughput and commit latency of the pure Raft state machine (ClusterEngine),
// 3 and 5 nodes in one process, messages delivered in memory, nothing persisted. It measures
// the algorithm's own cost (no disk, no network); there is no external peer for this in the
// same run. Memory per proposal is the growth of the resident set (/proc/self/statm; retained
// log entries included), not an allocation count.
//
//   swift run -c release raft-bench [--proposals 200000] [--batch 64]
#if canImport(Glibc)
import Glibc
#endif
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

var proposals = 200_000
var batch = 64
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let a = arguments.next() {
    switch a {
    case "--proposals": proposals = Int(arguments.next() ?? "") ?? proposals
    case "--batch": batch = Int(arguments.next() ?? "") ?? batch
    default: print("usage: raft-bench [--proposals N] [--batch B]"); exit(2)
    }
}

print("pure Raft state machine, in-memory delivery, \(proposals) proposals of 16 bytes; no external peer\n")
print("| nodes | batch | proposals/s | delivery rounds to commit (1 proposal) | resident memory growth per proposal (bytes) |")
print("|---:|---:|---:|---:|---:|")
let command = [UInt8](repeating: 0x61, count: 16)
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
    var proposed = 0
    while proposed < proposals {
        for _ in 0..<min(batch, proposals - proposed) { try group.nodes[0].propose(command); proposed += 1 }
        _ = group.settle()
    }
    while group.applied < proposals { _ = group.settle() }
    let seconds = Double(nanos() - start) / 1e9
    let heapGrowth = Double(residentBytes() - heapBefore) / Double(proposals)
    print("| \(size) | \(batch) | \(Int(Double(proposals) / seconds)) | \(rounds) | \(Int(heapGrowth)) |")
}
