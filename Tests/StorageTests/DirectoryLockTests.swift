#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import Testing
@testable import Storage

@Suite("directory lock: one owner per directory")
struct DirectoryLockTests {
    @Test("a second lock in the same process is refused, naming the holder; release and deinit give it back")
    func sameProcess() throws {
        let directory = temporaryDirectory()
        let first = try DirectoryLock(directory: directory, owner: "ruvector-server")
        let error = #expect(throws: StorageError.self) { _ = try DirectoryLock(directory: directory, owner: "ruvector-server") }
        #expect(error?.code == .locked)
        #expect(error?.message.contains("ruvector-server pid \(getpid()) (started ") == true)
        #expect(error?.message.contains(directory) == false, "the message reaches clients: no path in it")
        #expect(DirectoryLock.holder(of: directory)?.pid == getpid())
        first.release()
        #expect(!first.isHeld)
        do {
            let second = try DirectoryLock(directory: directory, owner: "other")
            #expect(DirectoryLock.holder(of: directory)?.owner == "other")
            _ = second
        }
        // `second` went away with its scope: its deinit released the lock.
        _ = try DirectoryLock(directory: directory, owner: "third")
    }

    @Test("a lock this process released but a starting child still borrows (a shared descriptor) is taken once the child lets go")
    func borrowedByChild() throws {
        let directory = temporaryDirectory()
        let first = try DirectoryLock(directory: directory, owner: "ruvector collection")
        // What a child between clone and exec holds: a copy of the same open file description.
        let borrowed = first.descriptor.withLock { dup($0) }
        #expect(borrowed >= 0)
        first.release()
        // The child lets go 30 ms later, on its own thread (not Dispatch's pool, which the
        // concurrency runtime shares and which may be busy with other tests' waits).
        var child = pthread_t()
        let started = pthread_create(&child, nil, { argument in
            usleep(30_000)
            close(Int32(Int(bitPattern: argument) - 1))     // the child's exec closes its copies (O_CLOEXEC)
            return nil
        }, UnsafeMutableRawPointer(bitPattern: Int(borrowed) + 1))
        #expect(started == 0)
        let second = try DirectoryLock(directory: directory, owner: "ruvector collection")
        pthread_join(child, nil)
        #expect(second.isHeld)
        // Still held by a live owner in this process: refused after the short wait, not forever.
        let refusing = ContinuousClock.now
        #expect(throws: StorageError.self) { _ = try DirectoryLock(directory: directory, owner: "again") }
        #expect(ContinuousClock.now - refusing < .seconds(2))
    }

    @Test("a directory that does not exist or cannot hold the lock file is an I/O error, not a crash")
    func missingDirectory() {
        let error = #expect(throws: StorageError.self) {
            _ = try DirectoryLock(directory: temporaryDirectory() + "/missing", owner: "x")
        }
        #expect(error?.code == .io && error?.errno == ENOENT)
        #expect(error?.message.contains("/tmp") == false)
        #expect(error?.description.contains("/missing/LOCK") == true, "the log line names the path")
    }
}

@Suite("automatic snapshots: bookkeeping and scheduling")
struct AutomaticSnapshotsTests {
    /// A background runner that holds jobs until the test runs them.
    final class HeldJobs: Sendable {
        private let jobs = Synchronization.Mutex<[@Sendable () -> Void]>([])
        var count: Int { jobs.withLock { $0.count } }
        func add(_ job: @escaping @Sendable () -> Void) { jobs.withLock { $0.append(job) } }
        func runAll() {
            while let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { job() }
        }
    }

    @Test("each bound schedules one job, none while one is pending; the debt resets when a snapshot takes it")
    func bounds() throws {
        let held = HeldJobs()
        let taken = Synchronization.Mutex(0)
        let options = DurabilityOptions(autoSnapshotWALBytes: 1000, autoSnapshotChanges: 10, autoSnapshotReplayMillis: 5,
                                        autoSnapshotInterval: .zero, runInBackground: { held.add($0) })
        let schedule = AutomaticSnapshots(options: options, directory: "/x")
        schedule.start {
            _ = schedule.take()
            taken.withLock { $0 += 1 }
            return SnapshotInfo(name: "s", walSequence: 1, createdUnixMicros: 0, sizeBytes: 0, crc32c: 0)
        }
        for (bytes, changes, applyNanos, reason) in [(1000, 0, Int64(0), AutomaticSnapshotReason.logBytes),
                                                     (10, 10, 0, .changes), (10, 1, 5_000_000, .replayTime)] {
            schedule.logged(bytes: bytes / 2, changes: 0)
            schedule.scheduleIfDue()
            #expect(held.count == 0, "below every bound")
            schedule.logged(bytes: bytes - bytes / 2, changes: changes)
            schedule.applied(nanos: applyNanos)
            #expect(schedule.dueReason(schedule.debt) == reason)
            schedule.scheduleIfDue()
            schedule.scheduleIfDue()
            #expect(held.count == 1, "one job, however many writes find it due")
            held.runAll()
            #expect(schedule.debt == AutomaticSnapshots.Debt())
        }
        #expect(taken.withLock { $0 } == 3)
        // A job queued while due, whose debt a snapshot on request took meanwhile, does nothing.
        schedule.logged(bytes: 1000, changes: 0)
        schedule.scheduleIfDue()
        #expect(held.count == 1)
        _ = schedule.take()
        held.runAll()
        #expect(taken.withLock { $0 } == 3)
        schedule.close()
        schedule.logged(bytes: 5000, changes: 50)
        schedule.scheduleIfDue()
        #expect(held.count == 0, "nothing after close")
    }

    @Test("the interval bound fires once the oldest unsnapshotted write is that old, and only if something was written")
    func interval() async throws {
        let done = Synchronization.Mutex(0)
        let options = DurabilityOptions(autoSnapshotWALBytes: 0, autoSnapshotChanges: 0, autoSnapshotReplayMillis: 0,
                                        autoSnapshotInterval: .milliseconds(200))
        let schedule = AutomaticSnapshots(options: options, directory: "/x")
        schedule.start {
            _ = schedule.take()
            done.withLock { $0 += 1 }
            return nil
        }
        try await Task.sleep(for: .milliseconds(500))
        #expect(done.withLock { $0 } == 0, "nothing written: no snapshot")
        schedule.logged(bytes: 10, changes: 1)
        let deadline = ContinuousClock.now + .seconds(5)
        while done.withLock({ $0 }) == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(done.withLock { $0 } == 1)
        try await Task.sleep(for: .milliseconds(500))
        #expect(done.withLock { $0 } == 1, "the debt was taken: no second snapshot")
        schedule.close()
    }
}
