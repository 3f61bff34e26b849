#if canImport(Glibc)
import Glibc
#endif

/// A storage failure: what went wrong, in words an operator can act on, with the C error
/// number when the disk said no. `message` never holds a path (it may reach a client);
/// the file concerned is in `path`, which `description` (for the server's log) shows.
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
        /// What was asked for (a snapshot by name) does not exist: the caller's mistake, not
        /// the disk's.
        public static let notFound = Code(name: "notFound")
        /// The directory is locked by another process or another open in this one.
        public static let locked = Code(name: "locked")
        /// The log records asked for were released (a snapshot covers them): the reader must
        /// take a snapshot instead.
        public static let notRetained = Code(name: "notRetained")
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened and what to do; names files by their last path component only, never
    /// by a path (safe to show a client).
    public var message: String
    /// The file or directory concerned, for the server's log.
    public var path: String?
    /// The C `errno`, for `.io`.
    public var errno: Int32?

    /// A failure; `path` goes to logs only (see `description`), never into `message`.
    public init(_ code: Code, _ message: String, path: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
    }

    /// For the server's log: the message, the path and the system's reason.
    public var description: String {
        var text = "\(code): \(message)"
        if let path { text += " [\(path)]" }
        if let errno { text += " (errno \(errno): \(Self.reason(errno)))" }
        return text
    }

    /// For a client: the message and the system's reason, without the path.
    public var clientMessage: String {
        errno.map { "\(message) (\(Self.reason($0)))" } ?? message
    }

    /// The same error, its message preceded by what was being done ("snapshot of collection
    /// 'docs'"), so a client learns which of its objects failed.
    public func during(_ what: String) -> StorageError {
        var error = self
        error.message = "\(what): \(message)"
        return error
    }

    /// The system's words for `errno` ("Permission denied").
    static func reason(_ code: Int32) -> String {
        strerror(code).map { String(cString: $0) } ?? "errno \(code)"
    }

    /// The last component of `path` (a file's name without its directories), for messages.
    public static func fileName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
