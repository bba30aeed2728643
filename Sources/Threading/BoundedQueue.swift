import Foundation

/// What a full queue does with one more element, and whether an element may
/// grow too old to be worth taking.
package enum OverflowPolicy: Sendable, Equatable {
    /// The producer waits: nothing is ever lost (offline conversion).
    case block
    /// The oldest waiting element is dropped: the newest frame wins, so
    /// latency stays bounded when the consumer is slower.
    case dropOldest
    /// Live: an element that has waited longer than `seconds` is dropped when
    /// a newer one waits behind it, so a consumer that has fallen behind
    /// catches up on the newest. Elements that arrive together (a burst of
    /// packets decoded at once) wait their turn and are not lost: only a
    /// queue that is full drops its oldest, as `dropOldest` does.
    case dropLate(after: Double)

    /// True for the policies that never lose an element.
    package var neverDrops: Bool { self == .block }
}

/// A small FIFO between two pipeline threads.
///
/// Producers and consumers block on a condition variable, not in the Swift
/// concurrency pool: every stage that uses it is a thread of its own that
/// makes blocking C calls anyway.
package final class BoundedQueue<Element>: @unchecked Sendable {
    package let capacity: Int
    package let policy: OverflowPolicy
    private let condition = NSCondition()
    /// Each element with the monotonic time it was queued (for `dropLate`).
    private var elements: [(element: Element, queuedAt: UInt64)] = []
    private var head = 0
    private var closed = false
    private var droppedCount = 0

    package init(capacity: Int, policy: OverflowPolicy = .block) {
        precondition(capacity > 0, "a queue needs room for at least one element")
        self.capacity = capacity
        self.policy = policy
        elements.reserveCapacity(capacity)
    }

    /// Adds `element`, waiting for room or dropping the oldest per `policy`.
    /// - Returns: false when the queue is closed (the element is discarded).
    @discardableResult
    package func push(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !closed, count >= capacity {
            if policy != .block {
                head += 1
                droppedCount += 1
                compact()
            } else {
                condition.wait()
            }
        }
        guard !closed else { return false }
        elements.append((element, MonotonicClock.nanoseconds()))
        condition.broadcast()
        return true
    }

    /// The oldest element, waiting for one; nil once the queue is closed and empty.
    package func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while count == 0, !closed { condition.wait() }
        return takeFirst()
    }

    /// Like `pop`, but gives up after `timeout` seconds and returns nil.
    /// `isClosedAndEmpty` tells a timeout from the end.
    package func pop(timeout: Double) -> Element? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while count == 0, !closed {
            if !condition.wait(until: deadline) { break }
        }
        return takeFirst()
    }

    /// Ends the stream: producers are refused, consumers drain what is left then get nil.
    package func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    package var isClosedAndEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed && count == 0
    }

    /// Elements waiting now.
    package var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }

    /// Elements dropped so far: by a full queue, or as too late (`dropLate`).
    package var dropped: Int {
        condition.lock()
        defer { condition.unlock() }
        return droppedCount
    }

    /// Nanoseconds the oldest waiting element has waited; nil when none waits.
    /// For a layer above with its own idea of too late (a network output
    /// that drops whole groups of pictures, not single ones).
    package var oldestWaitNanoseconds: UInt64? {
        condition.lock()
        defer { condition.unlock() }
        guard count > 0 else { return nil }
        return MonotonicClock.nanoseconds() &- elements[head].queuedAt
    }

    /// Forgets every waiting element for the owner (a connection that is gone)
    /// and wakes producers waiting for room. Not counted in `dropped`: the
    /// owner counts what it discards.
    /// - Returns: how many elements were forgotten.
    @discardableResult
    package func removeAll() -> Int {
        condition.lock()
        defer { condition.unlock() }
        let removed = count
        elements.removeAll(keepingCapacity: true)
        head = 0
        condition.broadcast()
        return removed
    }

    private var count: Int { elements.count - head }

    private func takeFirst() -> Element? {
        guard count > 0 else { return nil }
        if case .dropLate(let seconds) = policy {
            // Skip what has waited too long, but never the newest: a consumer
            // that is only briefly late takes the frame rather than idling.
            let limit = UInt64(max(0, seconds) * 1e9)
            let now = MonotonicClock.nanoseconds()
            while count > 1, now &- elements[head].queuedAt > limit {
                head += 1
                droppedCount += 1
            }
        }
        let element = elements[head].element
        head += 1
        compact()
        condition.broadcast()
        return element
    }

    private func compact() {
        if head == elements.count {
            elements.removeAll(keepingCapacity: true)
            head = 0
        } else if head > capacity {
            elements.removeFirst(head)
            head = 0
        }
    }
}
