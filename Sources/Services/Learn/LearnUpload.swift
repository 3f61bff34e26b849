import Checksums
import RPC
import Storage
import Wire

/// A model file arriving in chunks (ImportModel): in order, bounded, and checked against the
/// trailer's size and CRC-32C before anything uses it.
struct LearnUpload {
    private(set) var bytes: [UInt8] = []
    private var trailer: RuvectorV1.FileTrailer?

    /// Appends `chunk`, refusing one out of order, past the trailer or past the size limit.
    mutating func add(_ chunk: RuvectorV1.FileChunk, maxBytes: Int = LearnLimits.maxModelBytes) throws {
        guard trailer == nil else { throw RPCError(.invalidArgument, "nothing may follow the chunk carrying the trailer") }
        guard chunk.offset == UInt64(bytes.count) else {
            throw RPCError(.invalidArgument, "chunk at offset \(chunk.offset) but \(bytes.count) bytes were received; send chunks in order")
        }
        guard bytes.count + chunk.data.count <= maxBytes else {
            throw RPCError(.resourceExhausted, "the model upload exceeds the limit of \(maxBytes) bytes")
        }
        bytes += chunk.data
        trailer = chunk.trailer
    }

    /// The whole file, once its trailer arrived and matches.
    func finished() throws -> [UInt8] {
        guard let trailer else { throw RPCError(.invalidArgument, "the upload ended without the chunk carrying the trailer (size and CRC-32C)") }
        guard trailer.sizeBytes == UInt64(bytes.count) else {
            throw RPCError(.dataLoss, "the trailer says \(trailer.sizeBytes) bytes but \(bytes.count) arrived")
        }
        guard CRC32C.checksum(bytes) == trailer.crc32c else {
            throw RPCError(.dataLoss, "the uploaded bytes do not match the trailer's CRC-32C; upload again")
        }
        return bytes
    }
}
