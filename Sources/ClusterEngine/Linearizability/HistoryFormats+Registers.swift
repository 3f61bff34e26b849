/// Register histories (`KeyValueModel`, its gets and puts): what the shard soak test records
/// while clients write a point's payload value and read it back
/// (Tests/e2e/cluster/test_shard_linearizable.py). Each key is one register; check it
/// partitioned by key.
///
/// One operation per line, six fields separated by spaces or tabs:
///
///     CLIENT CALL RETURN OP KEY VALUE
///
/// - `CLIENT`, `CALL`, `RETURN`: as in membership histories (`HistoryFormats.membership`):
///   integer times in one unit for the whole file, `RETURN >= CALL`. `RETURN` is `inf` exactly
///   for a write whose outcome was never learned: it may take effect at any time after its call,
///   or never. A read that got no answer proves nothing and is left out of the history.
/// - `OP`: `write` or `read`.
/// - `KEY`: the register (no spaces).
/// - `VALUE`: the value written, or the value read; a read that found nothing reads `absent`
///   (the register's initial state), which no write may write.
///
/// Blank lines, lines starting with `#` and whatever follows a `#` field after the sixth (a
/// note) are ignored.
///
///     # client call return op key value
///     0 1000 2500 write p7 41
///     1 1200 inf write p7 42 # node 2 DEADLINE_EXCEEDED
///     2 2600 2900 read p7 41
///     2 3000 3100 read p9 absent
extension HistoryFormats {
    /// Reads a register history in the format above; `Malformed.line` names the first bad line.
    public static func registers(_ text: String) throws -> [HistoryOperation<KeyValueModel.Input, KeyValueModel.Output>] {
        try fieldLines(text, registerOperation)
    }

    /// The value a register history writes for a read that found nothing.
    static let absentValue = "absent"

    private static func registerOperation(_ fields: [Substring]) throws -> HistoryOperation<KeyValueModel.Input, KeyValueModel.Output> {
        guard fields.count == 6 else {
            throw Malformed(description: "expected 6 fields (CLIENT CALL RETURN OP KEY VALUE), found \(fields.count)")
        }
        let (client, call, returned) = try clientAndTimes(fields)
        let key = String(fields[4]), value = String(fields[5])
        switch fields[3] {
        case "write":
            guard value != absentValue else { throw Malformed(description: "a write cannot write \(absentValue) (a read's word for nothing)") }
            return HistoryOperation(client: client, call: call, returned: returned, input: KeyValueModel.Input(.put, key: key, value: value),
                                    output: "")
        case "read":
            guard returned != Int.max else { throw Malformed(description: "a read without an answer proves nothing: leave it out") }
            return HistoryOperation(client: client, call: call, returned: returned, input: KeyValueModel.Input(.get, key: key),
                                    output: value == absentValue ? KeyValueModel.initialState : value)
        default:
            throw Malformed(description: "unknown operation \(fields[3]) (write or read)")
        }
    }
}
