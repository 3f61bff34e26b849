#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Exclusive ownership of a directory for as long as this object lives (or until
/// `release()`): an advisory `flock(LOCK_EX | LOCK_NB)` on the file `LOCK` inside it, which
/// records who holds it (pid, program, when it was taken) so the next one can say so.
///
/// Two writers on one write-ahead log lose acknowledged writes (each appends at its own idea
/// of the end), so everything that owns files takes this lock first: the server on its data
/// directory (before it creates or opens anything below it), each `DurableCollection` on its
/// folder, `DurableGraphDatabase` on its folder, and the cluster adapter's Raft state (to
/// come) on its own. The lock is per open file, so a second open of the same directory in the
/// same process is refused too. The kernel drops it when the process dies, however it dies:
/// a `LOCK` file left by a crash is simply taken over.
///
/// A process that starts children (`posix_spawn`, `fork`) lends each child a copy of every
/// descriptor from the clone until the exec closes it (`O_CLOEXEC`): for those microseconds a
/// lock this process just released is still held by the copy. So a lock whose file names this
/// very process is tried again for up to `selfContentionWait` before it is refused.
///
/// ```swift
/// let lock = try DirectoryLock(directory: "/var/lib/ruvector", owner: "ruvector-server")
/// // ... open and serve ...
/// lock.release()
/// ```
public final class DirectoryLock: Sendable {
    /// The lock file's name inside the locked directory.
    public static let fileName = "LOCK"

    /// The directory held.
    public let directory: String
    /// The lock file's descriptor; -1 once released (internal for the tests).
    let descriptor: Mutex<Int32>

    /// How long a lock held by this same process (a child's borrowed descriptor, see above) is
    /// tried again before it is refused: 200 ms, in 2 ms steps.
    static let selfContentionWait: Duration = .milliseconds(200)

    /// Who holds a lock, as its lock file says.
    public struct Holder: Sendable, Equatable, CustomStringConvertible {
        /// The holder's process id.
        public var pid: Int32
        /// The program that took it ("ruvector-server").
        public var owner: String
        /// When it was taken, UTC, ISO 8601 ("2026-12-05T03:40:12Z").
        public var started: String

        /// "ruvector-server pid 1234 (started 2026-12-05T03:40:12Z)".
        public var description: String { "\(owner) pid \(pid) (started \(started))" }
    }

    /// Takes the lock on `directory`, which must exist; throws `.locked` (saying who holds it)
    /// when another process or another open in this one has it, `.io` when the lock file cannot
    /// be created (read-only or foreign directory).
    public init(directory: String, owner: String) throws(StorageError) {
        let path = directory + "/" + Self.fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StorageError(.io, "cannot create the lock file \(Self.fileName)", path: path, errno: errno)
        }
        var result = Self.tryLock(fd)
        if result == EWOULDBLOCK, Self.holder(of: directory)?.pid == getpid() {
            let deadline = ContinuousClock.now + Self.selfContentionWait
            while result == EWOULDBLOCK && ContinuousClock.now < deadline {
                usleep(2_000)
                result = Self.tryLock(fd)
            }
        }
        guard result == 0 else {
            let code = result
            close(fd)
            if code == EWOULDBLOCK {
                let holder = Self.holder(of: directory).map { "\($0)" } ?? "another process"
                throw StorageError(.locked, "in use by \(holder)", path: directory)
            }
            throw StorageError(.io, "cannot lock \(Self.fileName)", path: path, errno: code)
        }
        // Who holds it, for the message of whoever comes next; the lock itself is the flock.
        let record = Array("pid=\(getpid())\nowner=\(owner.filter { $0 != "\n" })\nstarted=\(Self.utcNow())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = record.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.directory = directory
        descriptor = Mutex(fd)
    }

    deinit { release() }

    /// One non-blocking `flock`: 0 when taken, else the errno (`EWOULDBLOCK` when held).
    private static func tryLock(_ fd: Int32) -> Int32 {
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return 0 }
            if errno != EINTR { return errno }
        }
    }

    /// True until `release()`.
    public var isHeld: Bool { descriptor.withLock { $0 >= 0 } }

    /// Gives the lock up (closing the file releases the flock); later calls do nothing. The
    /// file stays: deleting it could let two processes lock two different files of one name.
    public func release() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
        }
    }

    /// Who the lock file of `directory` names, if it names anyone (a stale file from a dead
    /// process names it too: only a failed `init` says the lock is really held).
    public static func holder(of directory: String) -> Holder? {
        guard let bytes = try? AtomicFile.read(directory + "/" + fileName), bytes.count < 4096 else { return nil }
        var fields: [Substring: Substring] = [:]
        for word in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let equals = word.firstIndex(of: "=") else { continue }
            fields[word[..<equals]] = word[word.index(after: equals)...]
        }
        guard let pid = fields["pid"].flatMap({ Int32($0) }), let owner = fields["owner"], let started = fields["started"] else {
            return nil
        }
        return Holder(pid: pid, owner: String(owner), started: String(started))
    }

    /// The wall clock as `YYYY-MM-DDTHH:MM:SSZ`.
    static func utcNow() -> String {
        var now = time(nil)
        var parts = tm()
        guard gmtime_r(&now, &parts) != nil else { return "unknown" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
