import Checksums
import LearnEngine
import RPC
import RouteEngine
import Storage
import Wire

/// The file ExportRouter streams and ImportRouter reads: "RVRT", a format version byte, four
/// sections each a little-endian UInt64 length then the bytes (the definition as a
/// `CreateRouterRequest`, the model's `RouterStatus` or nothing, the engine's "RVFG" model or
/// nothing, the routes as a `ListRoutesResponse`), then the CRC-32C of everything before it.
/// Breakers, counters and the outcome log stay behind: an imported router starts with a clean
/// history and the exported model.
struct RouteArchive {
    static let magic: [UInt8] = Array("RVRT".utf8) + [1]

    var definition: RuvectorV1.CreateRouterRequest
    var status: RuvectorV1.RouterStatus?
    var model: FastGRNNModel?
    var routes: [RuvectorV1.SemanticRoute]

    /// The router's archive.
    init(_ store: RouteStore) {
        definition = store.definition
        let stored = store.storedModel
        status = stored?.status
        model = stored?.model
        routes = store.listRoutes(withExamples: true)
    }

    /// The archive's bytes.
    func serialised() -> [UInt8] {
        var bytes = Self.magic
        for section in [definition.encoded(), status?.encoded() ?? [], model?.serialised() ?? [],
                        RuvectorV1.ListRoutesResponse(routes: routes).encoded()] {
            Self.append(UInt64(section.count), to: &bytes)
            bytes += section
        }
        let crc = CRC32C.checksum(bytes)
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
        return bytes
    }

    /// Reads and checks an archive for a router to be called `name`; INVALID_ARGUMENT saying what
    /// is wrong (checksum, format, definition, model shapes, routes) before anything is written.
    init(serialised bytes: [UInt8], name: String) throws {
        func bad(_ m: String) -> RPCError { RPCError(.invalidArgument, "the upload is not a router export: \(m)") }
        guard bytes.count >= Self.magic.count + 4 * 8 + 4, Array(bytes.prefix(Self.magic.count)) == Self.magic else {
            throw bad("it does not start with the RVRT header (version 1)")
        }
        let body = Array(bytes.dropLast(4))
        let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[bytes.count - 4 + $1]) << UInt32($1 * 8) }
        guard CRC32C.checksum(body) == stored else { throw bad("its checksum does not match (damaged or truncated)") }
        var offset = Self.magic.count
        var sections: [[UInt8]] = []
        for _ in 0..<4 {
            guard offset + 8 <= body.count else { throw bad("a section length runs past the end") }
            let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(body[offset + $1]) << UInt64($1 * 8) }
            offset += 8
            guard length <= UInt64(body.count - offset) else { throw bad("a section runs past the end") }
            sections.append(Array(body[offset ..< offset + Int(length)]))
            offset += Int(length)
        }
        guard offset == body.count else { throw bad("bytes follow the last section") }
        do {
            var definition = RouteLimits.resolved(try RuvectorV1.CreateRouterRequest(decoding: sections[0]))
            definition.name = name
            try RouteLimits.check(definition)
            self.definition = definition
            status = sections[1].isEmpty ? nil : try RuvectorV1.RouterStatus(decoding: sections[1])
            model = sections[2].isEmpty ? nil : try FastGRNNModel(serialised: sections[2])
            routes = try RuvectorV1.ListRoutesResponse(decoding: sections[3]).routes
        } catch let error as RPCError {
            throw bad(error.message)
        } catch let error as LearnError {
            throw bad(error.message)
        } catch {
            throw bad("\(error)")
        }
        guard (model == nil) == (status == nil) else { throw bad("a model comes with its status, and only with it") }
        if let model, model.config != RouteLimits.engineConfig(definition) { throw bad("the model does not fit the router's shapes") }
        if let status, !(status.conformalThreshold >= 0) { throw bad("the calibration threshold is invalid") }
        guard routes.count <= RouteLimits.maxRoutes else { throw bad("more than \(RouteLimits.maxRoutes) routes") }
        try RouteStore.checkTotal(routes)
        let dimension = routes.first?.examples.first?.values.count
        routes = try routes.map { try RouteStore.checked($0, dimension: dimension) }
        guard Set(routes.map(\.name)).count == routes.count else { throw bad("two routes have one name") }
        do { _ = try RouteStore.semanticRouter(routes) } catch let error as LearnError { throw bad(error.message) }
    }

    /// Writes the model and routes into a new router's directory (before it is opened).
    func write(into directory: String) throws {
        if let model, var status {
            status.modelVersion = max(status.modelVersion, 1)
            try AtomicFile.write(model.serialised(), to: "\(directory)/model-\(status.modelVersion).bin")
            try AtomicFile.write(status.encoded(), to: directory + "/model.pb")
        }
        if !routes.isEmpty { try AtomicFile.write(RuvectorV1.ListRoutesResponse(routes: routes).encoded(), to: directory + "/routes.pb") }
    }

    private static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}
