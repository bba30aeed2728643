import Foundation

/// What a full queue does with one more element.
public enum OverflowPolicy: Sendable {
    /// The producer waits: nothing is ever lost (offline conversion).
    case block
    /// The oldest waiting element is dropped: the newest frame wins, so
    /// latency stays bounded when the consumer is slower (live sources).
    case dropOldest
}

/// A small FIFO between two pipeline threads.
///
/// Producers and consumers block on a condition variable, not in the Swift
/// concurrency pool: every stage that uses it is a thread of its own that
/// makes blocking C calls anyway.
public final class BoundedQueue<Element>: @unchecked Sendable {
    public let capacity: Int
    public let policy: OverflowPolicy
    private let condition = NSCondition()
    private var elements: [Element] = []
    private var head = 0
    private var closed = false
    private var droppedCount = 0

    public init(capacity: Int, policy: OverflowPolicy = .block) {
        precondition(capacity > 0, "a queue needs room for at least one element")
        self.capacity = capacity
        self.policy = policy
        elements.reserveCapacity(capacity)
    }

    /// Adds `element`, waiting for room or dropping the oldest per `policy`.
    /// - Returns: false when the queue is closed (the element is discarded).
    @discardableResult
    public func push(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !closed, count >= capacity {
            if policy == .dropOldest {
                head += 1
                droppedCount += 1
                compact()
            } else {
                condition.wait()
            }
        }
        guard !closed else { return false }
        elements.append(element)
        condition.broadcast()
        return true
    }

    /// The oldest element, waiting for one; nil once the queue is closed and empty.
    public func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while count == 0, !closed { condition.wait() }
        return takeFirst()
    }

    /// Like `pop`, but gives up after `timeout` seconds and returns nil.
    /// `isClosedAndEmpty` tells a timeout from the end.
    public func pop(timeout: Double) -> Element? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while count == 0, !closed {
            if !condition.wait(until: deadline) { break }
        }
        return takeFirst()
    }

    /// Ends the stream: producers are refused, consumers drain what is left then get nil.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    public var isClosedAndEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed && count == 0
    }

    /// Elements waiting now.
    public var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }

    /// Elements dropped by `.dropOldest` so far.
    public var dropped: Int {
        condition.lock()
        defer { condition.unlock() }
        return droppedCount
    }

    private var count: Int { elements.count - head }

    private func takeFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = elements[head]
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
