import Foundation
import RuVectorClient
import Testing

/// A real `ruvector-server` process on a free loopback port with a temporary data
/// directory: the binary from `RUVECTOR_SERVER_BINARY`, or the one `swift build` put next
/// to this test bundle.
final class TestServer: @unchecked Sendable {
    let process: Process
    let dataDirectory: URL
    let host: String
    let port: Int

    static func binaryPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["RUVECTOR_SERVER_BINARY"], !path.isEmpty { return path }
        // The test bundle runs from the build's bin directory (Linux: <bin>/RuVectorPackageTests.xctest;
        // macOS: <bin>/RuVectorPackageTests.xctest/Contents/MacOS/...): look upwards for the server.
        let executable = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                             ?? CommandLine.arguments[0])
        var directory = executable.deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = directory.appendingPathComponent("ruvector-server").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw TestServerError(message: "no ruvector-server near \(executable.path); run `swift build` first or set RUVECTOR_SERVER_BINARY")
    }

    /// Starts the server and waits for its `listening on HOST:PORT` line.
    init(dataDirectory existing: URL? = nil, arguments: [String] = []) throws {
        dataDirectory = existing ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("ruvector-client-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.binaryPath())
        process.arguments = ["--listen", "127.0.0.1:0", "--data-dir", dataDirectory.path, "--log-level", "warning"] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Read byte by byte up to the first newline (the server prints the line once, then stays quiet).
        var line = [UInt8]()
        let handle = stdout.fileHandleForReading
        while line.count < 4096, let byte = try handle.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: "listening on "),
              let colon = text[range.upperBound...].lastIndex(of: ":"),
              let port = Int(text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)) else {
            process.terminate()
            throw TestServerError(message: "the server did not start: \(text.debugDescription)")
        }
        host = String(text[range.upperBound..<colon])
        self.port = port
    }

    /// SIGTERM, wait for exit; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func removeData() {
        try? FileManager.default.removeItem(at: dataDirectory)
    }

    /// Runs `body` with a client connected to a fresh server, then stops the server and removes its data.
    static func with<T>(_ body: (RuVectorClient, TestServer) async throws -> T) async throws -> T {
        let server = try TestServer()
        defer {
            server.stop()
            server.removeData()
        }
        let client = try await RuVectorClient(host: server.host, port: server.port, callTimeout: .seconds(60))
        do {
            let result = try await body(client, server)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }
}

struct TestServerError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
