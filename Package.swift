// swift-tools-version:6.1
// RuVector for Swift: a vector database that learns, served over gRPC.
// Layers (see README and DESIGN): C wire libraries -> RPC -> Services -> server;
// engines (VectorEngine, GraphEngine, ClusterEngine, ...) sit beside RPC and never import it.
import PackageDescription

let internalChecks: [SwiftSetting] = [
    .define("RUVECTOR_INTERNAL_CHECKS", .when(configuration: .debug)),
]

// What the benchmarks and the crash harness parse their command lines with.
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let benchmarkArguments: [Target.Dependency] = ["BenchmarkArguments", argumentParser]

// Builds and is tested on Linux only (Debian 12, x86-64): Storage uses Linux calls (posix_fallocate,
// madvise, fdatasync, flock) and the C libraries come from Debian -dev packages.
// No Apple platform is declared because none builds today.
let package = Package(
    name: "RuVector",
    products: [
        .executable(name: "ruvector-server", targets: ["RuVectorServer"]),
        .executable(name: "ruvector-interop-client", targets: ["RuVectorInteropClient"]),
        .library(name: "RuVectorClient", targets: ["RuVectorClient"]),
        .executable(name: "ruvector", targets: ["RuVectorCLI"]),
        .executable(name: "ruvector-fuzz", targets: ["RuVectorFuzz"]),
    ],
    // Exact versions, so a server built later from the same commit is built from the same
    // sources (Package.resolved is not committed). swift-nio's own dependencies (swift-atomics,
    // swift-collections, swift-system) follow its ranges: today 1.3.0, 1.6.0 and 1.8.1.
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
    ],
    targets: [
        // MARK: C libraries from Debian -dev packages (each imported by one folder only)
        .systemLibrary(name: "CNghttp2", pkgConfig: "libnghttp2",
                       providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c",
                       providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        // gzip and deflate message compression (imported by Sources/RPC/Compression only).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // MARK: RPC: gRPC over HTTP/2 (nghttp2) and TLS (OpenSSL) on SwiftNIO
        .target(
            name: "RPC",
            dependencies: [
                "CNghttp2", "COpenSSL", "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: internalChecks
        ),
        .testTarget(
            name: "RPCTests",
            dependencies: ["RPC", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: internalChecks
        ),

        // MARK: Access: who a call is (API keys, JSON Web Tokens, client certificates, cluster
        // nodes) and what each method lets it do; the RPC server asks it before any handler runs.
        .target(name: "Access", dependencies: ["RPC"], swiftSettings: internalChecks),
        .testTarget(name: "AccessTests", dependencies: ["Access", "RPC"], swiftSettings: internalChecks),

        // MARK: Wire: protobuf-c generated C, and the Swift message types over it
        // (scripts/gen-proto.sh regenerates both; CI fails when they are stale)
        .target(name: "RuVectorProto", dependencies: ["CProtobufC"]),
        .target(name: "Wire", dependencies: ["RuVectorProto", "CProtobufC"], swiftSettings: internalChecks),
        .testTarget(name: "WireTests", dependencies: ["Wire", "SeededRandom"], swiftSettings: internalChecks),

        // MARK: Services and the server executable
        // glibc's malloc_trim and pthread_setname_np (GNU extensions Swift's Glibc hides), for Services/Support.
        .target(name: "CProcessShims"),
        .target(
            name: "Services",
            dependencies: ["RPC", "Access", "Wire", "VectorEngine", "VectorDatabase", "Storage", "Checksums", "GraphEngine", "GraphPersistence",
                           "WorkControl", "CProcessShims", "ClusterEngine", "ClusterNode", "LearnEngine", "RouteEngine",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio")],
            swiftSettings: internalChecks
        ),
        .testTarget(name: "ServicesTests", dependencies: ["Services", "RPC", "Access", "Wire", "WorkControl", "Storage", "Checksums", "LearnEngine", "ClusterEngine", "ClusterNode", "VectorDatabase", "VectorEngine", .product(name: "Logging", package: "swift-log")], swiftSettings: internalChecks),
        .executableTarget(
            name: "RuVectorServer",
            dependencies: [
                "RPC", "Access", "Services", "Storage", "VectorDatabase", "WorkControl", "ClusterNode",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: internalChecks
        ),
        // Search RPC latency vs in-server search time (driven by Benchmarks/SearchRPCBench/bench_search.py).
        .executableTarget(name: "search-rpc-bench", dependencies: ["RPC", "Wire"] + benchmarkArguments, path: "Benchmarks/SearchRPCBench",
                          exclude: ["bench_search.py", "peer_server.py", "loopback_floor.c"], swiftSettings: internalChecks),
        // The gRPC interop cases run by our Swift client (tested against a grpcio server).
        .executableTarget(
            name: "RuVectorInteropClient",
            dependencies: ["RPC", "Wire", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: internalChecks
        ),

        // MARK: WorkControl: memory budgets and cancellation that bound one call's work (engines poll them)
        .target(name: "WorkControl", swiftSettings: internalChecks),
        .testTarget(name: "WorkControlTests", dependencies: ["WorkControl"], swiftSettings: internalChecks),

        // MARK: Checksums: CRC-32C for Storage, the engines' model files and file transfers (client and server);
        // with the CPU's CRC-32C instruction (CChecksumKernels) when there is one. No I/O: the engines use it.
        .target(name: "CChecksumKernels"),
        .target(name: "Checksums", dependencies: ["CChecksumKernels"], swiftSettings: internalChecks),
        .testTarget(name: "ChecksumsTests", dependencies: ["Checksums"], swiftSettings: internalChecks),

        // MARK: SeededRandom: the seeded generator every engine draws its random choices from
        .target(name: "SeededRandom", swiftSettings: internalChecks),
        .testTarget(name: "SeededRandomTests", dependencies: ["SeededRandom"], swiftSettings: internalChecks),

        // MARK: VectorEngine (distances, HNSW, filters, brute-force oracle)
        .target(name: "CVectorKernels"),
        // The payload value type, shared by the engine and the Swift client.
        .target(name: "Payload", swiftSettings: internalChecks),
        .target(name: "VectorEngine", dependencies: ["CVectorKernels", "WorkControl", "Payload", "SeededRandom"], exclude: ["README.md"],
                swiftSettings: internalChecks),
        .testTarget(name: "VectorEngineTests", dependencies: ["VectorEngine"],
                    swiftSettings: internalChecks),
        // Option types the benchmarks share (comma-separated lists).
        .target(name: "BenchmarkArguments", dependencies: [argumentParser],
                path: "Benchmarks/BenchmarkArguments", swiftSettings: internalChecks),
        .executableTarget(name: "vector-bench", dependencies: ["VectorEngine"] + benchmarkArguments,
                          path: "Benchmarks/VectorBench", exclude: ["peer.py"],
                          swiftSettings: internalChecks),
        .executableTarget(name: "vector-build-scaling", dependencies: ["VectorEngine"] + benchmarkArguments,
                          path: "Benchmarks/BuildScaling", exclude: ["peer.py"],
                          swiftSettings: internalChecks),

        // MARK: Storage: write-ahead log, snapshots and recovery, atomic files, file mappings
        .target(name: "Storage", dependencies: ["Checksums"], swiftSettings: internalChecks),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Checksums"], swiftSettings: internalChecks),
        // Collections that persist: VectorEngine state through Storage's WAL and snapshots.
        .target(name: "VectorDatabase", dependencies: ["VectorEngine", "Storage", "WorkControl"], swiftSettings: internalChecks),
        .testTarget(name: "VectorDatabaseTests", dependencies: ["VectorDatabase", "Checksums"], swiftSettings: internalChecks),
        // Appends until killed; the crash test in StorageTests kills it with SIGKILL.
        .executableTarget(name: "ruvector-storage-crash-harness", dependencies: ["Storage", "VectorDatabase", "VectorEngine", argumentParser],
                          path: "Sources/StorageCrashHarness", swiftSettings: internalChecks),
        .executableTarget(name: "storage-bench", dependencies: ["Storage", "Checksums", "VectorDatabase", "VectorEngine", "GraphPersistence"] + benchmarkArguments,
                          path: "Benchmarks/StorageBench",
                          swiftSettings: internalChecks),

        // MARK: Graph engine (property graph + Cypher)
        .target(name: "GraphEngine", dependencies: ["VectorEngine", "WorkControl"], swiftSettings: internalChecks),
        .testTarget(name: "GraphEngineTests", dependencies: ["GraphEngine", "VectorEngine", "WorkControl"],
                    exclude: ["tck-expected-pass.txt", "Scenarios"],
                    swiftSettings: internalChecks),
        // Cypher lookups, traversals, paths, aggregations and hybrid search vs SQLite, Kuzu and DuckDB (Python peers
        // sharing graph_peer.py), same graph, same run, every answer compared.
        .executableTarget(name: "graph-bench", dependencies: ["GraphEngine", "VectorEngine"] + benchmarkArguments, path: "Benchmarks/GraphBench",
                          exclude: ["graph_peer.py", "sqlite_peer.py", "kuzu_peer.py", "duckdb_peer.py", "tests"], swiftSettings: internalChecks),
        // MARK: LearnEngine (tensors, layers with backward, losses, Adam/SGD, schedules, replay, EWC,
        // the GNN re-ranker over HNSW neighbours, ranking metrics): pure, no I/O. Optimised in debug
        // builds too: the gradient checks and the learning tests train real models in the test suite.
        // Its matrix products (AVX-512F / AVX2+FMA / portable C, chosen by CPU feature at run time),
        // optimised in debug builds too.
        .target(name: "CLearnKernels", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),
        .target(name: "LearnEngine", dependencies: ["CLearnKernels", "SeededRandom", "Checksums"], exclude: ["README.md"],
                swiftSettings: internalChecks + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Optimised too: its training tests generate their data and train for seconds in release,
        // minutes unoptimised.
        .testTarget(name: "LearnEngineTests", dependencies: ["LearnEngine"], exclude: ["Golden"],
                    swiftSettings: internalChecks + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Re-ranking cost (100 candidates, d=384, hidden 128, M=8) and training examples per second.
        .executableTarget(name: "learn-bench", dependencies: ["LearnEngine", argumentParser], path: "Benchmarks/LearnEngineBench",
                          swiftSettings: internalChecks),
        // MARK: RouteEngine (Tiny Dancer: FastGRNN with BPTT, three-stage sparsity and int8, distillation,
        // split conformal prediction, circuit breakers, routing decisions, semantic routes): pure, no I/O.
        // Optimised in debug builds too: its tests train small models.
        .target(name: "RouteEngine", dependencies: ["LearnEngine", "Checksums"], exclude: ["README.md"],
                swiftSettings: internalChecks + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .testTarget(name: "RouteEngineTests", dependencies: ["RouteEngine", "LearnEngine", "Checksums"], exclude: ["Golden"],
                    swiftSettings: internalChecks + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // FastGRNN on load_digits beside a PyTorch GRU (digits_peer.py drives both), routing-decision latency,
        // and cost saved / APGR on a simulated routing workload.
        .executableTarget(name: "route-bench", dependencies: ["RouteEngine", "LearnEngine"] + benchmarkArguments, path: "Benchmarks/RouteBench",
                          exclude: ["digits_peer.py"], swiftSettings: internalChecks),
        // MARK: ClusterEngine (Raft consensus, linearizability checker, shard placement): pure, no I/O
        // Optimized even in debug builds: the linearizability checker's search and the Raft
        // simulator run millions of steps in the test suite.
        .target(name: "ClusterEngine", dependencies: ["SeededRandom"],
                swiftSettings: internalChecks + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .testTarget(name: "ClusterEngineTests", dependencies: ["ClusterEngine", "SeededRandom"], exclude: ["testdata"],
                    swiftSettings: internalChecks),
        // Checks a recorded membership history (the cluster soak test's) with the linearizability checker.
        .executableTarget(name: "ruvector-lincheck", dependencies: ["ClusterEngine", argumentParser], path: "Sources/LinearizabilityCheck",
                          swiftSettings: internalChecks),
        // The cluster adapter: a RaftNode driven over our gRPC (transport, timers, WAL-backed Raft
        // storage) with the cluster's metadata as its state machine.
        .target(name: "ClusterNode",
                dependencies: ["ClusterEngine", "Storage", "RPC", "Wire",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: internalChecks),
        .testTarget(name: "ClusterNodeTests", dependencies: ["ClusterNode", "ClusterEngine", "Storage", "Wire",
                                                          .product(name: "NIOCore", package: "swift-nio"),
                                                          .product(name: "NIOPosix", package: "swift-nio")],
                    swiftSettings: internalChecks),
        .executableTarget(name: "raft-bench", dependencies: ["ClusterEngine", "CAllocationCounter"] + benchmarkArguments, path: "Benchmarks/RaftBench",
                          exclude: ["CAllocationCounter"], swiftSettings: internalChecks),
        // Counts mallocs in raft-bench (replaces malloc in that executable only).
        .target(name: "CAllocationCounter", path: "Benchmarks/RaftBench/CAllocationCounter"),

        // The graph made durable (WAL of change sets + snapshots) with isolation levels.
        .target(name: "GraphPersistence", dependencies: ["GraphEngine", "Storage", "VectorEngine", "WorkControl"],
                swiftSettings: internalChecks),
        .testTarget(name: "GraphPersistenceTests", dependencies: ["GraphPersistence"], swiftSettings: internalChecks),

        // MARK: Clients (Swift client library and the ruvector CLI)
        .target(name: "RuVectorClient", dependencies: ["RPC", "Wire", "Payload", "Checksums"], path: "clients/swift/Sources/RuVectorClient",
                swiftSettings: internalChecks),
        .executableTarget(
            name: "RuVectorCLI",
            dependencies: ["RuVectorClient", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: internalChecks
        ),
        // Starts the real ruvector-server (built next to the test bundle) and calls it.
        .testTarget(name: "RuVectorClientTests", dependencies: ["RuVectorClient"],
                    path: "clients/swift/Tests/RuVectorClientTests", swiftSettings: internalChecks),

        // MARK: Fuzzing: seeded mutation of every decoder that reads hostile bytes (docs/fuzzing.md)
        .executableTarget(
            name: "RuVectorFuzz",
            dependencies: ["RPC", "Access", "Wire", "Services", "Storage", "Checksums", "VectorEngine", "VectorDatabase", "GraphEngine",
                           "GraphPersistence", "RuVectorClient", "WorkControl", "ClusterEngine", "ClusterNode",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: internalChecks
        ),
    ],
    swiftLanguageModes: [.v6]
)
