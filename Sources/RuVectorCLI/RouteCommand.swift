import ArgumentParser
import Foundation
import RuVectorClient

/// `ruvector route ...`: RouteService from the shell (semantic routes, export and import in
/// RouteCommand+Semantic.swift).
struct RouteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route", abstract: "Create a request router, route requests, record outcomes, train it and watch its breakers.",
        subcommands: [Create.self, Route.self, Outcome.self, Train.self, Status.self, RegisterRoute.self, Routes.self, DeleteRoute.self,
                      Match.self, FitThreshold.self, Export.self, Import.self])

    static func printStatus(_ status: RouterStatus, json: Bool) {
        let breakers = status.breakers.sorted { $0.key < $1.key }
        if json {
            return Terminal.printJSON([
                "model_version": .int(Int64(clamping: status.modelVersion)), "outcomes_recorded": .int(Int64(clamping: status.outcomesRecorded)),
                "accuracy": .double(Double(status.accuracy)), "calibrated_coverage": .double(Double(status.calibratedCoverage)),
                "evaluation_count": .int(Int64(clamping: status.evaluationCount)), "model_bytes": .int(Int64(clamping: status.modelBytes)),
                "outcome_log_records": .int(Int64(clamping: status.outcomeLogRecords)),
                "outcome_log_bytes": .int(Int64(clamping: status.outcomeLogBytes)),
                "breakers": .object(Dictionary(uniqueKeysWithValues: breakers.map { ($0.key, .string($0.value)) })),
            ])
        }
        Terminal.printTable(["MODEL", "OUTCOMES", "LOG", "LOG BYTES", "ACCURACY", "COVERAGE", "HELD OUT", "BYTES", "BREAKERS"], [[
            String(status.modelVersion), String(status.outcomesRecorded), String(status.outcomeLogRecords), String(status.outcomeLogBytes),
            String(status.accuracy), String(status.calibratedCoverage), String(status.evaluationCount), String(status.modelBytes), breakers.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
        ]])
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a router over candidates given as NAME=COST.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Router name.") var router: String
        @Option(name: .long, help: "A candidate as NAME=COST (repeat; at least 2).") var candidate: [String] = []
        @Option(name: .customLong("feature-size"), help: "Features per time step.") var featureSize: Int
        @Option(name: .customLong("time-steps"), help: "Time steps per request (0 = 1).") var timeSteps: Int = 0
        @Option(name: .customLong("hidden-size"), help: "FastGRNN hidden width (0 = 32).") var hiddenSize: Int = 0
        @Option(name: .customLong("breaker-failures"), help: "Failures that open a breaker (0 = 5).") var breakerFailures: Int = 0
        @Option(name: .customLong("outcome-window"), help: "Newest outcomes kept and trained on (0 = 100000; 100 to 100000).") var outcomeWindow: Int = 0

        func run() async throws {
            try await connection.run { db in
                let candidates = try candidate.map { item in
                    let parts = item.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, let cost = Double(parts[1]) else { throw CLIError.usage("--candidate takes NAME=COST, e.g. small=1; got \(item)") }
                    return RouteCandidate(name: String(parts[0]), cost: cost)
                }
                try await db.createRouter(router, candidates: candidates, featureSize: featureSize, timeSteps: timeSteps,
                                          hiddenSize: hiddenSize, breakerFailures: breakerFailures, outcomeWindow: outcomeWindow)
            }
            if connection.json { return Terminal.printJSON(["router": .string(router)]) }
            print("created router \(router)")
        }
    }

    struct Route: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Route one request (its features as a JSON list).")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Router name.") var router: String
        @Option(name: .long, help: "The features as JSON, e.g. [0.1,0.2] (time steps x feature size values).") var features: String
        @Option(name: .customLong("request-id"), help: "Your id for the request (else the server assigns one).") var requestID: String = ""

        func run() async throws {
            let decision = try await connection.run { db in
                try await db.route(router, features: try SearchCommand.vector(json: features, option: "--features"), requestID: requestID)
            }
            if connection.json {
                return Terminal.printJSON([
                    "chosen": decision.chosen.map { .string($0) } ?? .null, "confidence": .double(Double(decision.confidence)),
                    "reason": .string(decision.reason), "prediction_set": .list(decision.predictionSet.map { .string($0) }),
                    "skipped_open": .list(decision.skippedOpen.map { .string($0) }), "request_id": .string(decision.requestID),
                    "model_version": .int(Int64(clamping: decision.modelVersion)),
                ])
            }
            Terminal.printTable(["CHOSEN", "CONFIDENCE", "REASON", "SET", "SKIPPED", "REQUEST"], [[
                decision.chosen ?? "-", String(decision.confidence), decision.reason, decision.predictionSet.joined(separator: ","),
                decision.skippedOpen.joined(separator: ","), decision.requestID,
            ]])
        }
    }

    struct Outcome: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record how a request went (by --request-id, or with --features).")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Router name.") var router: String
        @Option(name: .long, help: "The candidate that served it.") var candidate: String
        @Flag(name: .long, inversion: .prefixedNo, help: "It succeeded (--no-success: it failed).") var success: Bool
        @Option(name: .customLong("request-id"), help: "The id the route command printed.") var requestID: String = ""
        @Option(name: .long, help: "The features as JSON, when the request was not routed here recently.") var features: String?
        @Option(name: .long, help: "Quality 0..1.") var quality: Float = 0

        func run() async throws {
            let held = try await connection.run { db in
                try await db.recordOutcome(router, candidate: candidate, success: success, requestID: requestID,
                                           features: try features.map { try SearchCommand.vector(json: $0, option: "--features") },
                                           quality: quality)
            }
            if connection.json { return Terminal.printJSON(["outcomes_recorded": .int(Int64(clamping: held))]) }
            print("recorded; \(router) has recorded \(held) outcomes")
        }
    }

    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Train the router from its outcomes, showing progress; Ctrl-C cancels the run.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Router name.") var router: String
        @Option(name: .long, help: "Epochs (0 = 10).") var epochs: Int = 0
        @Option(name: .long, help: "Seed.") var seed: UInt64 = 0

        func run() async throws {
            let json = connection.json
            let status = try await connection.run { db in
                try await db.trainRouter(router, epochs: epochs, seed: seed) { progress in
                    guard !json, !progress.done else { return }
                    print("epoch \(progress.epoch)  loss \(progress.loss)")
                }
            }
            RouteCommand.printStatus(status, json: json)
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a router's model, held-out accuracy and coverage, and breakers.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Router name.") var router: String

        func run() async throws {
            let status = try await connection.run { try await $0.routerStatus(router) }
            RouteCommand.printStatus(status, json: connection.json)
        }
    }
}
