import ArgumentParser
import RuVectorClient

// The option values are the enums' raw values (async, semi-sync, sync; primary, any):
// ArgumentParser lists them in --help and refuses others with exit status 64.
extension ReplicationMode: ExpressibleByArgument {}
extension ReadFrom: ExpressibleByArgument {}

/// `--consistency` and `--min-replicas` of the commands that write points (upsert, delete).
struct WriteReplicationOptions: ParsableArguments {
    @Option(name: .long, help: "On a cluster: how the write waits for replicas (default: the collection's write consistency).")
    var consistency: ReplicationMode?

    @Option(name: .customLong("min-replicas"),
            help: "On a cluster: replicas a semi-sync write waits for (default: the collection's min replicas).")
    var minReplicas: Int?

    func validate() throws {
        if let minReplicas, minReplicas < 0 { throw ValidationError("--min-replicas must not be negative") }
    }
}

/// `--read-from` of the commands that read points (get, count, search).
struct ReadFromOptions: ParsableArguments {
    @Option(name: .customLong("read-from"),
            help: "On a cluster: which copy of each shard answers: primary (default, sees every acknowledged write) or any.")
    var readFrom: ReadFrom?
}
