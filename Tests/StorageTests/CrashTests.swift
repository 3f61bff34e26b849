#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Storage

/// The harness binary, built beside the test bundle (`swift build --build-tests` builds it).
private func harnessPath() throws -> String {
    var directory = CommandLine.arguments[0]
    while let slash = directory.lastIndex(of: "/"), !directory.hasSuffix("/debug") && !directory.hasSuffix("/release") {
        directory = String(directory[..<slash])
        if directory.hasSuffix("/debug") || directory.hasSuffix("/release") { break }
    }
    let path = directory + "/ruvector-storage-crash-harness"
    guard access(path, X_OK) == 0 else {
        throw StorageError(.invalidArgument, "crash harness not built at \(path); run swift build --build-tests")
    }
    return path
}

/// Starts the harness with stdout on a pipe; returns its pid and the read end.
private func spawnHarness(_ path: String, directory: String, firstID: UInt64) -> (pid_t, Int32) {
    var pipeFDs: [Int32] = [0, 0]
    precondition(pipe(&pipeFDs) == 0)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], STDOUT_FILENO)
    posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup(directory), strdup(String(firstID)), nil]
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
    precondition(rc == 0, "posix_spawn failed: \(rc)")
    for pointer in argv { free(pointer) }
    posix_spawn_file_actions_destroy(&actions)
    close(pipeFDs[1])
    return (pid, pipeFDs[0])
}

/// Everything the pipe holds until end of file.
private func drain(_ fd: Int32) -> String {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = read(fd, &buffer, buffer.count)
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    close(fd)
    return String(decoding: bytes, as: UTF8.self)
}

@Suite("crash safety")
struct CrashTests {
    @Test("SIGKILL at random moments, 20 cycles: every acknowledged record survives exactly")
    func killNineCycles() throws {
        let path = try harnessPath()
        let directory = temporaryDirectory()
        let seed: UInt64 = 0x0C4A_5111
        var rng = seed
        var acknowledged: [UInt64] = []
        var nextID: UInt64 = 1
        let cycles = Int(getenv("RUVECTOR_CRASH_CYCLES").flatMap { Int(String(cString: $0)) } ?? 20)
        for cycle in 0..<cycles {
            let (pid, output) = spawnHarness(path, directory: directory, firstID: nextID)
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            usleep(UInt32(20_000 + (rng >> 33) % 150_000))     // 20-170 ms, then kill -9
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            let acks = drain(output).split(separator: "\n").compactMap { line -> UInt64? in
                line.hasPrefix("ACK ") ? UInt64(line.dropFirst(4)) : nil
            }
            acknowledged += acks
            // Every acknowledged id is in the log with its exact payload.
            let (wal, report) = try WriteAheadLog.open(directory: directory,
                                                       options: WALOptions(segmentSizeBytes: 64 << 10, syncPolicy: .never))
            let stored = Dictionary(uniqueKeysWithValues: try wal.read(from: 1).map { record in
                (record.payload.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) },
                 Array(record.payload.dropFirst(8)))
            })
            let lost = acknowledged.filter { id in stored[id] != CrashHarnessPayload.payload(for: id) }
            #expect(lost.isEmpty, "seed \(seed) cycle \(cycle): lost or changed \(lost.prefix(5)) (dropped \(report.droppedBytes) bytes)")
            try wal.close()
            nextID = (stored.keys.max() ?? 0) + 1
        }
        #expect(acknowledged.count > cycles, "the harness acknowledged only \(acknowledged.count) records")
    }
}

/// Mirror of the harness's payload function (the harness is an executable, not importable).
enum CrashHarnessPayload {
    static func payload(for id: UInt64) -> [UInt8] {
        let length = Int(id % 200) + 8
        return (0..<length).map { UInt8(truncatingIfNeeded: id &* 2654435761 &+ UInt64($0) &* 40503) }
    }
}
