import Capture
import Foundation

/// What happens to a live run's inputs, whichever kind they are: the thermal
/// input read through FFmpeg (a file or stream) or from a V4L2 camera, and the
/// visible input of a fusion. The service and `run` consume this one type and
/// turn it into sentences with one `InputNarrator`.
package enum InputEvent: Sendable {
    /// The thermal file or stream connected, was lost, or is being retried.
    case stream(LiveSourceEvent)
    /// The thermal V4L2 camera started, went away, came back or stopped.
    case camera(CaptureEvent)
    /// The visible file or stream of a fusion connected, was lost, or is being retried.
    case visible(LiveSourceEvent)
    /// Visible frames started (true) or stopped (false) pairing with thermal ones.
    case visiblePairing(Bool)
}

/// Turns a live run's input events into sentences, the same for the journal
/// and the terminal:
///
///     input connected: 640×512 rawvideo gray16le
///     input lost: timed out after 5 s
///     reconnecting in 2.0 s (attempt 2): Connection refused
///     camera /dev/video0 lost: no such device (ENODEV); retrying in 0.25 s
///     visible input rtsp://10.0.0.7/visible stalled; colouring thermal only
///
/// Camera sentences are `CaptureNarrator`'s (which also keeps a camera that
/// stays away from filling the log).
package final class InputNarrator: Sendable {
    package typealias Line = CaptureNarrator.Line

    /// How the connected line names the input.
    package enum Style: Sendable {
        /// `input connected: …`: the journal's start line already named the input.
        case journal
        /// `input rtsp://…: …`: a terminal line names what it is about.
        case terminal
    }

    /// The thermal input as the user named it.
    package let input: String
    /// The visible input of a fusion, if any.
    package let visible: String?
    package let style: Style
    private let camera: CaptureNarrator

    package init(input: String, visible: String? = nil, style: Style) {
        self.input = input
        self.visible = visible
        self.style = style
        camera = CaptureNarrator(devicePath: input)
    }

    /// The lines `event` makes; none for events not worth one.
    package func lines(for event: InputEvent) -> [Line] {
        switch event {
        case .camera(let event):
            return camera.lines(for: event)
        case .stream(.connected(let info)):
            let name = style == .journal ? "connected" : input
            return [Line(level: .info, text: "input \(name): \(info.width)×\(info.height) \(info.codec) \(info.pixelFormat)")]
        case .stream(.disconnected(let reason)):
            return [Line(level: .warning, text: "input lost: \(reason)")]
        case .stream(.retrying(let attempt, let delay, let reason)):
            return [Line(level: .notice, text: "reconnecting in \(Self.seconds(delay)) (attempt \(attempt)): \(reason)")]
        case .visible(.disconnected(let reason)):
            return [Line(level: .warning, text: "visible input lost: \(reason)")]
        case .visible:
            // Connects and retries of the visible input are told by the pairing they lead to.
            return []
        case .visiblePairing(let pairing):
            let name = visible ?? ""
            return [pairing ? Line(level: .notice, text: "visible input \(name) is back; fusing")
                            : Line(level: .warning, text: "visible input \(name) stalled; colouring thermal only")]
        }
    }

    /// "2.0 s", "12 s".
    package static func seconds(_ value: Double) -> String {
        value < 10 ? String(format: "%.1f s", value) : String(format: "%.0f s", value)
    }
}
