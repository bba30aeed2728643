import Pipeline
import Testing

@Suite("One narrator for every kind of input, on the terminal and in the journal")
struct InputNarratorTests {
    @Test("A stream's loss and retries read the same in both styles")
    func streamLines() {
        for style in [InputNarrator.Style.journal, .terminal] {
            let narrator = InputNarrator(input: "rtsp://127.0.0.1:8554/cam", style: style)
            #expect(narrator.lines(for: .stream(.disconnected(reason: "timed out after 5 s"))).map(\.text)
                == ["input lost: timed out after 5 s"])
            let retry = narrator.lines(for: .stream(.retrying(attempt: 2, delay: 2, reason: "Connection refused")))
            #expect(retry.map(\.text) == ["reconnecting in 2.0 s (attempt 2): Connection refused"])
            #expect(retry.map(\.level) == [.notice])
        }
    }

    @Test("A camera is told as capture tells it: a loss with the retry that follows")
    func cameraLines() {
        let narrator = InputNarrator(input: "/dev/video0", style: .terminal)
        #expect(narrator.lines(for: .camera(.disconnected(reason: "no such device (ENODEV)"))).isEmpty)
        let lines = narrator.lines(for: .camera(.reconnecting(attempt: 1, delay: .milliseconds(250), lastError: "gone")))
        #expect(lines.map(\.text) == ["camera /dev/video0 lost: no such device (ENODEV); retrying in 0.25 s"])
        #expect(lines.map(\.level) == [.warning])
    }

    @Test("A visible input says when it is lost and when fusion stops and starts again")
    func visibleLines() {
        let narrator = InputNarrator(input: "thermal.mkv", visible: "visible.mkv", style: .terminal)
        #expect(narrator.lines(for: .visible(.disconnected(reason: "end of file"))).map(\.text) == ["visible input lost: end of file"])
        #expect(narrator.lines(for: .visible(.retrying(attempt: 1, delay: 0.5, reason: "end of file"))).isEmpty)
        #expect(narrator.lines(for: .visiblePairing(false)).map(\.text) == ["visible input visible.mkv stalled; colouring thermal only"])
        #expect(narrator.lines(for: .visiblePairing(true)).map(\.text) == ["visible input visible.mkv is back; fusing"])
    }
}
