import ClusterEngine

/// `Storage` has a `Snapshot` of its own (a collection's files); in this target the word means
/// the Raft snapshot.
typealias Snapshot = ClusterEngine.Snapshot
