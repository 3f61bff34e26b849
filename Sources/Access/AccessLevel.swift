/// How much a caller may do. Each level includes the ones below it: admin may write, write
/// may read.
public enum AccessLevel: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    /// Searches and reads of points, collections' descriptions, the graph's read-only queries.
    case read = 1
    /// Adds upserts, deletes, the graph's writing queries.
    case write = 2
    /// Adds collection create/delete, snapshots, cluster membership and settings.
    case admin = 3

    public static func < (lhs: AccessLevel, rhs: AccessLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `read`, `write` or `admin`, as written in tokens and the config file.
    public var description: String {
        switch self {
        case .read: "read"
        case .write: "write"
        case .admin: "admin"
        }
    }

    /// Reads `read`/`r`, `write`/`rw`, `admin`; nil for anything else.
    public init?(name: String) {
        switch name {
        case "read", "r": self = .read
        case "write", "rw": self = .write
        case "admin": self = .admin
        default: return nil
        }
    }
}
