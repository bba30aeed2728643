import Foundation
import MediaIO
import Pipeline

/// One destination of encoded packets inside an `OutputSet`.
///
/// `willEncode` and `send` run on the thread of the encoder that feeds the
/// output (the pipeline's sink thread for recordings); outputs that talk to the
/// network must only queue there, never block.
protocol PacketOutput: AnyObject {
    var reporter: OutputReporter { get }
    /// Called before each picture is encoded, with its `pts`: the place to ask
    /// for a keyframe (a new segment must start on one).
    func willEncode(pts: Int64)
    func send(_ packet: EncodedPacket) throws
    /// Stops taking packets, so every output can wind down at once before `finish` waits.
    func closeInput()
    /// Writes what is left and closes; waits a bounded time for network peers.
    func finish() throws
}

extension PacketOutput {
    func willEncode(pts: Int64) {}
    func closeInput() {}
}

/// One file (or an HLS folder), written on the encoder's thread: a recording
/// loses nothing, and a failing disk is an error of the run.
final class FileOutput: PacketOutput {
    let reporter: OutputReporter
    private let muxer: PacketMuxer

    init(target: OutputTarget, stream: EncodedStreamFormat, events: (@Sendable (OutputEvent) -> Void)?) throws {
        reporter = OutputReporter(target: target.text, handler: events)
        if target.kind == .hls {
            let folder = (target.location as NSString).deletingLastPathComponent
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw MediaError("cannot write", folder, reason: "cannot make the folder: \(error.localizedDescription)")
            }
        }
        muxer = try PacketMuxer(target.location, stream: stream, output: target.output)
        reporter.update {
            $0.state = .active
            $0.currentFile = target.location
        }
    }

    func send(_ packet: EncodedPacket) throws {
        do {
            try muxer.write(packet)
        } catch {
            reporter.update {
                $0.state = .failed
                $0.lastError = "\(error)"
            }
            throw error
        }
        reporter.update {
            $0.packetsWritten += 1
            $0.bytesWritten += Int64(packet.size)
        }
    }

    func finish() throws {
        defer { reporter.update { if $0.state != .failed { $0.state = .finished } } }
        try muxer.finish()
    }
}
