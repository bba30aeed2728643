import ArgumentParser
import Capture

/// `thermocolor devices`: what cameras this machine has and what they can
/// deliver, to choose `--input` and `--camera-profile` from.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List V4L2 video devices with name, driver, formats, sizes and frame rates.",
        discussion: """
            With no arguments, lists every /dev/videoN node (and prints a note when there \
            is none). Each camera shows its /dev/v4l/by-id name, which is the best --input \
            for a USB camera since it survives replugging, and the camera profile capture \
            would choose for it (\(CameraProfile.names.joined(separator: ", "))). Each format \
            capture can read gets one line with its sizes and the fastest rate of each, and \
            the mode capture takes when `run` is given no --camera-size, --camera-format or \
            --camera-fps; --all adds the formats capture cannot read.
            """
    )

    @Argument(help: "Device paths to describe instead of every /dev/videoN node.")
    var paths: [String] = []

    @Flag(help: "List every format the driver offers, also those capture cannot read.")
    var all = false

    func run() throws {
        let devices = paths.isEmpty
            ? listVideoDevices()
            : listVideoDevices(paths: paths, opener: LibV4L2Opener())
        print(videoDeviceListing(devices, all: all))
        // Naming a device that cannot be read is an error; an empty machine is not.
        if !paths.isEmpty, devices.contains(where: { $0.capabilities == nil }) {
            throw ExitCode.failure
        }
    }
}
