/// Identifies a point within a collection: an unsigned integer or a UUID string.
/// `7` and `"7"` are different ids. Integer and string literals build ids directly.
public enum PointID: Sendable, Hashable, CustomStringConvertible {
    /// A numeric id.
    case num(UInt64)
    /// A UUID in canonical text form (not accepted by the server yet: use numeric ids).
    case uuid(String)

    /// The number, or the UUID text.
    public var description: String {
        switch self {
        case .num(let n): String(n)
        case .uuid(let u): u
        }
    }
}

extension PointID: ExpressibleByIntegerLiteral {
    /// An integer literal is a numeric id.
    public init(integerLiteral value: UInt64) { self = .num(value) }
}

extension PointID: ExpressibleByStringLiteral {
    /// A string literal is a UUID id.
    public init(stringLiteral value: String) { self = .uuid(value) }
}

/// A point to store: an id, a vector of the collection's dimension, and a payload.
///
/// ```swift
/// let point = Point(id: 1, vector: [0.1, 0.9, 0.0], payload: ["lang": "swift"])
/// ```
public struct Point: Sendable, Hashable {
    /// The point's id.
    public var id: PointID
    /// Its vector.
    public var vector: [Float]
    /// Its payload (the server accepts at most 64 KiB encoded).
    public var payload: Payload

    /// Makes a point.
    public init(id: PointID, vector: [Float], payload: Payload = [:]) {
        self.id = id
        self.vector = vector
        self.payload = payload
    }
}

/// A stored point as read back by `get` or `scroll`; payload and vector are present when asked for.
public struct StoredPoint: Sendable, Hashable {
    /// The id.
    public var id: PointID
    /// The payload, when asked for.
    public var payload: Payload?
    /// The vector, when asked for.
    public var vector: [Float]?

    /// Makes a stored point.
    public init(id: PointID, payload: Payload? = nil, vector: [Float]? = nil) {
        self.id = id
        self.payload = payload
        self.vector = vector
    }
}

/// A search hit: a point and its score.
public struct Hit: Sendable, Hashable {
    /// The point's id.
    public var id: PointID
    /// Similarity, larger is better: cosine similarity for cosine, the dot product for dot,
    /// minus the distance for L2 (squared) and Manhattan.
    public var score: Float
    /// The payload, when asked for.
    public var payload: Payload?
    /// The vector, when asked for.
    public var vector: [Float]?

    /// Makes a hit.
    public init(id: PointID, score: Float, payload: Payload? = nil, vector: [Float]? = nil) {
        self.id = id
        self.score = score
        self.payload = payload
        self.vector = vector
    }
}

/// The outcome of a write (upsert, import or delete).
public struct UpdateResult: Sendable, Hashable {
    /// Write-ahead log sequence number of the write's last record.
    public var sequence: UInt64
    /// Points inserted, replaced or deleted.
    public var pointsAffected: UInt64
    /// True when the write is durable and searchable.
    public var applied: Bool
    /// On a cluster: replicas (besides the primary) that had the write when it was
    /// acknowledged, the fewest over the shards it touched (0 on a single server, and for
    /// `importStream`, whose result does not count them).
    public var replicasAcknowledged: Int

    /// Makes a result.
    public init(sequence: UInt64, pointsAffected: UInt64, applied: Bool, replicasAcknowledged: Int = 0) {
        self.sequence = sequence
        self.pointsAffected = pointsAffected
        self.applied = applied
        self.replicasAcknowledged = replicasAcknowledged
    }
}

/// How a write is acknowledged.
public enum WriteWait: Sendable, Hashable {
    /// The collection's default (durable unless configured otherwise).
    case collectionDefault
    /// Acknowledged once in the write-ahead log and searchable.
    case durable
    /// Acknowledged once in the write-ahead log (as durable as `durable`); indexed shortly
    /// after, in order, so a search right after may not see it (faster bulk loads). Deletes
    /// are always applied before they are acknowledged.
    case accepted
}
