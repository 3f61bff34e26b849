import NIOCore

/// Where a handler's task runs.
public enum HandlerExecution: Sendable, Hashable {
    /// Swift's global concurrent executor (every core). The default.
    case concurrentPool
    /// The connection's own event loop when the call is the connection's only call in
    /// progress, else the concurrent pool. On the loop, a call crosses no thread from
    /// request to response (one context switch per call instead of about four), but it
    /// also holds up that loop's other connections while it runs. For handlers that finish
    /// in well under a millisecond, or that move heavier work off the loop with
    /// `withTaskExecutorPreference(globalConcurrentExecutor)`.
    case eventLoopWhenAlone
}

/// Runs task jobs on one NIO event loop: a task preferring it continues on the loop after
/// every suspension, so request bytes, handler and response stay on one thread.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
