/// A storage failure: what went wrong, in words an operator can act on, with the C error
/// number when the disk said no.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure; extensible.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        /// A system call failed (`errno` is set).
        public static let io = Code(name: "io")
        /// Data on disk is damaged somewhere other than a torn tail.
        public static let corrupt = Code(name: "corrupt")
        /// The file was written by a newer RuVector; refusing to guess its layout.
        public static let newerFormat = Code(name: "newerFormat")
        /// A record or argument is outside the limits.
        public static let invalidArgument = Code(name: "invalidArgument")
        /// The log was closed.
        public static let closed = Code(name: "closed")
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened and what to do.
    public var message: String
    /// The C `errno`, for `.io`.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String {
        errno.map { "\(code): \(message) (errno \($0))" } ?? "\(code): \(message)"
    }
}
