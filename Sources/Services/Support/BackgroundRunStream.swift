import Checksums
import RPC
import Storage
import Synchronization
import Wire
import WorkControl

/// Server-streaming calls whose work runs elsewhere (a training run on its own thread) or whose
/// answer is one file sent in chunks: the plumbing LearnService and RouteService share.
enum BackgroundRunStream {
    /// Starts a run with `start` (given the progress sink and the completion), streams its progress
    /// to `writer` until it ends, and returns its result. Cancelling the call (or its deadline)
    /// cancels the run; a failure is mapped to a status by `map`.
    static func stream<Progress: WireMessage, Outcome: Sendable>(
        to writer: TypedWriter<Progress>, context: ServerContext, map: @escaping @Sendable (any Error) -> RPCError,
        start: (_ progress: @escaping @Sendable (Progress) -> Void,
                _ completion: @escaping @Sendable (Result<Outcome, any Error>) -> Void) throws -> CancellationSignal
    ) async throws -> Outcome {
        let (events, continuation) = AsyncStream<Progress>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let outcome = Mutex<Result<Outcome, any Error>?>(nil)
        let cancellation = try start({ continuation.yield($0) }, { result in
            outcome.withLock { $0 = result }
            continuation.finish()
        })
        do {
            try await withTaskCancellationHandler {
                for await progress in events { try await writer.send(progress) }
            } onCancel: {
                cancellation.cancel(context.deadline.map { ContinuousClock.now >= $0 } == true ? .deadlineExceeded : .cancelled)
            }
        } catch {
            cancellation.cancel()
            throw error
        }
        switch outcome.withLock({ $0 }) {
        case .success(let result)?: return result
        case .failure(let error)?: throw ServerWork.status(of: error, deadline: context.deadline, map: map)
        case nil: throw RPCError(.cancelled, "the training run was cancelled")
        }
    }

    /// Sends `bytes` as `FileChunk`s of at most `chunkBytes`, the last carrying the size and CRC-32C.
    static func sendFile(_ bytes: [UInt8], chunkBytes: Int, to writer: TypedWriter<RuvectorV1.FileChunk>) async throws {
        var offset = 0
        var crc: UInt32 = 0
        repeat {
            let end = min(offset + chunkBytes, bytes.count)
            let data = Array(bytes[offset..<end])
            crc = CRC32C.checksum(data, continuing: crc)
            var chunk = RuvectorV1.FileChunk(offset: UInt64(offset), data: data)
            offset = end
            if offset == bytes.count { chunk.trailer = RuvectorV1.FileTrailer(sizeBytes: UInt64(offset), crc32c: crc) }
            try await writer.send(chunk)
        } while offset < bytes.count
    }
}
