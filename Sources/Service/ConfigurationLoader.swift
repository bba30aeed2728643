import Capture
import Foundation
import Imaging
import Inference
import Logging
import MediaIO
import Pipeline
import TOMLKit

/// One thing wrong with a configuration file, tied to the key that holds it.
package struct ConfigurationProblem: Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the key, e.g. `processing.palette` or `outputs[1].url`; empty for the file as a whole.
    package var key: String
    package var message: String

    package init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    /// `processing.palette: unknown palette 'sepia' (choose one of …)`.
    package var description: String { key.isEmpty ? message : "\(key): \(message)" }
}

/// Every problem found in a configuration file, one per line when printed.
package struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    package var file: String
    package var problems: [ConfigurationProblem]

    package init(file: String, problems: [ConfigurationProblem]) {
        self.file = file
        self.problems = problems
    }

    package var description: String {
        problems.count == 1
            ? "\(file): \(problems[0])"
            : "\(file): \(problems.count) problems\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// Reads and validates the service's TOML configuration.
///
/// Validation collects every problem rather than stopping at the first, and
/// treats an unknown key as a problem: a misspelt `pallete` would otherwise
/// be ignored in silence and the default used.
package enum ConfigurationLoader {
    /// Reads `path`. Relative paths inside the file (recordings, model, a file
    /// input) are taken relative to the file's folder.
    package static func load(path: String) throws(ConfigurationError) -> ServiceConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            var isFolder: ObjCBool = false
            let reason: String
            if !FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
                reason = "no such file"
            } else if isFolder.boolValue {
                reason = "is a directory, not a configuration file"
            } else if !FileManager.default.isReadableFile(atPath: path) {
                reason = "permission denied"
            } else {
                reason = "cannot be read as UTF-8 text"
            }
            throw ConfigurationError(file: path, problems: [ConfigurationProblem(key: "", message: reason)])
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, file: path, baseFolder: folder)
    }

    /// Parses TOML text; `file` only names it in errors.
    package static func parse(_ text: String, file: String = "configuration",
                             baseFolder: String? = nil) throws(ConfigurationError) -> ServiceConfiguration {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let position = error.source.begin
            throw ConfigurationError(file: file, problems: [
                ConfigurationProblem(key: "", message: "line \(position.line), column \(position.column): \(error.description)"),
            ])
        } catch {
            throw ConfigurationError(file: file, problems: [ConfigurationProblem(key: "", message: "\(error)")])
        }
        let problems = ProblemList()
        let reader = TableReader(root, path: "", problems: problems)
        let configuration = ConfigurationBuilder(baseFolder: baseFolder, problems: problems).build(reader)
        guard problems.items.isEmpty, let configuration else {
            throw ConfigurationError(file: file, problems: problems.items)
        }
        return configuration
    }
}

/// Turns checked TOML values into a `ServiceConfiguration`.
private struct ConfigurationBuilder {
    let baseFolder: String?
    let problems: ProblemList

    func build(_ root: TableReader) -> ServiceConfiguration? {
        let source = root.table("source", required: true).flatMap(buildSource)
        let processing = root.table("processing").map(buildProcessing) ?? ProcessingConfiguration()
        let outputs = buildOutputs(root)
        let service = root.table("service").map(buildService) ?? ServiceSettings()
        root.rejectUnknownKeys()
        guard let source else { return nil }
        return ServiceConfiguration(source: source, processing: processing, outputs: outputs, service: service)
    }

    private func buildSource(_ table: TableReader) -> SourceConfiguration? {
        let input = table.string("input", required: true, help: "the camera device, file or stream URL to read")
        var options = InputOptions(ioTimeout: 5)
        options.format = table.string("format")
        if let pairs = table.table("options") {
            options.options = pairs.scalarDictionary()
        }
        options.ioTimeout = table.double("io_timeout", in: 0.1...600) ?? 5
        options.decoderThreads = table.int("decoder_threads", in: 0...64) ?? 0
        let profile = table.string("camera_profile")
        if let profile, CameraProfile.named(profile) == nil {
            problems.add(table.key("camera_profile"), "unknown camera profile '\(profile)' (choose one of \(CameraProfile.names.joined(separator: ", ")))")
        }
        var cameraSize: FrameSize?
        if let text = table.string("camera_size") {
            cameraSize = FrameSize(parsing: text)
            if cameraSize == nil { problems.add(table.key("camera_size"), "'\(text)' is not WIDTHxHEIGHT, such as \"640x480\"") }
        }
        var cameraFormat: PixelFormat?
        if let text = table.string("camera_format") {
            cameraFormat = PixelFormat(cameraFormat: text)
            if cameraFormat == nil {
                problems.add(table.key("camera_format"), "unknown camera format '\(text)' (choose one of \(PixelFormat.cameraFormats.map(\.description).joined(separator: ", ")))")
            }
        }
        // `fps` is the older name of `camera_fps`.
        let cameraFPS = table.double("camera_fps", in: 0.1...1000)
        let olderFPS = table.double("fps", in: 0.1...1000)
        if cameraFPS != nil, olderFPS != nil {
            problems.add(table.key("fps"), "is the older name of camera_fps; give only camera_fps")
        }
        let fps = cameraFPS ?? olderFPS
        if !V4L2Capture.isDevicePath(input ?? "/dev/video"), cameraSize != nil || cameraFormat != nil || cameraFPS != nil {
            problems.add(table.key(cameraSize != nil ? "camera_size" : cameraFormat != nil ? "camera_format" : "camera_fps"),
                         "applies to V4L2 cameras (/dev/video…, /dev/v4l/…); input is not one")
        }
        let realtime = table.bool("realtime") ?? false
        let loop = table.bool("loop") ?? false
        let reconnectDelay = table.double("reconnect_delay", in: 0.1...60) ?? 0.5
        table.rejectUnknownKeys()
        guard let input else { return nil }
        if input.isEmpty {
            problems.add(table.key("input"), "is empty; name a device (/dev/video0), a file or a stream URL")
            return nil
        }
        return SourceConfiguration(input: resolveInput(input), inputOptions: options, cameraProfile: profile,
                                   cameraSize: cameraSize, cameraFormat: cameraFormat, framesPerSecond: fps, realtime: realtime, loop: loop, reconnectDelay: reconnectDelay)
    }

    private func buildProcessing(_ table: TableReader) -> ProcessingConfiguration {
        var classic = ClassicSettings()
        if let name = table.string("palette") {
            if let palette = Palette.named(name) {
                classic.palette = palette
            } else {
                problems.add(table.key("palette"), "unknown palette '\(name)' (choose one of \(Palette.all.map(\.name).joined(separator: ", ")))")
            }
        }
        if let mode = table.string("agc") {
            if let parsed = GainControlMode(rawValue: mode) {
                classic.gainControl = parsed
            } else {
                problems.add(table.key("agc"), "unknown gain control '\(mode)' (choose one of \(GainControlMode.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        classic.tailRejection = table.double("tail_rejection", in: 0...0.49) ?? classic.tailRejection
        classic.plateauLimit = table.double("plateau_limit", in: 0.1...1000) ?? classic.plateauLimit
        classic.smoothing = table.double("smoothing", in: 0...0.99) ?? classic.smoothing
        classic.stretchEightBit = table.bool("stretch_8bit") ?? classic.stretchEightBit

        var processing = ProcessingConfiguration(classic: classic)
        if let model = table.string("model") {
            var folder = resolvePath(model)
            var isFolder: ObjCBool = false
            if !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) || !isFolder.boolValue {
                if model.contains("/") {
                    problems.add(table.key("model"), "no model bundle folder at '\(folder)'")
                } else {
                    // A plain name ("road-colorizer") is a bundle on the model search path.
                    do {
                        folder = try ModelSearchPath.standard().resolve(model, what: "model bundle").path
                    } catch {
                        problems.add(table.key("model"), "\(error)")
                    }
                }
            }
            processing.model = folder
        }
        if let clip = table.string("clip") {
            let folder = resolvePath(clip)
            var isFolder: ObjCBool = false
            if !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) || !isFolder.boolValue {
                problems.add(table.key("clip"), "no CLIP bundle folder at '\(folder)'")
            }
            processing.clip = folder
        }
        if let reference = table.string("reference") {
            let path = resolvePath(reference)
            var isFolder: ObjCBool = false
            if !FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) || isFolder.boolValue {
                problems.add(table.key("reference"), "no reference picture at '\(path)'")
            } else {
                let attributes = try? FileManager.default.attributesOfItem(atPath: path)
                let size = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
                let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                processing.referenceStamp = "\(size) bytes, modified \(modified)"
            }
            processing.reference = path
        }
        if let encoder = table.string("text_encoder") {
            var folder = resolvePath(encoder)
            var isFolder: ObjCBool = false
            var found = true
            if !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) || !isFolder.boolValue {
                if encoder.contains("/") {
                    problems.add(table.key("text_encoder"), "no text encoder folder at '\(folder)'")
                    found = false
                } else {
                    do {
                        folder = try ModelSearchPath.standard().resolve(encoder, what: "text encoder").path
                    } catch {
                        problems.add(table.key("text_encoder"), "\(error)")
                        found = false
                    }
                }
            }
            // One problem per key: a missing folder says it all.
            if found { processing.textEncoder = folder }
        }
        processing.prompt = table.string("prompt")
        processing.batch = table.int("batch", in: 1...64) ?? 1
        if let device = table.string("device") {
            if ServiceVocabulary.isOpenVINODevice(device) {
                processing.device = device
            } else {
                problems.add(table.key("device"), "unknown OpenVINO device '\(device)' (use CPU, GPU, GPU.1, NPU or AUTO)")
            }
        }
        // The rules that tie the settings together are the stage recipe's, the same as the command line's.
        for problem in processing.recipe.problems() {
            let key = table.key(String(problem.setting.configurationKey.dropFirst("processing.".count)))
            // One problem per key: a missing folder already says what is wrong there.
            guard !problems.items.contains(where: { $0.key == key }) else { continue }
            problems.add(key, problem.message(naming: \.configurationKey))
        }
        table.rejectUnknownKeys()
        return processing
    }

    private func buildOutputs(_ root: TableReader) -> [OutputConfiguration] {
        guard let entries = root.arrayOfTables("outputs") else {
            if root.has("outputs") == false {
                problems.add("outputs", "missing; add at least one [[outputs]] table (a recording or a stream)")
            }
            return []
        }
        if entries.isEmpty {
            problems.add("outputs", "is empty; add at least one [[outputs]] table (a recording or a stream)")
        }
        return entries.compactMap(buildOutput)
    }

    private func buildOutput(_ table: TableReader) -> OutputConfiguration? {
        let type = table.string("type", required: true, help: "\"recording\" or \"stream\"")
        var encoder = EncoderSettings.lowLatency(frameRate: 30)
        encoder.keyframeInterval = nil
        if let codecName = table.string("codec") {
            let choices = [VideoCodec.h264, .hevc, .mjpeg]
            if let codec = VideoCodec(rawValue: codecName), choices.contains(codec) {
                if codec.isAvailable {
                    encoder.codec = codec
                } else {
                    problems.add(table.key("codec"), "this FFmpeg build has no encoder for \(codecName)")
                }
            } else {
                problems.add(table.key("codec"), "unknown codec '\(codecName)' (choose one of \(choices.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        if let bitrate = table.string("bitrate") {
            if let bits = parseQuantity(bitrate), bits >= 10_000 {
                encoder.bitrate = Int(bits)
            } else {
                problems.add(table.key("bitrate"), "'\(bitrate)' is not a bitrate like 4M or 800k")
            }
        }
        encoder.crf = table.int("crf", in: 0...51)
        if let preset = table.string("preset") {
            let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]
            if presets.contains(preset) {
                encoder.preset = preset
            } else {
                problems.add(table.key("preset"), "unknown preset '\(preset)' (choose one of \(presets.joined(separator: ", ")))")
            }
        }
        encoder.keyframeInterval = table.int("keyframe_interval", in: 1...1000)

        let output: OutputConfiguration?
        switch type {
        case "recording":
            output = buildRecording(table, encoder: encoder)
        case "stream":
            output = buildStream(table, encoder: encoder)
        case let other?:
            problems.add(table.key("type"), "unknown output type '\(other)' (use \"recording\" or \"stream\")")
            output = nil
        case nil:
            output = nil
        }
        table.rejectUnknownKeys()
        return output
    }

    private func buildRecording(_ table: TableReader, encoder: EncoderSettings) -> OutputConfiguration? {
        let directory = table.string("directory", required: true, help: "the folder that receives the segments")
        let segmentSeconds = table.double("segment_seconds", in: 1...86_400) ?? 300
        let maxSegments = table.int("max_segments", in: 1...1_000_000)
        var maxBytes: Int64?
        if let size = table.string("max_size") {
            if let bytes = parseQuantity(size, binary: true), bytes >= 1_048_576 {
                maxBytes = Int64(bytes)
            } else {
                problems.add(table.key("max_size"), "'\(size)' is not a size of at least 1M like 500M or 20G")
            }
        }
        var container = "mp4"
        if let name = table.string("container") {
            switch name {
            case "mp4": container = "mp4"
            case "mkv", "matroska": container = "matroska"
            case "ts", "mpegts": container = "mpegts"
            default: problems.add(table.key("container"), "unknown container '\(name)' (use mp4, mkv or ts)")
            }
        }
        guard let directory else { return nil }
        if directory.isEmpty {
            problems.add(table.key("directory"), "is empty")
            return nil
        }
        return .recording(RecordingOutput(directory: resolvePath(directory), segmentSeconds: segmentSeconds,
                                          maxSegments: maxSegments, maxBytes: maxBytes, container: container, encoder: encoder))
    }

    private func buildStream(_ table: TableReader, encoder: EncoderSettings) -> OutputConfiguration? {
        let url = table.string("url", required: true, help: "where to send the stream, e.g. rtsp://127.0.0.1:8554/thermal")
        var format = table.string("format")
        if let given = format, !["rtsp", "rtp_mpegts", "mpegts", "flv"].contains(given) {
            problems.add(table.key("format"), "unknown stream format '\(given)' (use rtsp, mpegts, rtp_mpegts or flv)")
            format = nil
        }
        guard let url else { return nil }
        let schemes: [String: String] = ["rtsp": "rtsp", "rtsps": "rtsp", "rtmp": "flv", "rtmps": "flv",
                                         "srt": "mpegts", "udp": "mpegts", "tcp": "mpegts", "rtp": "rtp_mpegts"]
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), let muxer = schemes[scheme] else {
            problems.add(table.key("url"), "'\(url)' is not a stream URL (use rtsp://, rtmp://, srt://, udp:// or rtp://)")
            return nil
        }
        guard let host = parsed.host, !host.isEmpty else {
            problems.add(table.key("url"), "'\(url)' names no host")
            return nil
        }
        if parsed.port == nil, !["rtsp", "rtsps", "rtmp", "rtmps"].contains(scheme) {
            problems.add(table.key("url"), "'\(url)' needs a port for \(scheme)://")
            return nil
        }
        return .stream(StreamOutput(url: url, format: format ?? muxer, encoder: encoder))
    }

    private func buildService(_ table: TableReader) -> ServiceSettings {
        var settings = ServiceSettings()
        if let address = table.string("metrics_address") {
            if address.isEmpty || address == "off" {
                settings.metricsAddress = nil
            } else if let parsed = SocketAddressText(parsing: address) {
                settings.metricsAddress = parsed
            } else {
                problems.add(table.key("metrics_address"), "'\(address)' is not HOST:PORT with a literal address (e.g. 127.0.0.1:9464 or [::1]:9464), nor \"off\"")
            }
        }
        if let level = table.string("log_level") {
            if let parsed = Logger.Level(rawValue: level) {
                settings.logLevel = parsed
            } else {
                problems.add(table.key("log_level"), "unknown level '\(level)' (choose one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        settings.statusInterval = table.double("status_interval", in: 0.5...3600) ?? settings.statusInterval
        settings.stopTimeout = table.double("stop_timeout", in: 1...600) ?? settings.stopTimeout
        settings.healthTimeout = table.double("health_timeout", in: 0.1...3600) ?? settings.healthTimeout
        table.rejectUnknownKeys()
        return settings
    }

    /// Relative paths are taken from the configuration file's folder, not from
    /// the working directory (which is `/` under systemd).
    private func resolvePath(_ path: String) -> String {
        guard let baseFolder, !path.hasPrefix("/") else { return path }
        return URL(fileURLWithPath: baseFolder, isDirectory: true).appendingPathComponent(path).standardized.path
    }

    /// URLs (`rtsp://…`) and FFmpeg patterns stay as written; a relative file name is resolved.
    private func resolveInput(_ input: String) -> String {
        input.contains("://") || input.hasPrefix("/") ? input : resolvePath(input)
    }
}

/// Names the configuration accepts that no other module lists.
enum ServiceVocabulary {
    /// CPU, GPU, GPU.0, NPU, AUTO, AUTO:GPU,CPU, HETERO:…, MULTI:…
    static func isOpenVINODevice(_ name: String) -> Bool {
        let plain = ["CPU", "GPU", "NPU", "AUTO"]
        if plain.contains(name) { return true }
        if name.hasPrefix("GPU."), let index = Int(name.dropFirst(4)), index >= 0 { return true }
        for prefix in ["AUTO:", "HETERO:", "MULTI:"] where name.hasPrefix(prefix) {
            let parts = name.dropFirst(prefix.count).split(separator: ",").map(String.init)
            return !parts.isEmpty && parts.allSatisfy(isOpenVINODevice)
        }
        return false
    }
}

/// "4M" → 4_000_000, "800k" → 800_000; with `binary`, "20G" → 20 GiB.
func parseQuantity(_ text: String, binary: Bool = false) -> Double? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard let last = trimmed.last else { return nil }
    let base: Double = binary ? 1024 : 1000
    let exponents: [Character: Double] = ["k": 1, "K": 1, "m": 2, "M": 2, "g": 3, "G": 3, "t": 4, "T": 4]
    let exponent = exponents[last]
    let digits = exponent == nil ? trimmed : String(trimmed.dropLast())
    guard let value = Double(digits), value.isFinite, value > 0 else { return nil }
    return value * pow(base, exponent ?? 0)
}

/// Problems found so far; shared by every reader of one document.
final class ProblemList {
    private(set) var items: [ConfigurationProblem] = []
    func add(_ key: String, _ message: String) { items.append(ConfigurationProblem(key: key, message: message)) }
}

/// Typed access to one TOML table that remembers which keys were read, so
/// the rest can be reported as unknown.
final class TableReader {
    private let table: TOMLTable
    private let path: String
    private let problems: ProblemList
    private var used: Set<String> = []

    init(_ table: TOMLTable, path: String, problems: ProblemList) {
        self.table = table
        self.path = path
        self.problems = problems
    }

    /// The dotted path of `name` in this table.
    func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    func has(_ name: String) -> Bool { table[name] != nil }

    private func value(_ name: String, required: Bool, help: String?) -> TOMLValueConvertible? {
        used.insert(name)
        guard let value = table[name] else {
            if required { problems.add(key(name), "missing" + (help.map { " (\($0))" } ?? "")) }
            return nil
        }
        return value
    }

    private func wrongType(_ name: String, _ value: TOMLValueConvertible, expected: String) {
        problems.add(key(name), "expected \(expected), found \(Self.describe(value))")
    }

    func string(_ name: String, required: Bool = false, help: String? = nil) -> String? {
        guard let value = value(name, required: required, help: help) else { return nil }
        guard let string = value.string else { wrongType(name, value, expected: "a string"); return nil }
        return string
    }

    func bool(_ name: String) -> Bool? {
        guard let value = value(name, required: false, help: nil) else { return nil }
        guard let bool = value.bool else { wrongType(name, value, expected: "true or false"); return nil }
        return bool
    }

    func int(_ name: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = value(name, required: false, help: nil) else { return nil }
        guard let int = value.int else { wrongType(name, value, expected: "a whole number"); return nil }
        guard range.contains(int) else {
            problems.add(key(name), "\(int) is out of range (\(range.lowerBound)–\(range.upperBound))")
            return nil
        }
        return int
    }

    /// Accepts integers too: `segment_seconds = 60` means 60.0.
    func double(_ name: String, in range: ClosedRange<Double>) -> Double? {
        guard let value = value(name, required: false, help: nil) else { return nil }
        guard let number = value.double ?? value.int.map(Double.init) else {
            wrongType(name, value, expected: "a number"); return nil
        }
        guard range.contains(number) else {
            problems.add(key(name), "\(Self.format(number)) is out of range (\(Self.format(range.lowerBound))–\(Self.format(range.upperBound)))")
            return nil
        }
        return number
    }

    func table(_ name: String, required: Bool = false) -> TableReader? {
        guard let value = value(name, required: required, help: nil) else { return nil }
        guard let table = value.table else { wrongType(name, value, expected: "a table"); return nil }
        return TableReader(table, path: key(name), problems: problems)
    }

    /// `[[name]]` entries; nil when absent or of the wrong kind (reported).
    func arrayOfTables(_ name: String) -> [TableReader]? {
        guard let value = value(name, required: false, help: nil) else { return nil }
        guard let array = value.array else { wrongType(name, value, expected: "an array of tables ([[\(name)]])"); return nil }
        var readers: [TableReader] = []
        for (index, element) in array.enumerated() {
            guard let table = element.table else {
                problems.add("\(key(name))[\(index)]", "expected a table, found \(Self.describe(element))")
                continue
            }
            readers.append(TableReader(table, path: "\(key(name))[\(index)]", problems: problems))
        }
        return readers
    }

    /// Every key of a free-form table as text (FFmpeg options take strings;
    /// `framerate = 30` is as good as `framerate = "30"`).
    func scalarDictionary() -> [String: String] {
        var result: [String: String] = [:]
        for name in table.keys.sorted() {
            used.insert(name)
            let value = table[name]!
            if let string = value.string {
                result[name] = string
            } else if let int = value.int {
                result[name] = String(int)
            } else if let double = value.double {
                result[name] = Self.format(double)
            } else if let bool = value.bool {
                result[name] = bool ? "1" : "0"
            } else {
                wrongType(name, value, expected: "a string or a number")
            }
        }
        return result
    }

    /// Reports keys nobody asked for, with the closest known key as a hint.
    func rejectUnknownKeys() {
        for name in table.keys.sorted() where !used.contains(name) {
            var message = "unknown key"
            if let guess = used.min(by: { editDistance($0, name) < editDistance($1, name) }), editDistance(guess, name) <= 3 {
                message += " (did you mean '\(guess)'?)"
            }
            problems.add(key(name), message)
        }
    }

    private static func describe(_ value: TOMLValueConvertible) -> String {
        switch value.type {
        case .string: "the string \"\(value.string ?? "")\""
        case .int: "the number \(value.int ?? 0)"
        case .double: "the number \(format(value.double ?? 0))"
        case .bool: value.bool == true ? "true" : "false"
        case .table: "a table"
        case .array: "an array"
        case .date, .time, .dateTime: "a \(value.type.description)"
        }
    }

    private static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }
}

/// Levenshtein distance, for "did you mean" hints on misspelt keys.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = Array(repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
