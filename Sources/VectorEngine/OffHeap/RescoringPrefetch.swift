#if canImport(Glibc)
private import Glibc
#endif

/// Whether a rescoring asks the kernel to start reading its candidates' full vectors from an
/// arena (``VectorArena/willRead(offset:count:)``) before it measures them. The ask is one
/// system call a candidate, about 1 us even when the page is already mapped (40 a query at
/// oversampling 4: a fifth of a 1M x 128 query's time with the memory free), and it pays only
/// when pages are missing, where it overlaps their reads. So a search slot stops asking after
/// ``quietLimit`` rescorings in a row that took no page fault, and asks again from the first
/// one that takes a fault (that rescoring reads its missing vectors one after another). The
/// faults are the thread's own (`getrusage`), two calls a rescoring.
struct RescoringPrefetch {
    /// Rescorings in a row without a page fault, up to ``quietLimit``.
    private(set) var quiet = 0
    static let quietLimit = 64

    /// Whether the next rescoring should ask for its vectors ahead (always where faults are not
    /// counted).
    var asks: Bool { !Self.countsFaults || quiet < Self.quietLimit }

    #if canImport(Glibc)
    static let countsFaults = true
    #else
    static let countsFaults = false
    #endif

    /// Records a rescoring that took `faults` page faults.
    mutating func record(faults: Int) {
        quiet = faults == 0 ? min(quiet + 1, Self.quietLimit) : 0
    }

    /// Page faults (minor and major) the calling thread has taken so far.
    static func threadFaults() -> Int {
        #if canImport(Glibc)
        var usage = rusage()
        // RUSAGE_THREAD (1) is declared only for _GNU_SOURCE, which Swift's Glibc leaves out.
        guard getrusage(__rusage_who_t(1), &usage) == 0 else { return 0 }
        return usage.ru_minflt + usage.ru_majflt
        #else
        return 0
        #endif
    }
}
