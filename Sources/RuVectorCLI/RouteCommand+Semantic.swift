import ArgumentParser
import RuVectorClient

/// `ruvector route register-route|routes|delete-route|match|fit-threshold|export|import`: semantic
/// routes and moving a router between servers.
extension RouteCommand {
    /// A JSON value given inline, or read from a file when it starts with `@` (`@queries.json`).
    static func json(_ text: String, option: String) throws -> PayloadValue {
        let source = text.hasPrefix("@") ? String(decoding: try LocalFile.read(String(text.dropFirst())), as: UTF8.self) : text
        do { return try PayloadValue(json: source) } catch { throw CLIError.usage("\(option) is not valid JSON: \(error.message)") }
    }

    /// A JSON list of number lists (example embeddings).
    static func vectors(_ value: PayloadValue, option: String) throws -> [[Float]] {
        guard let list = value.listValue, !list.isEmpty else { throw CLIError.usage("\(option) must be a JSON list of vectors, e.g. [[1,0],[0.9,0.1]]") }
        return try list.map { try vector($0, option: option) }
    }

    /// A JSON list of numbers.
    static func vector(_ value: PayloadValue, option: String) throws -> [Float] {
        guard let items = value.listValue else { throw CLIError.usage("\(option): a vector must be a JSON list of numbers") }
        let numbers = items.compactMap(\.doubleValue)
        guard numbers.count == items.count, !numbers.isEmpty else { throw CLIError.usage("\(option): a vector must hold numbers only") }
        return numbers.map(Float.init)
    }

    struct RegisterRoute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "register-route",
                                                        abstract: "Register (or replace) a semantic route from example embeddings.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Router name.") var router: String
        @Option(name: .long, help: "Route name.") var name: String
        @Option(name: .long, help: "Example embeddings as a JSON list of lists, or @FILE holding one.") var examples: String
        @Option(name: .long, help: "Least score to match, in (0, 1] (0 = 0.8).") var threshold: Float = 0

        func run() async throws {
            // Parsed inside `run`, which turns every failure into the CLI's message and exit code.
            let route = try await connection.run { db in
                let vectors = try RouteCommand.vectors(try RouteCommand.json(examples, option: "--examples"), option: "--examples")
                return try await db.registerRoute(router, name: name, examples: vectors, threshold: threshold)
            }
            if connection.json {
                return Terminal.printJSON(["route": .string(route.name), "examples": .int(Int64(route.exampleCount)),
                                           "threshold": .double(Double(route.threshold))])
            }
            print("registered route \(route.name) of \(router) with \(route.exampleCount) examples (threshold \(route.threshold))")
        }
    }

    struct Routes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a router's semantic routes.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Router name.") var router: String

        func run() async throws {
            let routes = try await connection.run { try await $0.listRoutes(router) }
            if connection.json {
                return Terminal.printJSON(.list(routes.map { .object(["name": .string($0.name), "examples": .int(Int64($0.exampleCount)),
                                                                      "threshold": .double(Double($0.threshold))]) }))
            }
            Terminal.printTable(["ROUTE", "EXAMPLES", "THRESHOLD"], routes.map { [$0.name, String($0.exampleCount), String($0.threshold)] })
        }
    }

    struct DeleteRoute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-route", abstract: "Delete a semantic route.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Router name.") var router: String
        @Option(name: .long, help: "Route name.") var name: String

        func run() async throws {
            try await connection.run { try await $0.deleteRoute(router, name: name) }
            if connection.json { return Terminal.printJSON(["deleted": .string(name)]) }
            print("deleted route \(name) of \(router)")
        }
    }

    struct Match: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Match an embedding to the router's semantic routes (none: no route).")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Router name.") var router: String
        @Option(name: .long, help: "The embedding as a JSON list of numbers.") var embedding: String
        @Option(name: .long, help: "At most this many matches.") var limit: Int = 1

        func run() async throws {
            let matches = try await connection.run { db in
                let query = try RouteCommand.vector(try RouteCommand.json(embedding, option: "--embedding"), option: "--embedding")
                return try await db.matchRoute(router, embedding: query, limit: limit)
            }
            if connection.json {
                return Terminal.printJSON(.list(matches.map { .object(["route": .string($0.name), "similarity": .double(Double($0.similarity))]) }))
            }
            if matches.isEmpty { return print("no route") }
            Terminal.printTable(["ROUTE", "SIMILARITY"], matches.map { [$0.name, String($0.similarity)] })
        }
    }

    struct FitThreshold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fit-threshold",
            abstract: "Fit the routes' threshold from labelled queries: a JSON list of {\"embedding\": [...], \"route\": NAME or null}.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Router name.") var router: String
        @Option(name: .long, help: "The labelled queries as JSON, or @FILE holding them.") var queries: String

        func run() async throws {
            let fit = try await connection.run { try await $0.fitRouteThreshold(router, queries: try labelled()) }
            if connection.json {
                return Terminal.printJSON(["threshold": .double(Double(fit.threshold)), "accuracy": .double(Double(fit.accuracy)),
                                           "false_match_rate": .double(Double(fit.falseMatchRate))])
            }
            Terminal.printTable(["THRESHOLD", "ACCURACY", "FALSE MATCHES"], [[String(fit.threshold), String(fit.accuracy), String(fit.falseMatchRate)]])
        }

        /// The queries of `--queries`.
        func labelled() throws -> [(embedding: [Float], route: String?)] {
            guard let items = try RouteCommand.json(queries, option: "--queries").listValue, !items.isEmpty else {
                throw CLIError.usage("--queries must be a JSON list of {\"embedding\": [...], \"route\": NAME or null}")
            }
            return try items.map { item -> (embedding: [Float], route: String?) in
                guard let object = item.objectValue, let embedding = object["embedding"] else {
                    throw CLIError.usage("--queries: each query is an object with \"embedding\" and \"route\" (a name, or null for no route)")
                }
                let route = object["route"]
                guard route == nil || route == .null || route?.stringValue != nil else {
                    throw CLIError.usage("--queries: \"route\" must be a route name or null")
                }
                return (try RouteCommand.vector(embedding, option: "--queries"), route?.stringValue)
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a router (definition, model, calibration, routes; not its outcomes) to a file.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Router name.") var router: String
        @Option(name: .long, help: "The file to write.") var output: String

        func run() async throws {
            let file = try await connection.run { db in
                let file = try await db.exportRouter(router)
                try LocalFile.write(file, to: output)
                return file
            }
            if connection.json { return Terminal.printJSON(["bytes": .int(Int64(file.count)), "path": .string(output)]) }
            print("wrote router \(router) (\(file.count) bytes) to \(output)")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a router from a file written by export.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "The new router's name.") var router: String
        @Option(name: .long, help: "The router file.") var input: String

        func run() async throws {
            let bytes = try await connection.run { db in
                let file = try LocalFile.read(input)
                try await db.importRouter(router, from: file)
                return file.count
            }
            if connection.json { return Terminal.printJSON(["router": .string(router), "bytes": .int(Int64(bytes))]) }
            print("imported router \(router) from \(input)")
        }
    }
}
