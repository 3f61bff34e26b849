#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Leaves behind the input that crashed, hung or exhausted the process: the driver copies
/// each input into a buffer allocated at start, a signal handler (SIGSEGV, SIGBUS, SIGILL,
/// SIGTRAP, SIGABRT, SIGFPE) writes it to a file with `open`/`write` only (async-signal-safe:
/// no allocation, no lock, no Swift runtime call), prints the path and re-raises the signal
/// to whatever handled it before (the Swift runtime's backtracer, or the default action). A
/// watchdog thread saves the input and exits when one input runs past its time bound or the
/// process's resident memory passes the limit.
enum CrashGuard {
    /// Exit status after a hang (an input past its time bound).
    static let timeoutExitCode: Int32 = 70
    /// Exit status after resident memory passed the limit.
    static let memoryExitCode: Int32 = 71
    /// Exit status after a broken invariant (`FuzzFinding`).
    static let findingExitCode: Int32 = 72

    /// Allocates the buffers and installs the handlers and the watchdog. `filePrefix` is the
    /// start of every saved file's path (directory, target, seed); the kind and the input
    /// number follow it.
    static func install(filePrefix: String, maxInputBytes: Int, inputTimeBoundSeconds: Double, rssLimitBytes: Int) {
        let record = UnsafeMutablePointer<CrashRecord>.allocate(capacity: 1)
        let prefix = Array(filePrefix.utf8)
        record.initialize(to: CrashRecord(
            input: .allocate(capacity: max(1, maxInputBytes)), capacity: maxInputBytes,
            prefix: .allocate(capacity: prefix.count), prefixLength: prefix.count,
            path: .allocate(capacity: prefix.count + 64), message: .allocate(capacity: prefix.count + 256),
            oldActions: .allocate(capacity: 65), timeBoundNanos: UInt64(inputTimeBoundSeconds * 1e9),
            rssLimitBytes: rssLimitBytes))
        prefix.withUnsafeBufferPointer { record.pointee.prefix.initialize(from: $0.baseAddress!, count: prefix.count) }
        crashRecord = record

        // Handlers run on their own stack, so a stack overflow in a recursive decoder is caught too.
        let altStackBytes = 1 << 18
        var stack = stack_t()
        stack.ss_sp = UnsafeMutableRawPointer.allocate(byteCount: altStackBytes, alignment: 16)
        stack.ss_size = altStackBytes
        stack.ss_flags = 0
        sigaltstack(&stack, nil)
        for signal in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] {
            var action = sigaction()
            action.__sigaction_handler = .init(sa_handler: crashSignalHandler)
            action.sa_flags = Int32(SA_ONSTACK)
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, record.pointee.oldActions + Int(signal))
        }

        var thread = pthread_t()
        pthread_create(&thread, nil, { _ in
            watchdogLoop()
            return nil
        }, nil)
        pthread_detach(thread)
    }

    /// Records the input about to run (copied: the signal handler may read it at any point).
    static func begin(_ input: [UInt8], index: UInt64) {
        guard let record = crashRecord else { return }
        let count = min(input.count, record.pointee.capacity)
        input.withUnsafeBufferPointer { bytes in
            if let base = bytes.baseAddress { record.pointee.input.update(from: base, count: count) }
        }
        record.pointee.length = count
        record.pointee.index = index
        inputStartNanos.store(monotonicNanos(), ordering: .releasing)
    }

    /// The input finished (the watchdog stops timing it).
    static func end() {
        inputStartNanos.store(0, ordering: .releasing)
    }

    /// The process's peak resident set (VmHWM), for the summary.
    static func peakResidentBytes() -> Int {
        for line in procFile("/proc/self/status").split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) << 10
        }
        return 0
    }

    /// Saves the current input as `<prefix>-<kind>-input<N>` (outside a signal handler) and
    /// returns the path.
    static func save(kind: String) -> String? {
        guard let record = crashRecord else { return nil }
        return saveInput(record, kind: Array(kind.utf8)) ? String(cString: UnsafeRawPointer(record.pointee.path).assumingMemoryBound(to: CChar.self)) : nil
    }
}

/// What the handlers touch, allocated once and never freed.
struct CrashRecord {
    let input: UnsafeMutablePointer<UInt8>
    let capacity: Int
    var length = 0
    var index: UInt64 = 0
    let prefix: UnsafeMutablePointer<UInt8>
    let prefixLength: Int
    let path: UnsafeMutablePointer<UInt8>
    let message: UnsafeMutablePointer<UInt8>
    /// Indexed by signal number.
    let oldActions: UnsafeMutablePointer<sigaction>
    let timeBoundNanos: UInt64
    let rssLimitBytes: Int

    init(input: UnsafeMutablePointer<UInt8>, capacity: Int, prefix: UnsafeMutablePointer<UInt8>, prefixLength: Int,
         path: UnsafeMutablePointer<UInt8>, message: UnsafeMutablePointer<UInt8>, oldActions: UnsafeMutablePointer<sigaction>,
         timeBoundNanos: UInt64, rssLimitBytes: Int) {
        self.input = input
        self.capacity = capacity
        self.prefix = prefix
        self.prefixLength = prefixLength
        self.path = path
        self.message = message
        self.oldActions = oldActions
        self.timeBoundNanos = timeBoundNanos
        self.rssLimitBytes = rssLimitBytes
    }
}

nonisolated(unsafe) private var crashRecord: UnsafeMutablePointer<CrashRecord>?
/// When the current input started (CLOCK_MONOTONIC nanoseconds), 0 between inputs.
private let inputStartNanos = Atomic<UInt64>(0)

private func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// Appends `bytes` to `buffer` at `offset`; returns the new end.
private func append(_ bytes: UnsafePointer<UInt8>, count: Int, to buffer: UnsafeMutablePointer<UInt8>, at offset: Int) -> Int {
    for i in 0..<count { buffer[offset + i] = bytes[i] }
    return offset + count
}

/// Appends the decimal digits of `value` without allocating.
private func appendDecimal(_ value: UInt64, to buffer: UnsafeMutablePointer<UInt8>, at offset: Int) -> Int {
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes of scratch on the stack
    return withUnsafeMutableBytes(of: &digits) { scratch in
        var n = value, count = 0
        repeat {
            scratch[count] = UInt8(48 + n % 10)
            n /= 10
            count += 1
        } while n > 0
        for i in 0..<count { buffer[offset + i] = scratch[count - 1 - i] }
        return offset + count
    }
}

/// Appends a static ASCII string (a literal: its bytes need no allocation).
private func appendLiteral(_ text: StaticString, to buffer: UnsafeMutablePointer<UInt8>, at offset: Int) -> Int {
    append(text.utf8Start, count: text.utf8CodeUnitCount, to: buffer, at: offset)
}

/// Writes the current input to `<prefix>-<kind>-input<N>`; async-signal-safe.
private func saveInput(_ record: UnsafeMutablePointer<CrashRecord>, kind: UnsafeBufferPointer<UInt8>) -> Bool {
    let r = record.pointee
    var end = append(r.prefix, count: r.prefixLength, to: r.path, at: 0)
    end = appendLiteral("-", to: r.path, at: end)
    end = append(kind.baseAddress!, count: min(kind.count, 16), to: r.path, at: end)
    end = appendLiteral("-input", to: r.path, at: end)
    end = appendDecimal(r.index, to: r.path, at: end)
    r.path[end] = 0
    let fd = open(UnsafeRawPointer(r.path).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { return false }
    var written = 0
    while written < r.length {
        let n = write(fd, r.input + written, r.length - written)
        if n <= 0 { break }
        written += n
    }
    close(fd)
    return written == r.length
}

private func saveInput(_ record: UnsafeMutablePointer<CrashRecord>, kind: [UInt8]) -> Bool {
    kind.withUnsafeBufferPointer { saveInput(record, kind: $0) }
}

/// Prints `==ruvector-fuzz== <what> on input #N; input saved to PATH` on stderr; async-signal-safe.
private func report(_ record: UnsafeMutablePointer<CrashRecord>, what: StaticString, number: Int64?, saved: Bool) {
    let r = record.pointee
    var end = appendLiteral("\n==ruvector-fuzz== ", to: r.message, at: 0)
    end = appendLiteral(what, to: r.message, at: end)
    if let number { end = appendDecimal(UInt64(number), to: r.message, at: end) }
    end = appendLiteral(" on input #", to: r.message, at: end)
    end = appendDecimal(r.index, to: r.message, at: end)
    _ = write(2, r.message, end)
    if saved {
        end = appendLiteral("; input saved to ", to: r.message, at: 0)
        var length = 0
        while r.path[length] != 0 { length += 1 }
        end = append(r.path, count: length, to: r.message, at: end)
        end = appendLiteral("\n", to: r.message, at: end)
    } else {
        end = appendLiteral("; the input could not be saved\n", to: r.message, at: 0)
    }
    _ = write(2, r.message, end)
}

private let crashSignalHandler: @convention(c) (Int32) -> Void = { signal in
    guard let record = crashRecord else { return }
    let kind: StaticString = "crash"
    let saved = saveInput(record, kind: UnsafeBufferPointer(start: kind.utf8Start, count: kind.utf8CodeUnitCount))
    report(record, what: "crash: signal ", number: Int64(signal), saved: saved)
    // Hand the signal to whoever had it before (backtrace, core dump, default exit).
    sigaction(signal, record.pointee.oldActions + Int(signal), nil)
    raise(signal)
}

/// The text of a small /proc file (their size reads as 0, so they are read to the end).
private func procFile(_ path: String) -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var text: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        text += buffer[..<n]
    }
    return String(decoding: text, as: UTF8.self)
}

/// Resident set size from /proc/self/statm.
private func residentBytes() -> Int {
    let fields = procFile("/proc/self/statm").split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

private func watchdogLoop() {
    guard let record = crashRecord else { return }
    while true {
        usleep(20_000)
        let started = inputStartNanos.load(ordering: .acquiring)
        if started != 0, monotonicNanos() &- started > record.pointee.timeBoundNanos {
            let saved = saveInput(record, kind: Array("timeout".utf8))
            report(record, what: "timeout: an input ran past its time bound", number: nil, saved: saved)
            _exit(CrashGuard.timeoutExitCode)
        }
        let resident = residentBytes()
        if resident > record.pointee.rssLimitBytes {
            let saved = saveInput(record, kind: Array("memory".utf8))
            report(record, what: "out of memory: resident MiB ", number: Int64(resident >> 20), saved: saved)
            _exit(CrashGuard.memoryExitCode)
        }
    }
}
