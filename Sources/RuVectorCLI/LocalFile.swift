import Foundation

/// Whole files the CLI reads and writes (exported models and routers, JSON inputs), with errors
/// that name the path.
enum LocalFile {
    /// The bytes of `path`.
    static func read(_ path: String) throws -> [UInt8] {
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw CLIError.data("cannot read \(path): \(error.localizedDescription)")
        }
    }

    /// Writes `bytes` to `path` atomically (a temporary file renamed over it).
    static func write(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CLIError.data("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
