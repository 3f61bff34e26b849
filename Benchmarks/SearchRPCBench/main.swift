// search-rpc-bench: the client half of the search RPC benchmark (bench_search.py drives it).
// Sends VectorService/Search calls over one HTTP/2 connection from `concurrency` tasks, and
// reports per-call latency next to the server's own search time (SearchResponse.time_micros):
// their difference is the RPC overhead. The same client measures our server and the peer.
#if canImport(Glibc)
import Glibc
#endif
import RPC
import Wire

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func readFloats(_ path: String) throws -> [Float] {
    guard let file = fopen(path, "rb") else { throw BenchError("cannot open \(path)") }
    defer { fclose(file) }
    fseek(file, 0, SEEK_END)
    let bytes = ftell(file)
    fseek(file, 0, SEEK_SET)
    var values = [Float](repeating: 0, count: bytes / 4)
    let read = values.withUnsafeMutableBytes { fread($0.baseAddress, 1, bytes, file) }
    guard read == bytes else { throw BenchError("short read of \(path)") }
    return values
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

/// One timed call: client-observed latency and the server's reported search time, in µs.
struct Sample { var latency: Double; var server: Double }

let options = SearchRPCBenchOptions.parseOrExit()
let flat = try readFloats(options.queriesPath)
let queries = stride(from: 0, to: flat.count, by: options.dimension).map { Array(flat[$0..<($0 + options.dimension)]) }
let requests: [[UInt8]] = queries.enumerated().map { index, query in
    var request = RuvectorV1.SearchRequest(collection: options.collection, vector: RuvectorV1.Vector(values: query),
                                           k: UInt32(options.k), tag: UInt64(index))
    if options.ef > 0 { request.params = RuvectorV1.SearchParams(ef: UInt32(options.ef)) }
    return request.encoded()
}
let channel = try await GRPCChannel.connect(host: options.host, port: options.port)
let path = "/ruvector.v1.VectorService/Search"

// Warm-up, and the ids for recall (query order).
var ids: [UInt64] = []
for request in requests {
    let (bytes, _) = try await channel.unary(path, request: request)
    let response = try RuvectorV1.SearchResponse(decoding: bytes)
    var row = response.hits.compactMap { hit -> UInt64? in if case .num(let id)? = hit.id?.kind { return id } else { return nil } }
    row += [UInt64](repeating: UInt64.max, count: max(0, options.k - row.count))
    ids += row.prefix(options.k)
}
if !options.idsOut.isEmpty, let file = fopen(options.idsOut, "wb") {
    _ = ids.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
}

for concurrency in options.concurrency {
    let total = requests.count * options.rounds
    let started = ContinuousClock.now
    let samples = try await withThrowingTaskGroup(of: [Sample].self) { group in
        for worker in 0..<concurrency {
            group.addTask(executorPreference: options.callersOnLoop ? channel.executor : nil) {
                var samples: [Sample] = []
                var index = worker
                while index < total {
                    let begin = ContinuousClock.now
                    let (bytes, _) = try await channel.unary(path, request: requests[index % requests.count])
                    let elapsed = ContinuousClock.now - begin
                    let response = try RuvectorV1.SearchResponse(decoding: bytes)
                    let micros = Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6
                    samples.append(Sample(latency: micros, server: Double(response.timeMicros)))
                    index += concurrency
                }
                return samples
            }
        }
        var all: [Sample] = []
        for try await part in group { all += part }
        return all
    }
    let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18
        + Double((ContinuousClock.now - started).components.seconds)
    let latency = samples.map(\.latency).sorted()
    let server = samples.map(\.server).sorted()
    let overhead = samples.map { $0.latency - $0.server }.sorted()
    print("{\"concurrency\": \(concurrency), \"calls\": \(samples.count), \"qps\": \(Double(samples.count) / seconds), "
        + "\"p50_us\": \(percentile(latency, 0.5)), \"p99_us\": \(percentile(latency, 0.99)), "
        + "\"server_p50_us\": \(percentile(server, 0.5)), \"overhead_p50_us\": \(percentile(overhead, 0.5)), "
        + "\"overhead_p99_us\": \(percentile(overhead, 0.99))}")
}
await channel.close()
