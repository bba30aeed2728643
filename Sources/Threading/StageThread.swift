import Foundation

/// A plain thread that can be joined: stages block in C calls, so they get
/// threads of their own rather than tasks in the cooperative pool.
package final class StageThread: @unchecked Sendable {
    private let thread: Thread
    private let done = DispatchSemaphore(value: 0)

    package init(name: String, _ body: @escaping @Sendable () -> Void) {
        let done = self.done
        thread = Thread {
            body()
            done.signal()
        }
        thread.name = name
        thread.stackSize = 4 << 20
    }

    package func start() { thread.start() }
    package func join() { done.wait() }

    /// Waits at most `timeout` seconds. - Returns: true when the thread ended;
    /// after false, a plain `join()` still waits for the end.
    package func join(timeout: Double) -> Bool { done.wait(timeout: .now() + timeout) == .success }
}
