import Foundation
import Testing
import Threading

@Suite("Bounded queues between stages")
struct BoundedQueueTests {
    @Test("Blocking queue hands every element over, in order, across threads")
    func blockingKeepsEverything() {
        let queue = BoundedQueue<Int>(capacity: 3)
        let producer = Thread {
            for value in 0..<1000 { queue.push(value) }
            queue.close()
        }
        producer.start()
        var received: [Int] = []
        while let value = queue.pop() { received.append(value) }
        #expect(received == Array(0..<1000))
        #expect(queue.dropped == 0)
    }

    @Test("Drop-oldest keeps the newest elements and counts the rest")
    func dropOldestKeepsNewest() {
        let queue = BoundedQueue<Int>(capacity: 2, policy: .dropOldest)
        for value in 0..<10 { queue.push(value) }
        queue.close()
        var received: [Int] = []
        while let value = queue.pop() { received.append(value) }
        #expect(received == [8, 9])
        #expect(queue.dropped == 8)
    }

    @Test("An owner can see how long the oldest has waited and forget everything waiting, which is not counted as dropped")
    func ownerForgetsWaiting() {
        let queue = BoundedQueue<Int>(capacity: 4)
        #expect(queue.oldestWaitNanoseconds == nil)
        for value in 0..<3 { queue.push(value) }
        #expect(queue.oldestWaitNanoseconds != nil)
        #expect(queue.removeAll() == 3)
        #expect(queue.depth == 0)
        #expect(queue.oldestWaitNanoseconds == nil)
        #expect(queue.dropped == 0)
        queue.push(7)
        queue.close()
        #expect(queue.pop() == 7)
        #expect(queue.pop() == nil)
    }

    @Test("Closing wakes a waiting consumer and refuses producers")
    func closeWakesConsumers() {
        let queue = BoundedQueue<Int>(capacity: 1)
        let done = DispatchSemaphore(value: 0)
        let consumer = Thread {
            #expect(queue.pop() == nil)
            done.signal()
        }
        consumer.start()
        usleep(50_000)
        queue.close()
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(queue.push(1) == false)
    }

    @Test("A timed pop returns nil when nothing arrives")
    func timedPop() {
        let queue = BoundedQueue<Int>(capacity: 1)
        #expect(queue.pop(timeout: 0.01) == nil)
        #expect(!queue.isClosedAndEmpty)
    }
}
