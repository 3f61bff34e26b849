/// Readers for recorded histories: Jepsen's etcd register logs and Porcupine's key-value
/// format, where each event line becomes a point in time and an operation spans from its
/// `:invoke` line to its completion line; and the cluster soak tests' own formats of one
/// operation per line with its call and return times (`membership`, `registers`).
public enum HistoryFormats {
    /// A history that cannot be read.
    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
        /// The 1-based line at fault, when the format has lines to point at.
        public var line: Int? = nil
    }

    /// Reads a file of one operation per line (`membership`, `registers`): splits each line into
    /// fields (spaces or tabs), skips blank lines and `#` comments, drops a trailing `# note`,
    /// and names the line of the first field list `parse` refuses.
    static func fieldLines<Operation>(_ text: String, _ parse: ([Substring]) throws -> Operation) throws -> [Operation] {
        var operations: [Operation] = []
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            if let note = fields.firstIndex(where: { $0.hasPrefix("#") }) { fields.removeSubrange(note...) }
            do {
                operations.append(try parse(fields))
            } catch let failure as Malformed {
                throw Malformed(description: "line \(offset + 1): \(failure.description)", line: offset + 1)
            }
        }
        return operations
    }

    /// The first three fields of a line: client, call time and return time (`inf`: Int.max).
    static func clientAndTimes(_ fields: [Substring]) throws -> (client: Int, call: Int, returned: Int) {
        guard let client = Int(fields[0]), client >= 0 else { throw Malformed(description: "bad client \(fields[0])") }
        guard let call = Int(fields[1]), call >= 0, call < Int.max else { throw Malformed(description: "bad call time \(fields[1])") }
        if fields[2] == "inf" { return (client, call, Int.max) }
        guard let time = Int(fields[2]), time >= call, time < Int.max else {
            throw Malformed(description: "bad return time \(fields[2]) (a non-negative integer not before the call, or inf)")
        }
        return (client, call, time)
    }

    /// Jepsen etcd logs: `INFO  jepsen.util - PROCESS\t:invoke|:ok|:fail|:info\t:read|:write|:cas\tVALUE`.
    /// `:fail` means the operation definitely did not take effect (a failed compare-and-set
    /// reports that the compare failed); `:info` means unknown: it may take effect at any
    /// time after its call, so it returns at infinity.
    public static func jepsenRegister(_ text: String) throws -> [HistoryOperation<RegisterModel.Input, RegisterModel.Output>] {
        var pending: [Int: (call: Int, input: RegisterModel.Input)] = [:]
        var operations: [HistoryOperation<RegisterModel.Input, RegisterModel.Output>] = []
        var time = 0
        for line in text.split(separator: "\n") {
            guard let marker = line.firstRange(of: "jepsen.util - ") else { continue }
            let fields = line[marker.upperBound...].split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 4, let process = Int(fields[0]) else { throw Malformed(description: "bad line: \(line)") }
            let (type, function, value) = (fields[1], fields[2], trimmed(fields[3], " "))
            time += 1
            if type == ":invoke" {
                let input: RegisterModel.Input
                switch function {
                case ":read": input = .read
                case ":write":
                    guard let v = Int(value) else { throw Malformed(description: "bad write value: \(line)") }
                    input = .write(v)
                case ":cas":
                    let numbers = trimmed(value, "[]").split(separator: " ").compactMap { Int($0) }
                    guard numbers.count == 2 else { throw Malformed(description: "bad cas value: \(line)") }
                    input = .compareAndSet(expected: numbers[0], new: numbers[1])
                default: throw Malformed(description: "unknown operation: \(line)")
                }
                pending[process] = (time, input)
                continue
            }
            guard let (call, input) = pending.removeValue(forKey: process) else {
                throw Malformed(description: "completion without invocation: \(line)")
            }
            switch (type, input) {
            case (":ok", .read): operations.append(.init(client: process, call: call, returned: time, input: input,
                                                         output: .read(value == "nil" ? nil : Int(value))))
            case (":ok", .write): operations.append(.init(client: process, call: call, returned: time, input: input, output: .written))
            case (":ok", .compareAndSet): operations.append(.init(client: process, call: call, returned: time, input: input,
                                                                  output: .compareAndSet(succeeded: true)))
            case (":fail", .compareAndSet): operations.append(.init(client: process, call: call, returned: time, input: input,
                                                                    output: .compareAndSet(succeeded: false)))
            case (":fail", _): break      // did not happen
            case (":info", _): operations.append(.init(client: process, call: call, returned: Int.max, input: input, output: .unknown))
            default: throw Malformed(description: "unknown completion: \(line)")
            }
        }
        // Invocations never completed: unknown outcome.
        for (process, (call, input)) in pending {
            operations.append(.init(client: process, call: call, returned: Int.max, input: input, output: .unknown))
        }
        return operations
    }

    private static func trimmed(_ text: Substring, _ characters: String) -> Substring {
        var result = text
        while let first = result.first, characters.contains(first) { result = result.dropFirst() }
        while let last = result.last, characters.contains(last) { result = result.dropLast() }
        return result
    }

    /// Porcupine kv histories: `{:process 0, :type :invoke, :f :append, :key "4", :value "x 0 3 y"}`.
    public static func keyValue(_ text: String) throws -> [HistoryOperation<KeyValueModel.Input, KeyValueModel.Output>] {
        var pending: [Int: (call: Int, input: KeyValueModel.Input)] = [:]
        var operations: [HistoryOperation<KeyValueModel.Input, KeyValueModel.Output>] = []
        var time = 0
        for line in text.split(separator: "\n") where line.hasPrefix("{") {
            func field(_ name: String) -> Substring? {
                guard let start = line.firstRange(of: ":\(name) ") else { return nil }
                let rest = line[start.upperBound...]
                if rest.hasPrefix("\"") {
                    let body = rest.dropFirst()
                    return body.firstIndex(of: "\"").map { body[..<$0] }
                }
                let end = rest.firstIndex(where: { $0 == "," || $0 == "}" }) ?? rest.endIndex
                return rest[..<end]
            }
            guard let processText = field("process"), let process = Int(processText), let type = field("type"),
                  let function = field("f"), let key = field("key") else { throw Malformed(description: "bad line: \(line)") }
            let value = field("value").map(String.init) ?? ""
            time += 1
            if type == ":invoke" {
                let kind: KeyValueModel.Input.Kind
                switch function {
                case ":get": kind = .get
                case ":put": kind = .put
                case ":append": kind = .append
                default: throw Malformed(description: "unknown operation: \(line)")
                }
                pending[process] = (time, KeyValueModel.Input(kind, key: String(key), value: value == "nil" ? "" : value))
                continue
            }
            guard let (call, input) = pending.removeValue(forKey: process) else {
                throw Malformed(description: "completion without invocation: \(line)")
            }
            guard type == ":ok" else { throw Malformed(description: "unsupported completion \(type): \(line)") }
            operations.append(.init(client: process, call: call, returned: time, input: input, output: value == "nil" ? "" : value))
        }
        for (process, (call, input)) in pending where input.kind != .get {
            operations.append(.init(client: process, call: call, returned: Int.max, input: input, output: ""))
        }
        return operations
    }
}
