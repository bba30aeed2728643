import ArgumentParser
import Foundation
import Imaging
import MediaIO

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score fused images against their thermal and visible inputs with the VIFB benchmark's metrics.",
        discussion: """
        One image: --fused F.png --ir IR.png --vi VI.png. A folder of them, laid out as VIFB \
        lays out its results: --fused-dir DIR --ir-dir DIR --vi-dir DIR, where ir/NAME.jpg and \
        vi/NAME.jpg pair with NAME_METHOD.jpg (or NAME.png) in the fused folder; \
        --method-suffix _GFF picks one method, otherwise every NAME_* file is scored under its \
        suffix. Images are read as MATLAB's imread reads them (libjpeg's chroma upsampling), \
        so the values agree with VIFB's. Metric conventions are VIFB's; see docs/FUSION.md.
        """
    )

    @Option(help: "A fused image (single form).")
    var fused: String?

    @Option(help: "Its thermal (infrared) input.")
    var ir: String?

    @Option(help: "Its visible input.")
    var vi: String?

    @Option(help: "A folder of fused images (folder form).")
    var fusedDir: String?

    @Option(help: "The folder of thermal inputs, NAME.jpg/png.")
    var irDir: String?

    @Option(help: "The folder of visible inputs, same names.")
    var viDir: String?

    @Option(help: "Score only fused files named NAME<suffix>, e.g. _GFF.")
    var methodSuffix: String?

    @Option(help: "The method's name in the table and CSV (default: from the suffix or the fused folder's name).")
    var method: String?

    @Option(help: "Comma-separated metric names (default: all 13). \(FusionMetric.allCases.map(\.name).joined(separator: ", ")).")
    var metrics: String?

    @Option(help: "Write every value as CSV: image,method,metric,value (VIFB's layout).")
    var csv: String?

    @Option(help: "Write a PNG with the thermal, visible and fused images side by side, one row per image.")
    var contactSheet: String?

    @Option(help: "Thumbnail height in the contact sheet, in pixels.")
    var tileHeight = 180

    @Flag(name: .shortAndLong, help: "No progress line.")
    var quiet = false

    func validate() throws {
        let single = [fused, ir, vi].contains { $0 != nil }
        let folder = [fusedDir, irDir, viDir].contains { $0 != nil }
        guard single != folder else {
            throw ValidationError("give --fused, --ir and --vi for one image, or --fused-dir, --ir-dir and --vi-dir for a folder")
        }
        if single, fused == nil || ir == nil || vi == nil {
            throw ValidationError("the single form needs all of --fused, --ir and --vi")
        }
        if folder, fusedDir == nil || irDir == nil || viDir == nil {
            throw ValidationError("the folder form needs all of --fused-dir, --ir-dir and --vi-dir")
        }
        if single, methodSuffix != nil { throw ValidationError("--method-suffix is for the folder form") }
        guard tileHeight >= 8 else { throw ValidationError("--tile-height must be at least 8") }
        _ = try chosenMetrics()
    }

    func chosenMetrics() throws -> [FusionMetric] {
        guard let metrics, metrics.lowercased() != "all" else { return FusionMetric.allCases }
        var chosen: [FusionMetric] = []
        for name in metrics.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let metric = FusionMetric.allCases.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                throw ValidationError("unknown metric '\(name)'; choose from \(FusionMetric.allCases.map(\.name).joined(separator: ", "))")
            }
            if !chosen.contains(metric) { chosen.append(metric) }
        }
        guard !chosen.isEmpty else { throw ValidationError("--metrics names no metric") }
        return chosen
    }

    func run() throws {
        let metrics = try chosenMetrics()
        let cases: [EvaluationCase]
        if let fused, let ir, let vi {
            cases = [EvaluationCase.single(fused: fused, infrared: ir, visible: vi, method: method)]
        } else {
            cases = try EvaluationCase.folder(fused: fusedDir!, infrared: irDir!, visible: viDir!,
                                              suffix: methodSuffix, method: method)
        }
        let showProgress = !quiet && cases.count > 1 && isatty(STDERR_FILENO) == 1
        var results: [EvaluationResult] = []
        var sheetRows: [ContactSheet.Row] = []
        var loadedSources: (image: String, infrared: Raster<UInt8>, visible: Raster<UInt8>)?
        for (index, item) in cases.enumerated() {
            if showProgress {
                FileHandle.standardError.write(Data("\r\u{1B}[K[\(index + 1)/\(cases.count)] \(item.image) \(item.method)".utf8))
            }
            defer { if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
            // Folder cases come sorted by image, so each pair of inputs is read once.
            if loadedSources?.image != item.image {
                loadedSources = (item.image, try ImageFile.readLikeImread(item.infrared), try ImageFile.readLikeImread(item.visible))
                if contactSheet != nil {
                    sheetRows.append(ContactSheet.Row(title: item.image, tiles: [
                        ContactSheet.Tile(label: "thermal", image: ContactSheet.thumbnail(loadedSources!.infrared, height: tileHeight)),
                        ContactSheet.Tile(label: "visible", image: ContactSheet.thumbnail(loadedSources!.visible, height: tileHeight)),
                    ]))
                }
            }
            let (_, infrared, visible) = loadedSources!
            let fusedImage = try ImageFile.readLikeImread(item.fused)
            try item.checkSizes(fused: fusedImage, infrared: infrared, visible: visible)
            let values = try FusionMetrics.evaluate(fused: fusedImage, infrared: infrared, visible: visible, metrics: metrics)
            results.append(EvaluationResult(image: item.image, method: item.method, values: values))
            if contactSheet != nil {
                sheetRows[sheetRows.count - 1].tiles.append(
                    ContactSheet.Tile(label: item.method, image: ContactSheet.thumbnail(fusedImage, height: tileHeight)))
            }
        }

        print(EvaluationTable.render(results, metrics: metrics))
        if let csv {
            try write(EvaluationTable.csv(results, metrics: metrics), to: csv)
            print("wrote \(csv)")
        }
        if let contactSheet {
            try ImageFile.writePNG(ContactSheet.render(sheetRows, tileHeight: tileHeight), to: contactSheet)
            print("wrote \(contactSheet)")
        }
    }

    private func write(_ text: String, to path: String) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CommandFailure("cannot write '\(path)': \((error as NSError).localizedFailureReason ?? error.localizedDescription)")
        }
    }
}

/// A failure worth one plain line (bad files, mismatched inputs), without usage text.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One fused image with its two inputs.
struct EvaluationCase: Equatable {
    var image: String
    var method: String
    var fused: String
    var infrared: String
    var visible: String

    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp"]

    static func single(fused: String, infrared: String, visible: String, method: String?) -> EvaluationCase {
        let image = stem(of: infrared)
        let fusedStem = stem(of: fused)
        // NAME_METHOD.png names its method; anything else is just "fused".
        var derived = "fused"
        if fusedStem.hasPrefix(image + "_"), fusedStem.count > image.count + 1 {
            derived = String(fusedStem.dropFirst(image.count + 1))
        }
        return EvaluationCase(image: image, method: method ?? derived, fused: fused, infrared: infrared, visible: visible)
    }

    /// Pairs every thermal image with its visible and fused images, sorted by
    /// image name then method; any thermal image lacking a partner is an error.
    static func folder(fused fusedFolder: String, infrared infraredFolder: String, visible visibleFolder: String,
                       suffix: String?, method: String?) throws -> [EvaluationCase] {
        let infrared = try images(in: infraredFolder, role: "thermal")
        guard !infrared.isEmpty else { throw CommandFailure("no images in the thermal folder '\(infraredFolder)'") }
        let visible = try images(in: visibleFolder, role: "visible")
        let fused = try images(in: fusedFolder, role: "fused")
        let folderName = URL(fileURLWithPath: fusedFolder).standardizedFileURL.lastPathComponent

        var missingVisible: [String] = [], missingFused: [String] = []
        var cases: [EvaluationCase] = []
        let names = infrared.keys.sorted()
        var fusedByImage: [String: [(method: String, path: String)]] = [:]
        if let suffix {
            let label = method ?? {
                let trimmed = suffix.drop { $0 == "_" || $0 == "-" }
                return trimmed.isEmpty ? folderName : String(trimmed)
            }()
            for name in names {
                if let path = fused[name + suffix] { fusedByImage[name] = [(label, path)] }
            }
        } else {
            // A fused stem belongs to the longest image name it equals or
            // starts with followed by '_' ("man_GFF" is man's, not manCall's).
            for (stem, path) in fused {
                let owner = names.filter { stem == $0 || stem.hasPrefix($0 + "_") }.max { $0.count < $1.count }
                guard let owner else { continue }
                let label = stem == owner ? (method ?? folderName) : (method ?? String(stem.dropFirst(owner.count + 1)))
                fusedByImage[owner, default: []].append((label, path))
            }
        }
        for name in names {
            guard let visiblePath = visible[name] else {
                missingVisible.append(name)
                continue
            }
            guard let found = fusedByImage[name], !found.isEmpty else {
                missingFused.append(name)
                continue
            }
            for entry in found.sorted(by: { $0.method < $1.method }) {
                cases.append(EvaluationCase(image: name, method: entry.method, fused: entry.path,
                                            infrared: infrared[name]!, visible: visiblePath))
            }
        }
        if !missingVisible.isEmpty {
            throw CommandFailure("no visible image in '\(visibleFolder)' for \(listed(missingVisible)) (thermal images in '\(infraredFolder)')")
        }
        if !missingFused.isEmpty {
            let pattern = suffix.map { "NAME\($0)" } ?? "NAME or NAME_METHOD"
            throw CommandFailure("no fused image (\(pattern)) in '\(fusedFolder)' for \(listed(missingFused))")
        }
        return cases
    }

    /// Image files of `folder` by file stem.
    private static func images(in folder: String, role: String) throws -> [String: String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw CommandFailure("the \(role) folder '\(folder)' does not exist")
        }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw CommandFailure("cannot list the \(role) folder '\(folder)': \((error as NSError).localizedDescription)")
        }
        var byStem: [String: String] = [:]
        for entry in entries.sorted() where imageExtensions.contains((entry as NSString).pathExtension.lowercased()) {
            let stem = (entry as NSString).deletingPathExtension
            // Two files with one stem (a.jpg, a.png): the first in sorted order wins.
            if byStem[stem] == nil { byStem[stem] = (folder as NSString).appendingPathComponent(entry) }
        }
        return byStem
    }

    private static func stem(of path: String) -> String {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    private static func listed(_ names: [String]) -> String {
        let shown = names.prefix(5).joined(separator: ", ")
        return names.count > 5 ? "\(names.count) names (\(shown), …)" : shown
    }

    /// All three must share one size: metrics compare pixel by pixel.
    func checkSizes(fused: Raster<UInt8>, infrared: Raster<UInt8>, visible: Raster<UInt8>) throws {
        func size(_ image: Raster<UInt8>) -> String { "\(image.width)×\(image.height)" }
        guard fused.width == infrared.width, fused.height == infrared.height,
              visible.width == infrared.width, visible.height == infrared.height else {
            throw CommandFailure("\(image): sizes differ: fused '\(self.fused)' is \(size(fused)), thermal '\(self.infrared)' is "
                + "\(size(infrared)), visible '\(self.visible)' is \(size(visible))")
        }
        guard fused.width >= 11, fused.height >= 11 else {
            throw CommandFailure("\(image): \(size(fused)) is too small for the metrics (SSIM needs 11×11)")
        }
    }
}

struct EvaluationResult {
    var image: String
    var method: String
    var values: FusionMetrics
}

/// The printed table and the CSV.
enum EvaluationTable {
    /// One row per image and method, then the mean of each method; values to
    /// five significant digits, as VIFB prints them.
    static func render(_ results: [EvaluationResult], metrics: [FusionMetric]) -> String {
        var rows: [[String]] = [["image", "method"] + metrics.map(\.name)]
        for result in results {
            rows.append([result.image, result.method] + metrics.map { format(result.values[$0]) })
        }
        let methods = results.map(\.method).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if results.count > 1 {
            for method in methods {
                let subset = results.filter { $0.method == method }
                rows.append(["mean (\(subset.count))", method] + metrics.map { metric in
                    format(mean(subset.compactMap { $0.values[metric] }))
                })
            }
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines: [String] = []
        for (index, row) in rows.enumerated() {
            if index == rows.count - methods.count, results.count > 1 {
                lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
            }
            let cells = row.enumerated().map { column, cell in
                // Names left-aligned, numbers right-aligned.
                column < 2 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }
            lines.append(cells.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
        let lowerIsBetter = metrics.filter { !$0.higherIsBetter }.map(\.name)
        if !lowerIsBetter.isEmpty {
            lines.append("lower is better for \(lowerIsBetter.joined(separator: ", ")); higher for the rest")
        }
        return lines.joined(separator: "\n")
    }

    static func csv(_ results: [EvaluationResult], metrics: [FusionMetric]) -> String {
        var lines = ["image,method,metric,value"]
        for result in results {
            for metric in metrics {
                lines.append("\(result.image),\(result.method),\(metric.name),\(result.values[metric].map { "\($0)" } ?? "nan")")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func format(_ value: Double?) -> String {
        guard let value else { return "-" }
        guard value.isFinite else { return "\(value)" }
        return String(format: "%.5g", value)
    }

    private static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
}
