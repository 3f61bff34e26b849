#if canImport(Glibc)
import Glibc
#endif
import Storage

/// `ruvector-storage-crash-harness DIR FIRST_ID`: appends records with ids FIRST_ID,
/// FIRST_ID+1, ... to the write-ahead log in DIR (sync policy `always`), and prints
/// `ACK <id>` on stdout after each append returned, until it is killed. The crash test kills
/// it at random moments and checks that every acknowledged record survived, byte for byte.
@main
struct CrashHarness {
    /// The payload stored for `id` (the test recomputes it to compare).
    static func payload(for id: UInt64) -> [UInt8] {
        let length = Int(id % 200) + 8
        return (0..<length).map { UInt8(truncatingIfNeeded: id &* 2654435761 &+ UInt64($0) &* 40503) }
    }

    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count == 3, let first = UInt64(arguments[2]) else {
            print("usage: ruvector-storage-crash-harness DIR FIRST_ID")
            exit(2)
        }
        do {
            let (wal, _) = try WriteAheadLog.open(directory: arguments[1],
                                                  options: WALOptions(segmentSizeBytes: 64 << 10, syncPolicy: .always))
            var id = first
            while true {
                _ = try wal.append(type: 1, payload: withUnsafeBytes(of: id.littleEndian, Array.init) + payload(for: id))
                let line = Array("ACK \(id)\n".utf8)
                _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
                id += 1
            }
        } catch {
            let line = Array("ERROR \(error)\n".utf8)
            _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            exit(1)
        }
    }
}
