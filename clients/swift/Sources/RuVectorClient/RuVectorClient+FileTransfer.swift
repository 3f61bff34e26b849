import Checksums
import Wire

extension RuVectorClient {
    /// Downloads a file a server-streaming call sends as `FileChunk`s (ExportModel, ExportRouter),
    /// checked against the last chunk's size and CRC-32C; `what` names it in errors.
    func downloadFile(_ method: String, _ request: some WireMessage, service: String, what: String) async throws(RuVectorClientError) -> [UInt8] {
        let call = try await makeCall(method, service: service)
        var file: [UInt8] = []
        var crc: UInt32 = 0
        var trailer: RuvectorV1.FileTrailer?
        do {
            try? await call.send(request.encoded())
            call.closeSend()
            for try await bytes in call.responses {
                let chunk = try RuvectorV1.FileChunk(decoding: bytes)
                guard trailer == nil, chunk.offset == UInt64(file.count) else {
                    throw RuVectorClientError(.dataLoss, "chunk at offset \(chunk.offset) after \(file.count) bytes\(trailer == nil ? "" : " and the trailer")")
                }
                file += chunk.data
                crc = CRC32C.checksum(chunk.data, continuing: crc)
                trailer = chunk.trailer
            }
        } catch {
            call.cancel()
            throw RuVectorClientError.from(error)
        }
        guard let trailer, trailer.sizeBytes == UInt64(file.count), trailer.crc32c == crc else {
            throw RuVectorClientError(.dataLoss, "the \(what) download of \(file.count) bytes does not match its trailer")
        }
        return file
    }

    /// Uploads `file` over a client-streaming call in `FileChunk`s of `chunkBytes` (4 KiB to 4 MiB),
    /// the last with the size and CRC-32C; `message(isFirst, chunk)` wraps each chunk in the
    /// method's request (the first names the target). Returns the call's answer.
    func uploadFile<Response: WireMessage>(_ method: String, _ file: [UInt8], service: String, chunkBytes: Int, as _: Response.Type,
                                           message: (Bool, RuvectorV1.FileChunk) -> some WireMessage) async throws(RuVectorClientError) -> Response {
        guard ((4 << 10)...(4 << 20)).contains(chunkBytes) else {
            throw RuVectorClientError(.invalidInput, "chunkBytes must be 4096...4194304, got \(chunkBytes)")
        }
        let call = try await makeCall(method, service: service)
        var offset = 0
        var crc: UInt32 = 0
        repeat {
            let data = Array(file[offset..<min(offset + chunkBytes, file.count)])
            crc = CRC32C.checksum(data, continuing: crc)
            var chunk = RuvectorV1.FileChunk(offset: UInt64(offset), data: data)
            offset += data.count
            if offset == file.count { chunk.trailer = RuvectorV1.FileTrailer(sizeBytes: UInt64(offset), crc32c: crc) }
            do { try await call.send(message(offset == data.count, chunk).encoded()) } catch { break }  // the server ended the call; `finish` reads why
        } while offset < file.count
        return try await finish(call, method, as: Response.self)
    }
}
