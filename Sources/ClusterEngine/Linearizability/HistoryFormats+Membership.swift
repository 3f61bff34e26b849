/// Membership histories (`MembershipModel`): what the cluster soak test records while clients
/// create, delete and list collections (Tests/e2e/cluster/test_cluster_linearizable.py).
///
/// One operation per line, six fields separated by spaces or tabs:
///
///     CLIENT CALL RETURN OP KEY OUTPUT
///
/// - `CLIENT`: a non-negative integer naming who made the call.
/// - `CALL`, `RETURN`: non-negative integer times in one unit for the whole file (the soak
///   writes nanoseconds since it started), taken before the request left and after the answer
///   came back, so `RETURN >= CALL`. `RETURN` is `inf` exactly when `OUTPUT` is `unknown`.
/// - `OP`: `create`, `delete` or `read`.
/// - `KEY`: the name the operation is about (no spaces).
/// - `OUTPUT`: `created` or `already-exists` (create); `deleted` or `not-found` (delete);
///   `present` or `absent` (read); `unknown` (any: the outcome was never learned).
///
/// Blank lines, lines starting with `#` and whatever follows a `#` field after the sixth (a note:
/// the node called, the status received) are ignored. A read that listed several keys at
/// once is written as one `read` line per key with the same times: each key is checked on its
/// own, so the check does not ask that one answer was a snapshot across keys.
///
///     # client call return op key output
///     0 1000 2500 create c3 created
///     1 1200 inf delete c3 unknown # node 2 DEADLINE_EXCEEDED
///     2 2600 2900 read c3 present
extension HistoryFormats {
    /// Reads a membership history in the format above; `Malformed.line` names the first bad line.
    public static func membership(_ text: String) throws -> [HistoryOperation<MembershipModel.Input, MembershipModel.Output>] {
        try fieldLines(text, membershipOperation)
    }

    private static func membershipOperation(_ fields: [Substring]) throws -> HistoryOperation<MembershipModel.Input, MembershipModel.Output> {
        guard fields.count == 6 else {
            throw Malformed(description: "expected 6 fields (CLIENT CALL RETURN OP KEY OUTPUT), found \(fields.count)")
        }
        let (client, call, returned) = try clientAndTimes(fields)
        let kind: MembershipModel.Input.Kind
        switch fields[3] {
        case "create": kind = .create
        case "delete": kind = .delete
        case "read": kind = .read
        default: throw Malformed(description: "unknown operation \(fields[3]) (create, delete or read)")
        }
        let output = try membershipOutput(fields[5], for: kind)
        guard (output == .unknown) == (returned == Int.max) else {
            throw Malformed(description: "the return time is inf exactly when the output is unknown")
        }
        return HistoryOperation(client: client, call: call, returned: returned,
                                input: MembershipModel.Input(kind, key: String(fields[4])), output: output)
    }

    private static func membershipOutput(_ word: Substring, for kind: MembershipModel.Input.Kind) throws -> MembershipModel.Output {
        switch (kind, word) {
        case (_, "unknown"): return .unknown
        case (.create, "created"): return .created
        case (.create, "already-exists"): return .alreadyExists
        case (.delete, "deleted"): return .deleted
        case (.delete, "not-found"): return .notFound
        case (.read, "present"): return .read(exists: true)
        case (.read, "absent"): return .read(exists: false)
        default: throw Malformed(description: "\(word) is not an output of \(kind)")
        }
    }
}
