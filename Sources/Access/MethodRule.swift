/// What a method requires of its caller. Every method the server serves has one
/// (`AccessRules`); a method without a rule is refused, so a new method cannot be open by
/// omission.
public enum MethodRule: Sendable, Equatable {
    /// Anyone, without credentials (health checks).
    case open
    /// A level on everything the method touches. With `perCollection`, a caller holding the
    /// level on single collections only may call it too, and the service checks each
    /// collection a request names (`CallAccess.check(_:)`).
    case requires(AccessLevel, perCollection: Bool)
    /// Cluster nodes only (replication and consensus traffic).
    case nodesOnly
}

/// The rules of a server's methods, by full path (`/package.Service/Method`).
public typealias AccessRules = [String: MethodRule]

/// What a call was granted and what its method asks: handed to services in
/// `ServerContext.grant`, so they can check the collections its requests name.
public struct CallAccess: Sendable {
    /// The caller's grant.
    public let grant: Grant
    /// The level the method requires of every collection a request names; nil when the
    /// method names none or the caller holds the level everywhere (nothing left to check).
    public let collectionLevel: AccessLevel?

    public init(grant: Grant, collectionLevel: AccessLevel?) {
        self.grant = grant
        self.collectionLevel = collectionLevel
    }

    /// Whether every collection in `collections` is open to the call; the error to end it
    /// with otherwise (PERMISSION_DENIED naming the first collection refused). Empty names
    /// pass: no collection has one, and a stream's later messages may leave the name to the
    /// first (which was checked).
    public func refusal(for collections: [String]) -> AccessDenial? {
        guard let level = collectionLevel else { return nil }
        for name in collections where !name.isEmpty && !grant.allows(level, collection: name) {
            return AccessDenial(.permissionDenied, "\(grant.principal) may not \(level) collection '\(name.prefix(256))'")
        }
        return nil
    }
}

/// Why a call is refused: UNAUTHENTICATED (no valid credentials) or PERMISSION_DENIED
/// (valid, but not enough), with a message that never contains a credential.
public struct AccessDenial: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case unauthenticated
        case permissionDenied
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
