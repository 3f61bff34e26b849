// swift-tools-version:6.1
// RuVector for Swift: a vector database that learns, served over gRPC.
// Layers (see README and DESIGN): C wire libraries -> RPC -> Services -> server;
// engines (VectorEngine, GraphEngine, ClusterEngine, ...) sit beside RPC and never import it.
import PackageDescription

let internalChecks: [SwiftSetting] = [
    .define("RUVECTOR_INTERNAL_CHECKS", .when(configuration: .debug)),
]

let package = Package(
    name: "RuVector",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // MARK: C libraries from Debian -dev packages (each imported by one folder only)
        .systemLibrary(name: "CNghttp2", pkgConfig: "libnghttp2",
                       providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c",
                       providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        // MARK: Graph engine (property graph + Cypher)
        .target(name: "GraphEngine", swiftSettings: internalChecks),
        .testTarget(name: "GraphEngineTests", dependencies: ["GraphEngine"],
                    exclude: ["tck-expected-pass.txt"],
                    swiftSettings: internalChecks),
    ],
    swiftLanguageModes: [.v6]
)
