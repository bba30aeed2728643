import Foundation
import Pipeline

/// Refuses, before anything is opened for writing, an output that is the input
/// itself: opening it would truncate the recording being read.
///
/// Names are not compared: `same.mkv`, `./same.mkv`, an absolute path, a
/// symbolic link or a hard link all name one file. The device and inode
/// numbers of what each path resolves to are.
package enum InputOverwriteGuard {
    /// - Parameters:
    ///   - inputs: files read (the thermal input, a visible input, a reference image);
    ///     URLs, devices and sequence patterns such as `frames/%05d.png` are fine to pass.
    ///   - outputs: files about to be written.
    /// - Throws: `PipelineError` naming both paths.
    package static func check(inputs: [String], outputs: [String]) throws {
        let readFiles = inputs.compactMap { path in identity(of: path).map { (path, $0) } }
        guard !readFiles.isEmpty else { return }
        for output in outputs {
            guard let written = identity(of: output) else { continue }
            if let (input, _) = readFiles.first(where: { $0.1 == written }) {
                let alias = input == output ? "" : " (the same file as '\(input)')"
                throw PipelineError("refusing to write '\(output)': it is the input\(alias), and writing would destroy it; choose another output name")
            }
        }
    }

    /// The output targets of `targets` that are plain files.
    package static func filePaths(of targets: [OutputTarget]) -> [String] {
        targets.filter { $0.kind == .file }.map(\.location)
    }

    private struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64
    }

    /// Device and inode of the regular file `path` resolves to (following links), or nil
    /// when there is none: a file still to be created cannot be the input.
    private static func identity(of path: String) -> FileIdentity? {
        guard !path.contains("://") else { return nil }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}
