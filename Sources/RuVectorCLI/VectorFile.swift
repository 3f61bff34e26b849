import Foundation
import RuVectorClient

/// Points and vectors read from a file, a batch at a time:
/// - `.jsonl` / `.ndjson`: one `{"id": 1, "vector": [...], "payload": {...}}` per line;
/// - `.npy`: a 2-D little-endian float32 (or float64) C-order array, row i gets id `startID + i`;
/// - `.fvecs`: records of an int32 dimension followed by that many float32, ids as for `.npy`.
final class VectorFile {
    enum Format: String, CaseIterable {
        case jsonl, npy, fvecs

        static func guess(_ path: String) -> Format? {
            let lower = path.lowercased()
            if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") || lower.hasSuffix(".json") { return .jsonl }
            if lower.hasSuffix(".npy") { return .npy }
            if lower.hasSuffix(".fvecs") { return .fvecs }
            return nil
        }
    }

    let path: String
    let format: Format
    /// Number of points (rows or non-blank lines).
    let count: Int
    private let data: Data
    private let startID: UInt64
    // Binary layout (npy, fvecs).
    private var dimension = 0
    private var dataOffset = 0
    private var itemBytes = 4
    private var rowStride = 0
    // Reading position: the next row, or the next byte and line number of a JSON-lines file.
    private var nextRow = 0
    private var nextByte = 0
    private var lineNumber = 0

    init(path: String, format: Format?, startID: UInt64) throws {
        // "-" is standard input, JSON lines unless --format says otherwise.
        guard let format = format ?? (path == "-" ? .jsonl : Format.guess(path)) else {
            throw CLIError.usage("cannot tell the format of '\(path)' from its name; pass --format jsonl, npy or fvecs")
        }
        self.path = path == "-" ? "<stdin>" : path
        self.format = format
        self.startID = startID
        do {
            data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile()
                : try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw CLIError.data("cannot read '\(path)': \(error.localizedDescription)")
        }
        switch format {
        case .jsonl:
            count = data.withUnsafeBytes { raw in
                var lines = 0
                var blank = true
                for byte in raw {
                    if byte == UInt8(ascii: "\n") {
                        if !blank { lines += 1 }
                        blank = true
                    } else if byte != 0x20 && byte != 0x09 && byte != 0x0D {
                        blank = false
                    }
                }
                return blank ? lines : lines + 1
            }
        case .npy:
            (count, dimension, itemBytes, dataOffset) = try Self.npyLayout(data, path: path)
            rowStride = dimension * itemBytes
        case .fvecs:
            guard data.count >= 4 else { throw CLIError.data("'\(path)' is too short for an .fvecs file") }
            let first = Int(Int32(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: Int32.self) }))
            guard (1...65_536).contains(first) else { throw CLIError.data("'\(path)': the first .fvecs record has dimension \(first)") }
            dimension = first
            rowStride = 4 + 4 * first
            guard data.count % rowStride == 0 else {
                throw CLIError.data("'\(path)' is \(data.count) bytes, not a whole number of \(rowStride)-byte records of dimension \(first)")
            }
            count = data.count / rowStride
            dataOffset = 4
        }
        if format != .jsonl, UInt64.max - startID < UInt64(max(count, 1) - 1) {
            throw CLIError.usage("--start-id \(startID) + \(count) rows passes the largest id \(UInt64.max)")
        }
    }

    /// The next up to `limit` points, or nil at the end.
    func nextBatch(limit: Int) throws -> [Point]? {
        switch format {
        case .jsonl: return try nextLines(limit: limit)
        case .npy, .fvecs:
            guard nextRow < count else { return nil }
            let end = min(nextRow + limit, count)
            var points: [Point] = []
            points.reserveCapacity(end - nextRow)
            for row in nextRow..<end {
                points.append(Point(id: .num(startID + UInt64(row)), vector: try vector(row: row)))
            }
            nextRow = end
            return points
        }
    }

    /// Every vector of the file (for search queries), at most `limit`.
    func allVectors(limit: Int) throws -> [[Float]] {
        guard count <= limit else { throw CLIError.data("'\(path)' holds \(count) vectors; at most \(limit) queries at a time") }
        var vectors: [[Float]] = []
        while let batch = try nextBatch(limit: 1_000) { vectors += batch.map(\.vector) }
        return vectors
    }

    private func vector(row: Int) throws -> [Float] {
        let base = dataOffset + row * rowStride
        return data.withUnsafeBytes { raw in
            if format == .fvecs || itemBytes == 4 {
                return (0..<dimension).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * $0, as: UInt32.self))) }
            }
            return (0..<dimension).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8 * $0, as: UInt64.self)))) }
        }
    }

    /// fvecs rows must all have the first row's dimension.
    func checkFvecsDimensions() throws {
        guard format == .fvecs else { return }
        try data.withUnsafeBytes { raw in
            for row in 0..<count {
                let d = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: row * rowStride, as: Int32.self))
                guard Int(d) == dimension else {
                    throw CLIError.data("'\(path)': record \(row) has dimension \(d), the first has \(dimension)")
                }
            }
        }
    }

    private func nextLines(limit: Int) throws -> [Point]? {
        var points: [Point] = []
        while points.count < limit, nextByte < data.count {
            let end = data[nextByte...].firstIndex(of: UInt8(ascii: "\n")) ?? data.count
            let line = data[nextByte..<end]
            nextByte = end + 1
            lineNumber += 1
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
            points.append(try point(line: line))
        }
        return points.isEmpty ? nil : points
    }

    private func point(line: Data) throws -> Point {
        func fail(_ message: String) -> CLIError { .data("\(path):\(lineNumber): \(message)") }
        let value: PayloadValue
        do { value = try PayloadValue(jsonBytes: line) } catch { throw fail(error.message) }
        guard let object = value.objectValue else { throw fail("each line must be a JSON object with id and vector") }
        let id: PointID
        switch object["id"] {
        case .int(let n)? where n >= 0: id = .num(UInt64(n))
        case .string(let s)?: id = .uuid(s)
        case nil: throw fail("missing \"id\"")
        default: throw fail("\"id\" must be a non-negative integer or a UUID string")
        }
        guard let list = object["vector"]?.listValue, !list.isEmpty else { throw fail("\"vector\" must be a non-empty list of numbers") }
        var vector: [Float] = []
        vector.reserveCapacity(list.count)
        for element in list {
            guard let number = element.doubleValue else { throw fail("\"vector\" holds a non-number: \(element.jsonText)") }
            vector.append(Float(number))
        }
        var payload: Payload = [:]
        if let given = object["payload"], given != .null {
            guard let fields = given.objectValue else { throw fail("\"payload\" must be an object") }
            payload = fields
        }
        return Point(id: id, vector: vector, payload: payload)
    }

    /// Reads the header of a NumPy `.npy` file: (rows, columns, bytes per item, data offset).
    static func npyLayout(_ data: Data, path: String) throws -> (Int, Int, Int, Int) {
        func fail(_ message: String) -> CLIError { .data("'\(path)' is not a supported .npy file: \(message)") }
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else { throw fail("bad magic") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail("format version \(major)")
        }
        guard headerLength <= 1 << 20, headerStart + headerLength <= data.count else { throw fail("truncated header") }
        let header = String(decoding: data[headerStart..<headerStart + headerLength], as: UTF8.self)
        func field(_ name: String) -> Substring? {
            guard let range = header.range(of: "'\(name)':") else { return nil }
            return header[range.upperBound...].drop(while: { $0 == " " })
        }
        guard let descr = field("descr") else { throw fail("no descr") }
        let itemBytes: Int
        if descr.hasPrefix("'<f4'") || descr.hasPrefix("'=f4'") {
            itemBytes = 4
        } else if descr.hasPrefix("'<f8'") || descr.hasPrefix("'=f8'") {
            itemBytes = 8
        } else {
            throw fail("dtype \(descr.prefix(while: { $0 != "," })); save float32 little-endian (arr.astype('<f4'))")
        }
        guard let fortran = field("fortran_order"), fortran.hasPrefix("False") else {
            throw fail("Fortran order; save a C-order array (np.ascontiguousarray)")
        }
        guard let shapeText = field("shape"), shapeText.hasPrefix("("), let close = shapeText.firstIndex(of: ")") else {
            throw fail("no shape")
        }
        let dims = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = dims.compactMap { Int($0) }
        guard shape.count == dims.count, shape.allSatisfy({ $0 >= 0 }) else { throw fail("shape \(shapeText[...close])") }
        let (rows, columns): (Int, Int)
        switch shape.count {
        case 1: (rows, columns) = (1, shape[0])
        case 2: (rows, columns) = (shape[0], shape[1])
        default: throw fail("\(shape.count)-D array; save a 2-D array of shape (points, dimension)")
        }
        guard (1...65_536).contains(columns) else { throw fail("dimension \(columns)") }
        let offset = headerStart + headerLength
        let (size, overflow) = rows.multipliedReportingOverflow(by: columns * itemBytes)
        guard !overflow, offset + size <= data.count else {
            throw fail("the header promises \(rows) x \(columns) values but the file holds \(data.count - offset) bytes of data")
        }
        return (rows, columns, itemBytes, offset)
    }
}

/// A `VectorFile`'s points as an async sequence of batches, for `importStream`.
struct PointBatches: AsyncSequence {
    typealias Element = [Point]
    let file: VectorFile
    let batchSize: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let file: VectorFile
        let batchSize: Int
        mutating func next() async throws -> [Point]? { try file.nextBatch(limit: batchSize) }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(file: file, batchSize: batchSize) }
}
