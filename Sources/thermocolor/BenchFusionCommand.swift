import ArgumentParser
import Imaging

struct BenchFusionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-fusion",
        abstract: "Time each fusion method, colour transfer and the registration warp on a synthetic frame pair.",
        discussion: """
        Every line gives milliseconds and frames per second, and its cost relative to a baseline \
        measured in the same run (one RGB → luma → RGB pass over the frame), so results from \
        different machines or loads compare by ratio. Build with -c release for meaningful numbers.
        """
    )

    @Option(help: "Frame size, WIDTHxHEIGHT.")
    var size = "640x512"

    @Option(help: "Frames timed per measurement.")
    var frames = 200

    func run() throws {
        let (width, height) = try parseSize(size)
        guard frames > 0 else { throw ValidationError("--frames must be positive") }
        guard width >= 8, height >= 8 else { throw ValidationError("--size must be at least 8x8") }
        print(FusionBenchmark.run(width: width, height: height, frames: frames))
    }
}
