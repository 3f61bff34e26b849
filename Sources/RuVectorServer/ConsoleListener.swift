import Logging
import RPC
import Services

/// `--console-listen HOST:PORT`: the web console on a listener of its own, so the API port can
/// be exposed without it and the console kept, say, on loopback or an admin network. It is a
/// second `GRPCServer` over the same router, credential check, limits and metrics observer as
/// the main one: the page's gRPC-Web calls (and any gRPC call) there are the same calls, just
/// another door. The main port then serves no console (its `GET` is refused as with
/// `--no-console`).
enum ConsoleListener {
    /// The console's server: `main` with its address, the console's files and metrics page,
    /// and one event-loop thread (one operator's browser, not client traffic). Not started.
    static func server(host: String, port: Int, main: ServerConfiguration, router: RPCRouter, metrics: ServerMetrics,
                       logger: Logger) -> GRPCServer {
        var configuration = main
        configuration.host = host
        configuration.port = port
        configuration.eventLoopThreads = 1
        configuration.staticSite = .console
        ConsoleMetricsPage.add(to: &configuration.staticSite, metrics: metrics)
        return GRPCServer(configuration: configuration, router: router, logger: logger)
    }
}
