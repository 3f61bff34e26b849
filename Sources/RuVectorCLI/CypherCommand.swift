import ArgumentParser
import Foundation
import RuVectorClient

/// `ruvector cypher`: runs Cypher on the GraphService, one query from the command line or,
/// without one, statements from standard input ended by `;` (a prompt when it is a terminal).
struct CypherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cypher", abstract: "Run Cypher queries (GraphService).",
        discussion: "Without QUERY, reads statements ended by ';' from standard input (interactive on a terminal).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The query; omit to read statements from standard input.") var query: String?
    @Option(name: .long, help: "A parameter as NAME=JSON, e.g. --param 'name=\"Ann\"' (repeatable). A temporal value goes as its text, read in the query by its function: --param 'd=\"2024-01-02\"' with date($d).") var param: [String] = []
    @Option(name: .customLong("max-rows"), help: "Stop after this many rows (0: the server's limit).") var maxRows = 0

    func run() async throws {
        var parameters: Payload = [:]
        for item in param {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw CLIError.exit(for: CLIError.usage("--param takes NAME=JSON, got '\(item)'"))
            }
            do {
                parameters[String(item[..<equals])] = try PayloadValue(json: String(item[item.index(after: equals)...]))
            } catch {
                throw CLIError.exit(for: CLIError.usage("--param \(item[..<equals]): \(error)"))
            }
        }
        guard maxRows >= 0 else { throw CLIError.exit(for: CLIError.usage("--max-rows must be 0 or more")) }
        if let query {
            let result = try await connection.run { db in try await db.cypher(query, parameters: parameters, maxRows: maxRows) }
            show(result)
            return
        }
        let interactive = isatty(STDIN_FILENO) != 0
        var failures = 0
        try await connection.run { db in
            var statement = ""
            while true {
                if interactive { Terminal.prompt(statement.isEmpty ? "cypher> " : "   ...> ") }
                guard let line = readLine() else { break }
                statement += (statement.isEmpty ? "" : "\n") + line
                guard statement.trimmingCharacters(in: .whitespaces).hasSuffix(";") else { continue }
                let text = String(statement.trimmingCharacters(in: .whitespacesAndNewlines).dropLast())
                statement = ""
                if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { continue }
                do {
                    show(try await db.cypher(text, parameters: parameters, maxRows: maxRows))
                } catch let error as RuVectorClientError where error.code != .unavailable {
                    Terminal.printError("error: \(error.grpcStatus == nil ? error.message : "\(error.code): \(error.message)")")
                    failures += 1
                }
            }
            if !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                show(try await db.cypher(statement, parameters: parameters, maxRows: maxRows))
            }
        }
        if failures > 0 && !interactive { throw ExitCode(ExitStatus.serverError) }
    }

    private func show(_ result: CypherResult) {
        if connection.json {
            Terminal.printJSON(.object([
                "columns": .list(result.columns.map(PayloadValue.string)),
                "rows": .list(result.rows.map { .list($0.map(Self.json)) }),
                "summary": .object(result.summary.mapValues { .int(Int64(clamping: $0)) }),
                "plan": result.plan.map { plan in .object([
                    "mode": .string(plan.mode), "planned": .bool(plan.planned), "reason": .string(plan.reason),
                    "cached": .bool(plan.cached),
                    "operators": .list(plan.operators.map { op in .object([
                        "name": .string(op.name), "details": .string(op.details),
                        "rows": .int(Int64(clamping: op.rows)), "time_nanos": .int(Int64(clamping: op.timeNanos)),
                    ]) }),
                ]) } ?? .null,
            ]))
            return
        }
        if let plan = result.plan { print(plan.table) }
        Terminal.printTable(result.columns, result.rows.map { $0.map { Self.json($0).jsonText } })
        let s = result.summary
        let changes = ["nodes_created", "nodes_deleted", "relationships_created", "relationships_deleted", "properties_set",
                       "labels_added", "labels_removed"].compactMap { key in s[key].flatMap { $0 > 0 ? "\(key.replacingOccurrences(of: "_", with: " ")): \($0)" : nil } }
        print("(\(result.rows.count) row\(result.rows.count == 1 ? "" : "s")\(changes.isEmpty ? "" : "; " + changes.joined(separator: ", ")))")
    }

    /// A result value as JSON: nodes and relationships become objects.
    static func json(_ value: GraphValue) -> PayloadValue {
        switch value {
        case .value(let v): v
        case .node(let n): .object(["id": .int(Int64(clamping: n.id)), "labels": .list(n.labels.map(PayloadValue.string)),
                                    "properties": .object(n.properties)])
        case .relationship(let r): .object(["id": .int(Int64(clamping: r.id)), "type": .string(r.type),
                                            "start": .int(Int64(clamping: r.start)), "end": .int(Int64(clamping: r.end)),
                                            "properties": .object(r.properties)])
        case .path(let nodes, let relationships): .object(["nodes": .list(nodes.map { json(.node($0)) }),
                                                           "relationships": .list(relationships.map { json(.relationship($0)) })])
        case .list(let values): .list(values.map(json))
        case .temporal(let t): .string(t.text)
        case .map(let m): .object(m.mapValues(json))
        }
    }
}
