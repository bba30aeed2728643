#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dispatch

/// SIGTERM and SIGINT ask a live run for a clean stop, SIGHUP a service for
/// a reload; each is delivered as an event on `queue` (a dispatch signal
/// source) instead of running inside a signal handler, where almost nothing
/// is safe to do. The one signal handler of live runs, `run --input` and
/// `run --config` alike.
package final class ServiceSignals: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    /// - Parameters:
    ///   - stop: called with "SIGTERM" or "SIGINT"; again on a repeated signal.
    ///   - reload: called on SIGHUP; nil leaves SIGHUP its default action (a
    ///     run with nothing to reload ends with its terminal, as any command does).
    package init(queue: DispatchQueue, stop: @escaping @Sendable (String) -> Void, reload: (@Sendable () -> Void)?) {
        var handlers: [(Int32, @Sendable () -> Void)] = [
            (SIGTERM, { stop("SIGTERM") }),
            (SIGINT, { stop("SIGINT") }),
        ]
        if let reload { handlers.append((SIGHUP, reload)) }
        for (number, handler) in handlers {
            // The default action would end the process before the source sees the signal.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
    }

    /// Stops listening; the signals stay ignored (the process is ending).
    package func cancel() {
        for source in sources { source.cancel() }
        sources.removeAll()
    }

    deinit { cancel() }
}
