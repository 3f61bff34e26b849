import Logging
import NIOCore

/// The server's per-connection handler, for hosting on a channel the caller owns (an
/// embedded channel fed bytes with no socket: the `ruvector-fuzz http2` target). The handler
/// is the one `GRPCServer` installs on every accepted connection: nghttp2 session, gRPC
/// framing, calls routed to `router`. Its event loop must be thread-safe (handlers that run
/// on Swift's concurrent pool hop back onto it), e.g. `NIOAsyncTestingEventLoop`.
@_spi(Fuzzing)
public enum EmbeddedServerConnection {
    /// A new connection handler; add it to a channel's pipeline, then write the client's
    /// bytes inbound and read the server's answer outbound.
    public static func makeHandler(router: RPCRouter, configuration: ServerConfiguration,
                                   logger: Logger) -> any ChannelHandler {
        ServerConnectionHandler(router: router, configuration: configuration, logger: logger, sweeper: nil, onClose: {})
    }
}
