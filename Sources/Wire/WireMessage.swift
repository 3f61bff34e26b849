/// A protobuf message with a Swift value type, encoded and decoded through protobuf-c.
/// Every message of the served `.proto` files conforms (generated code in `Generated/`).
///
/// ```swift
/// let request = try GrpcHealthV1.HealthCheckRequest(decoding: bytes)
/// let reply = GrpcHealthV1.HealthCheckResponse(status: .serving).encoded()
/// ```
public protocol WireMessage: Sendable, Equatable {
    /// A message with every field at its default.
    init()
    /// Decodes protobuf bytes from a peer. Hostile input is expected: nesting depth is
    /// bounded and strings must be valid UTF-8 without U+0000.
    init(decoding bytes: [UInt8]) throws(WireError)
    /// The message's protobuf encoding.
    func encoded() -> [UInt8]
    /// The fully qualified proto name, e.g. `grpc.health.v1.HealthCheckRequest`.
    static var protoFullName: String { get }
}

/// Why bytes could not be decoded as a message.
public struct WireError: Error, Sendable, CustomStringConvertible {
    /// The kind of problem; extensible.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        /// Not a protobuf encoding of the message (truncated, bad tag, wrong wire type...).
        public static let malformed = Code(name: "malformed")
        /// A string field holds U+0000, which protobuf-c's NUL-terminated strings would cut.
        public static let stringContainsNUL = Code(name: "stringContainsNUL")
        /// A string field is not valid UTF-8.
        public static let invalidUTF8 = Code(name: "invalidUTF8")
        /// Sub-messages nest deeper than `WireValidator.maxDepth`.
        public static let tooDeep = Code(name: "tooDeep")
        public var description: String { name }
    }

    /// The kind of problem.
    public let code: Code
    /// What is wrong, naming the message and field.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// Holds a sub-message so a message type may contain itself (a Swift value type cannot
/// store itself directly). Immutable; compared by value.
final class WireBox<Value: WireMessage>: Sendable, Equatable {
    let value: Value
    init(_ value: Value) { self.value = value }
    static func == (lhs: WireBox, rhs: WireBox) -> Bool { lhs.value == rhs.value }
}
