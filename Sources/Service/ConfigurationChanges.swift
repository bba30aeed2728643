import Foundation
import MediaIO
import Pipeline

/// What a reload changed, split into what applies at once and what waits
/// for a restart.
package struct ConfigurationChanges: Sendable, Equatable {
    /// Keys that apply to the running session (palette, gain control, prompt, reference, log level).
    package var live: [String]
    /// Keys that need `systemctl restart` (input, outputs, model…), in file order.
    package var needRestart: [String]

    /// Keys that a running session takes without a restart.
    package static let liveKeys: Set<String> = [
        "processing.palette", "processing.agc", "processing.tail_rejection", "processing.plateau_limit",
        "processing.smoothing", "processing.stretch_8bit", "processing.prompt", "processing.reference", "service.log_level",
        "service.health_timeout",
    ]

    package init(from old: ServiceConfiguration, to new: ServiceConfiguration) {
        let before = old.flattened, after = new.flattened
        let oldKeys = Dictionary(before, uniquingKeysWith: { $1 })
        let newKeys = Dictionary(after, uniquingKeysWith: { $1 })
        var order = after.map(\.0)
        order += before.map(\.0).filter { newKeys[$0] == nil }
        let changed = order.filter { oldKeys[$0] != newKeys[$0] }
        live = changed.filter(Self.liveKeys.contains)
        needRestart = changed.filter { !Self.liveKeys.contains($0) }
    }

    package var isEmpty: Bool { live.isEmpty && needRestart.isEmpty }
}

extension ServiceConfiguration {
    /// Every setting as `key = value` text, keys named as in the file, for comparing two configurations.
    package var flattened: [(String, String)] {
        var pairs: [(String, String)] = []
        func add(_ key: String, _ value: Any?) { pairs.append((key, value.map { "\($0)" } ?? "")) }
        add("source.input", source.input)
        add("source.format", source.inputOptions.format)
        for (key, value) in source.inputOptions.options.sorted(by: { $0.key < $1.key }) { add("source.options.\(key)", value) }
        add("source.io_timeout", source.inputOptions.ioTimeout)
        add("source.decoder_threads", source.inputOptions.decoderThreads)
        add("source.camera_profile", source.cameraProfile)
        add("source.camera_size", source.cameraSize)
        add("source.camera_format", source.cameraFormat)
        add("source.camera_fps", source.framesPerSecond)
        add("source.realtime", source.realtime)
        add("source.loop", source.loop)
        add("source.reconnect_delay", source.reconnectDelay)
        let classic = processing.classic
        add("processing.palette", classic.palette.name)
        add("processing.agc", classic.gainControl.rawValue)
        add("processing.tail_rejection", classic.tailRejection)
        add("processing.plateau_limit", classic.plateauLimit)
        add("processing.smoothing", classic.smoothing)
        add("processing.stretch_8bit", classic.stretchEightBit)
        add("processing.model", processing.model)
        add("processing.prompt", processing.prompt)
        add("processing.clip", processing.clip)
        add("processing.text_encoder", processing.textEncoder)
        add("processing.reference", processing.reference.map { "\($0) (\(processing.referenceStamp ?? ""))" })
        add("processing.batch", processing.batch)
        add("processing.device", processing.device)
        for (index, output) in outputs.enumerated() {
            let prefix = "outputs[\(index)]"
            add("\(prefix).type", output.kind)
            switch output {
            case .recording(let recording):
                add("\(prefix).directory", recording.directory)
                add("\(prefix).segment_seconds", recording.segmentSeconds)
                add("\(prefix).max_segments", recording.maxSegments)
                add("\(prefix).max_size", recording.maxBytes)
                add("\(prefix).container", recording.container)
            case .stream(let stream):
                add("\(prefix).url", stream.url)
                add("\(prefix).format", stream.format)
            case .target(let target):
                add("\(prefix).target", target.target.text)
            }
            let encoder = output.encoder
            add("\(prefix).codec", encoder.codec.rawValue)
            add("\(prefix).bitrate", encoder.bitrate)
            add("\(prefix).crf", encoder.crf)
            add("\(prefix).preset", encoder.preset)
            add("\(prefix).keyframe_interval", encoder.keyframeInterval)
        }
        add("service.metrics_address", service.metricsAddress)
        add("service.log_level", service.logLevel.rawValue)
        add("service.status_interval", service.statusInterval)
        add("service.stop_timeout", service.stopTimeout)
        add("service.health_timeout", service.healthTimeout)
        return pairs
    }
}
