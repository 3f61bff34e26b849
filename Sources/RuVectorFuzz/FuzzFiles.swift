#if canImport(Glibc)
import Glibc
#endif
import Storage

/// The few file operations the fuzzer needs, on Storage's helpers where it has them.
enum FuzzFiles {
    /// A new, empty directory `<parent>/<prefix>-XXXXXX`.
    static func makeTemporaryDirectory(in parent: String, prefix: String) throws -> String {
        try AtomicFile.createDirectory(parent)
        var template = Array("\(parent)/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard made != nil else { throw FuzzSetupError("cannot create a directory in '\(parent)' (errno \(errno))") }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func createDirectories(_ path: String) throws { try AtomicFile.createDirectory(path) }

    /// Removes a tree, ignoring failures (scratch files only).
    static func removeTree(_ path: String) { try? AtomicFile.removeTree(path) }

    /// Replaces `path` with `bytes` (plain write: these are scratch files, no fsync needed).
    static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw FuzzSetupError("cannot write '\(path)' (errno \(errno))") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            guard n > 0 else { throw FuzzSetupError("cannot write '\(path)' (errno \(errno))") }
            written += n
        }
    }

    static func read(_ path: String) throws -> [UInt8] { try AtomicFile.read(path) }

    static func entries(_ path: String) throws -> [String] { try AtomicFile.entries(path) }

    /// Every regular file of a directory (seed inputs), in name order.
    static func readDirectory(_ path: String) throws -> [[UInt8]] {
        try AtomicFile.entries(path).sorted().compactMap { name in
            var info = stat()
            guard stat(path + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            return try read(path + "/" + name)
        }
    }
}

/// Where the repository is (seed files under Tests/), from this source file's path at build
/// time; `RUVECTOR_REPO` overrides it for a binary moved elsewhere.
enum RepositoryPaths {
    static var root: String {
        if let given = Environment.value("RUVECTOR_REPO") { return given }
        // <root>/Sources/RuVectorFuzz/FuzzFiles.swift
        var path = "\(#filePath)"
        for _ in 0..<3 { path = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "." }
        return path
    }
}

/// Environment variables.
enum Environment {
    static func value(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

/// The fuzzer itself could not start (a directory, a seed file).
struct FuzzSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Progress lines on standard output, written at once (a watchdog exit skips stdio's buffers).
enum Console {
    static func print(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + written, bytes.count - written) }
            if n <= 0 { return }
            written += n
        }
    }
}
