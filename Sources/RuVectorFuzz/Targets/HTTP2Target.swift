import Dispatch
import Logging
import NIOCore
import NIOEmbedded
@_spi(Fuzzing) import RPC
import Services
import VectorEngine

/// Raw client bytes into the server's connection handler (nghttp2 session, gRPC framing,
/// calls routed to the real services: health, reflection, VectorService and GraphService on
/// a scratch data directory, the interop TestService) on an embedded channel: no socket.
/// Each input is one connection: its frames are written one read at a time, handlers that
/// run on Swift's pool get a few turns of the loop to answer, deadlines are made to expire,
/// then the connection closes (cancelling whatever still runs).
final class HTTP2Target: FuzzTarget {
    static let name = "http2"
    let maxInputBytes = 512 << 10
    private let workDirectory: String
    private let loop = NIOAsyncTestingEventLoop()
    private let logger = Logger(label: "ruvector-fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
    private let configuration: ServerConfiguration
    private var services: ServiceCatalog
    private var generation = 0
    private var runsSinceReset = 0
    private let byteMutator: ByteMutator
    /// Inputs per data directory: collections and graph nodes the conversations create pile up otherwise.
    static let runsPerDataDirectory = 2000

    init(workDirectory: String) throws {
        self.workDirectory = workDirectory
        var configuration = ServerConfiguration(maxReceiveMessageBytes: 1 << 20, maxSendMessageBytes: 4 << 20,
                                                maxConcurrentStreams: 64, maxHeaderListBytes: 16 << 10)
        configuration.eventLoopThreads = 1
        self.configuration = configuration
        byteMutator = ByteMutator(maxBytes: 512 << 10, dictionary: [])
        services = try Self.makeServices(in: workDirectory + "/data-0", logger: logger)
    }

    private static func makeServices(in directory: String, logger: Logger) throws -> ServiceCatalog {
        for collection in try Fixtures.catalog(in: directory).list() { try collection.close() }
        var limits = VectorServiceLimits()
        limits.maxDimension = 1024
        limits.maxSnapshotUploadBytes = 1 << 20
        let services = try ServiceCatalog(options: .init(dataDirectory: directory, enableInteropTestService: true,
                                                         vectorLimits: limits, collectionOptions: Fixtures.options),
                                          logger: logger)
        services.markServing()
        return services
    }

    func seedCorpus() throws -> [[UInt8]] { HTTP2Conversations.seeds() }

    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) -> Bool {
        HTTP2Conversations.mutate(&input, random: &random, byteMutator: byteMutator, corpus: corpus)
    }

    func run(_ input: [UInt8]) throws -> FuzzOutcome {
        try play(reads: HTTP2Conversations.reads(input))
    }

    /// Plays one connection made of `reads` (each written as one socket read) against the
    /// services; the `http1` target plays its HTTP/1.1 conversations through this too.
    func play(reads: [[UInt8]]) throws -> FuzzOutcome {
        runsSinceReset += 1
        if runsSinceReset > Self.runsPerDataDirectory {
            services.close()
            FuzzFiles.removeTree(workDirectory + "/data-\(generation)")
            generation += 1
            services = try Self.makeServices(in: workDirectory + "/data-\(generation)", logger: logger)
            runsSinceReset = 0
        }
        let setup = ConversationSetup(router: services.router, configuration: configuration, logger: logger, loop: loop)
        // A conversation the server kept open (no protocol error) is worth mutating further.
        return Self.play(reads, setup) ? .accepted : .rejected
    }

    /// Plays a conversation on the concurrent pool and waits for it.
    private static func play(_ reads: [[UInt8]], _ setup: ConversationSetup) -> Bool {
        let done = DispatchSemaphore(value: 0)
        let result = ConversationResult()
        Task.detached {
            result.record(await converse(reads, setup))
            done.signal()
        }
        done.wait()
        return result.stillOpen
    }

    /// Plays one connection; returns whether it was still open at the end.
    private static func converse(_ reads: [[UInt8]], _ setup: ConversationSetup) async -> Bool {
        let (router, configuration, logger, loop) = (setup.router, setup.configuration, setup.logger, setup.loop)
        var output: [UInt8] = []
        defer { if verbose { Console.print(summary(output)) } }
        // Tasks of the previous connection that finished late hop onto the loop; run them first.
        await loop.run()
        let channel: NIOAsyncTestingChannel
        do {
            channel = try await NIOAsyncTestingChannel(loop: loop) { channel in
                try channel.pipeline.syncOperations.addHandler(
                    EmbeddedServerConnection.makeHandler(router: router, configuration: configuration, logger: logger))
            }
            // Active, as an accepted connection is (the address is never dialled).
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 50051))
        } catch {
            return false
        }
        for read in reads {
            guard channel.isActive else { break }
            do { try await channel.writeInbound(channel.allocator.buffer(bytes: read)) } catch { break }
            await drain(channel, into: &output)
        }
        // Handlers on the pool answer through the loop: give them a few turns.
        for _ in 0..<8 {
            try? await Task.sleep(for: .microseconds(100))
            await loop.run()
            await drain(channel, into: &output)
        }
        await loop.advanceTime(by: .hours(24))
        await drain(channel, into: &output)
        let open = channel.isActive
        try? await channel.close()
        await loop.run()
        await drain(channel, into: &output)
        return open
    }

    /// Reads what the server wrote; keeps it only when `RUVECTOR_FUZZ_VERBOSE` asks for a summary.
    private static func drain(_ channel: NIOAsyncTestingChannel, into output: inout [UInt8]) async {
        while let buffer = (try? await channel.readOutbound(as: ByteBuffer.self)) ?? nil {
            if verbose { output += Array(buffer.readableBytesView) }
        }
    }

    private static let verbose = Environment.value("RUVECTOR_FUZZ_VERBOSE") != nil

    /// The server's frames, one line (with `RUVECTOR_FUZZ_VERBOSE`, e.g. to check a replayed input).
    private static func summary(_ output: [UInt8]) -> String {
        let names = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"]
        let frames = HTTP2Frame.parse(output).frames.map { frame in
            "\(Int(frame.type) < names.count ? names[Int(frame.type)] : "type\(frame.type)")(\(frame.streamID), \(frame.payload.count) B)"
        }
        return "server wrote \(output.count) bytes: " + frames.joined(separator: " ")
    }

    func finish() {
        services.close()
    }
}

/// What a conversation needs, handed to its task.
private struct ConversationSetup: Sendable {
    let router: RPCRouter
    let configuration: ServerConfiguration
    let logger: Logger
    let loop: NIOAsyncTestingEventLoop
}

/// Written by the conversation task, read after it signalled.
private final class ConversationResult: @unchecked Sendable {
    private(set) var stillOpen = false
    func record(_ open: Bool) { stillOpen = open }
}
