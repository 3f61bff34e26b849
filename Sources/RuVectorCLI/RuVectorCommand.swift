import ArgumentParser
import Foundation
import RuVectorClient

/// The entry point: connection options given before the subcommand
/// (`ruvector --server h:p collections list`) are moved after it, where the subcommands read them.
@main
enum CLIEntry {
    static func main() async {
        await RuVectorCommand.main(hoistingConnectionOptions(Array(CommandLine.arguments.dropFirst())))
    }

    static let optionsWithValue: Set<String> = ["--server", "--ca-file", "--cert", "--key", "--server-name", "--timeout"]
    static let flags: Set<String> = ["--tls", "--json"]

    static func hoistingConnectionOptions(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = String(argument.prefix(while: { $0 != "=" }))
            if flags.contains(argument) || (optionsWithValue.contains(name) && argument.contains("=")) {
                leading.append(argument)
                index += 1
            } else if optionsWithValue.contains(argument), index + 1 < arguments.count {
                leading += arguments[index...index + 1]
                index += 2
            } else {
                break
            }
        }
        return Array(arguments[index...]) + leading
    }
}

/// `ruvector`: the command-line client of a RuVector server.
struct RuVectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ruvector",
        abstract: "Command-line client for a RuVector server (VectorService, and Cypher on the GraphService).",
        discussion: """
            The server is --server HOST:PORT, else $RUVECTOR_SERVER, else 127.0.0.1:50051. Output is a \
            table, or JSON with --json. Exit codes: 0 success, 1 the server refused the call, \
            64 bad command line, 65 bad input data or local file, 69 server unreachable.
            """,
        subcommands: [CollectionsCommand.self, UpsertCommand.self, SearchCommand.self, CountCommand.self,
                      GetCommand.self, DeleteCommand.self, SnapshotCommand.self, CypherCommand.self, ClusterCommand.self,
                      LearnCommand.self, RouteCommand.self])
}

/// Exit statuses (sysexits.h where one fits).
enum ExitStatus {
    static let serverError: Int32 = 1
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let unavailable: Int32 = 69
}

/// Options every command that talks to the server takes.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "Server address HOST:PORT (default: $RUVECTOR_SERVER or 127.0.0.1:50051).")
    var server: String?

    @Flag(name: .long, help: "Use TLS (implied by --ca-file, --cert, --key and --server-name).")
    var tls = false

    @Option(name: .customLong("ca-file"), help: "CA bundle (PEM) to verify the server (default: system CAs).")
    var caFile: String?

    @Option(name: .long, help: "Client certificate (PEM) for mutual TLS.")
    var cert: String?

    @Option(name: .long, help: "Client private key (PEM) for mutual TLS.")
    var key: String?

    @Option(name: .customLong("server-name"), help: "Name expected in the server's certificate (default: the host).")
    var serverName: String?

    @Option(name: .long, help: "Deadline of each call in seconds.")
    var timeout: Double?

    @Option(name: .customLong("api-key"), help: "API key or token sent with every call (default: $RUVECTOR_API_KEY; prefer the variable: options show in ps).")
    var apiKey: String?

    @Flag(name: .long, help: "Print JSON instead of tables.")
    var json = false

    /// HOST and PORT from --server, $RUVECTOR_SERVER or the default. `[v6]:port` is accepted.
    func address() throws -> (host: String, port: Int) {
        let text = server ?? ProcessInfo.processInfo.environment["RUVECTOR_SERVER"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1:50051"
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else {
            throw CLIError.usage("the server address must be HOST:PORT with a port 1...65535, got '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw CLIError.usage("the server address '\(text)' has no host") }
        return (host, port)
    }

    /// Connects, runs `body`, closes; every failure becomes a message on stderr and an exit status.
    func run<T>(_ body: (RuVectorClient) async throws -> T) async throws -> T {
        do {
            let (host, port) = try address()
            if let timeout, !(timeout > 0 && timeout <= 86_400) { throw CLIError.usage("--timeout must be between 0 and 86400 seconds") }
            let useTLS = tls || caFile != nil || cert != nil || key != nil || serverName != nil
            let tlsOptions = useTLS ? RuVectorClient.TLSOptions(caFile: caFile, certificateFile: cert, privateKeyFile: key,
                                                                 serverName: serverName) : nil
            let client = try await RuVectorClient(host: host, port: port, tls: tlsOptions,
                                                  callTimeout: timeout.map { .milliseconds(Int64($0 * 1000)) }, apiKey: apiKey)
            do {
                let result = try await body(client)
                await client.close()
                return result
            } catch {
                await client.close()
                throw error
            }
        } catch {
            throw CLIError.exit(for: error)
        }
    }
}

/// What to change on the command line for a connection that failed for `code`.
private func connectionHint(_ code: ConnectionFailureCode) -> String? {
    switch code {
    case .serverSpeaksPlaintext: "the server does not use TLS: leave out --tls, --ca-file, --cert, --key and --server-name"
    case .serverExpectsTLS: "the server uses TLS: add --tls, and --ca-file FILE when its certificate is not signed by a system CA"
    case .certificateUntrusted: "pass the CA certificate that signed the server's certificate with --ca-file FILE"
    case .certificateNameMismatch: "pass a name the server's certificate lists with --server-name NAME"
    case .clientCertificateRequired: "pass a client certificate and its key with --cert FILE --key FILE"
    case .clientCertificateRejected: "pass a client certificate signed by a CA the server trusts with --cert and --key"
    case .noHTTP2OverTLS, .notHTTP2: "check --server: that port does not serve gRPC"
    default: nil
    }
}

/// A failure of the CLI itself (bad arguments or input), before or besides the server.
enum CLIError: Error, CustomStringConvertible {
    /// The command line is wrong.
    case usage(String)
    /// An input file or value is wrong.
    case data(String)

    var description: String {
        switch self {
        case .usage(let message), .data(let message): message
        }
    }

    /// Prints `error: ...` on stderr and returns the exit code to throw.
    static func exit(for error: any Error) -> ExitCode {
        let status: Int32
        let message: String
        switch error {
        case let error as ExitCode:
            return error
        case let error as CLIError:
            if case .usage = error { status = ExitStatus.usage } else { status = ExitStatus.dataError }
            message = error.description
        case let error as RuVectorClientError:
            switch error.code {
            case .unavailable: status = ExitStatus.unavailable
            case .invalidInput, .fileError: status = ExitStatus.dataError
            default: status = ExitStatus.serverError
            }
            let authHint = error.code == .unauthenticated
                ? "\nhint: the server needs credentials: set RUVECTOR_API_KEY (or pass --api-key) to a key or token it accepts" : ""
            message = (error.grpcStatus == nil ? error.message : "\(error.code): \(error.message)")
                + (error.connectionFailure.flatMap(connectionHint).map { "\nhint: \($0)" } ?? "") + authHint
        default:
            status = ExitStatus.serverError
            message = "\(error)"
        }
        Terminal.printError("error: \(message)")
        return ExitCode(status)
    }
}
