import ArgumentParser
import RPC
import Wire

/// `ruvector-interop-client`: the gRPC interoperability test cases
/// (grpc/doc/interop-test-descriptions.md) run by our Swift client against any gRPC server.
/// Flags follow the gRPC project's interop clients. Exits non-zero when a case fails.
@main
struct InteropClient: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ruvector-interop-client",
        abstract: "Runs a gRPC interop test case with RuVector's Swift client.")

    @Option(name: .customLong("server_host")) var serverHost = "127.0.0.1"
    @Option(name: .customLong("server_port")) var serverPort: Int
    @Option(name: .customLong("test_case"), help: "A case name, or 'all'.") var testCase: String
    @Option(name: .customLong("use_tls")) var useTLS = false
    @Option(name: .customLong("server_host_override")) var serverHostOverride: String?
    @Option(name: .customLong("ca_file"), help: "CA bundle (PEM) to verify the server.") var caFile: String?

    func run() async throws {
        let tls = useTLS ? TLSConfiguration(trustRootsPath: caFile, serverHostname: serverHostOverride ?? serverHost) : nil
        let channel = try await GRPCChannel.connect(host: serverHost, port: serverPort, tls: tls)
        defer { Task { await channel.close() } }
        let cases = testCase == "all" ? InteropCases.all.map(\.name) : [testCase]
        var failures = 0
        for name in cases {
            guard let body = InteropCases.all.first(where: { $0.name == name })?.body else {
                throw ValidationError("unknown test case '\(name)'")
            }
            do {
                try await body(channel)
                print("PASS \(name)")
            } catch {
                print("FAIL \(name): \(error)")
                failures += 1
            }
        }
        await channel.close()
        if failures > 0 { throw ExitCode.failure }
    }
}
