import Foundation
import MediaIO
import Pipeline

/// Where one output goes, parsed from what a user typed: a file, a folder of
/// segments, an RTSP push, MPEG-TS over UDP or SRT, or an HLS folder.
///
/// | text | output |
/// | --- | --- |
/// | `out.mp4`, `out.mkv`, `out.ts` | one file; the extension picks the container |
/// | `recordings/` (or an existing folder) | segmented recording into that folder |
/// | `rtsp://host[:port]/path` | RTSP push (ANNOUNCE/RECORD) over TCP; `?transport=udp` for RTP over UDP |
/// | `udp://host:port` | MPEG-TS in UDP datagrams (1316-byte payloads unless `pkt_size` says otherwise) |
/// | `srt://host:port` | MPEG-TS over SRT, as caller unless `mode=` says otherwise |
/// | `rtmp://host[:port]/app/key` | FLV over RTMP (YouTube, nginx-rtmp…) |
/// | `hls:folder` | HLS playlist `folder/index.m3u8` and two-second MPEG-TS segments, for browsers |
///
/// Network and HLS targets take `?bitrate=800k`, `?crf=28` and `?preset=ultrafast`,
/// which give that output an encoder of its own; other query keys go to FFmpeg.
package struct OutputTarget: Sendable, Equatable, CustomStringConvertible {
    package enum Kind: String, Sendable {
        case file, segments, rtsp, rtmp, udp, srt, hls

        /// Sent over a network: may fail and reconnect, never holds up the others.
        package var isNetwork: Bool { self == .rtsp || self == .rtmp || self == .udp || self == .srt }
    }

    package var kind: Kind
    /// The path, folder or URL given to FFmpeg (our own query keys removed).
    package var location: String
    /// The muxer and its options.
    package var output: OutputOptions
    /// Changes to the shared encoder settings for this output alone.
    package var encoderOverrides: EncoderOverrides
    /// Complete encoder settings of this output's own (a service's output table gives
    /// them); they replace the set's shared settings and `encoderOverrides`. Outputs
    /// whose settings come out equal still share one encoder.
    package var encoder: EncoderSettings?
    /// Segment length and limits of this segmented output; nil: the set's.
    package var segmentPolicy: SegmentPolicy?
    /// Segments only: file names are `PREFIX-YYYYMMDD-HHMMSS.EXTENSION` in the `location` folder.
    package var segmentPrefix = "thermocolor"
    package var segmentExtension = "mp4"
    /// What was typed, for messages.
    package var text: String

    package var description: String { text }

    /// Equal when written the same way; a segment policy's free-space probe (a closure) is not compared.
    package static func == (left: OutputTarget, right: OutputTarget) -> Bool {
        let samePolicy = switch (left.segmentPolicy, right.segmentPolicy) {
        case (nil, nil): true
        case let (l?, r?): l.hasSameLimits(as: r)
        default: false
        }
        return left.kind == right.kind && left.location == right.location && left.output == right.output
            && left.encoderOverrides == right.encoderOverrides && left.encoder == right.encoder
            && left.segmentPrefix == right.segmentPrefix && left.segmentExtension == right.segmentExtension
            && left.text == right.text && samePolicy
    }

    /// A target built in code (a service's configuration, say) rather than parsed.
    /// `kind` decides how it is written: network kinds on their own thread with
    /// reconnection, `.segments` as a segmented recording into the `location` folder.
    package init(kind: Kind, location: String, output: OutputOptions, encoderOverrides: EncoderOverrides = EncoderOverrides(),
                text: String? = nil) {
        self.kind = kind
        self.location = location
        self.output = output
        self.encoderOverrides = encoderOverrides
        self.text = text ?? location
    }

    /// Parses `text`.
    /// - Parameter format: a container for file targets (`mp4`, `matroska`, `mpegts`) instead of the extension.
    /// - Throws: `OutputTargetError` saying what is wrong with the text.
    package init(parsing text: String, format: String? = nil) throws {
        self.text = text
        encoderOverrides = EncoderOverrides()
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw OutputTargetError(text, "empty output") }
        let lower = trimmed.lowercased()
        if lower.hasPrefix("hls:") {
            kind = .hls
            let (folder, query) = Self.splitQuery(String(trimmed.dropFirst(4)))
            guard !folder.isEmpty else { throw OutputTargetError(text, "hls: needs a folder, like hls:/var/www/live") }
            var remaining = query
            encoderOverrides = try EncoderOverrides(taking: &remaining, text: text)
            if let unknown = remaining.first { throw OutputTargetError(text, "unknown option '\(unknown.name)' for hls") }
            location = (folder as NSString).appendingPathComponent("index.m3u8")
            output = OutputOptions(format: "hls", muxerOptions: [
                "hls_time": "2",
                "hls_list_size": "6",
                // Old segments go, the playlist is replaced atomically, each segment starts on a keyframe.
                "hls_flags": "delete_segments+temp_file+independent_segments",
                "hls_segment_filename": (folder as NSString).appendingPathComponent("segment-%05d.ts"),
            ])
        } else if let scheme = lower.range(of: "://").map({ String(lower[..<$0.lowerBound]) }) {
            guard let parsed = URLComponents(string: trimmed) else { throw OutputTargetError(text, "not a valid URL") }
            var query = parsed.queryItems?.map { (name: $0.name, value: $0.value ?? "") } ?? []
            encoderOverrides = try EncoderOverrides(taking: &query, text: text)
            guard let host = parsed.host, !host.isEmpty else { throw OutputTargetError(text, "the URL has no host") }
            if let port = parsed.port, !(1...65535).contains(port) {
                throw OutputTargetError(text, "port \(port) is out of range")
            }
            var options: [String: String] = [:]
            switch scheme {
            case "rtsp":
                kind = .rtsp
                var transport = "tcp"
                if let index = query.firstIndex(where: { $0.name == "transport" }) {
                    transport = query.remove(at: index).value.lowercased()
                    guard transport == "tcp" || transport == "udp" else {
                        throw OutputTargetError(text, "transport must be tcp or udp, not '\(transport)'")
                    }
                }
                options["rtsp_transport"] = transport
                output = OutputOptions(format: "rtsp")
            case "udp":
                kind = .udp
                guard parsed.port != nil else { throw OutputTargetError(text, "udp:// needs a port, like udp://239.0.0.1:5000") }
                // Seven TS packets a datagram: fits any Ethernet MTU, what receivers expect.
                if !query.contains(where: { $0.name == "pkt_size" }) { query.append((name: "pkt_size", value: "1316")) }
                output = OutputOptions(format: "mpegts")
            case "rtmp", "rtmps":
                kind = .rtmp
                output = OutputOptions(format: "flv")
            case "srt":
                kind = .srt
                guard parsed.port != nil else { throw OutputTargetError(text, "srt:// needs a port, like srt://host:9000") }
                // Closing waits up to 5 s for what the peer has not acknowledged yet; by
                // default libsrt drops it, and a stream's last second never arrives.
                if !query.contains(where: { $0.name == "linger" }) { query.append((name: "linger", value: "5")) }
                output = OutputOptions(format: "mpegts")
            default:
                throw OutputTargetError(text, "unsupported scheme '\(scheme)://'; use a file, a folder/, rtsp://, rtmp://, udp://, srt:// or hls:FOLDER")
            }
            options.merge(output.muxerOptions) { mine, _ in mine }
            output.muxerOptions = options
            var rebuilt = parsed
            rebuilt.queryItems = query.isEmpty ? nil : query.map { URLQueryItem(name: $0.name, value: $0.value) }
            location = rebuilt.string ?? trimmed
        } else if trimmed.hasSuffix("/") || Self.isFolder(trimmed) {
            kind = .segments
            location = trimmed.hasSuffix("/") && trimmed.count > 1 ? String(trimmed.dropLast()) : trimmed
            output = OutputOptions(format: "mp4")
        } else {
            kind = .file
            location = trimmed
            let muxer = try format ?? Self.container(forFile: trimmed, text: text)
            output = OutputOptions(format: muxer)
        }
    }

    /// This file target as a segmented recording beside it: `night/cam.ts`
    /// becomes `night/cam-YYYYMMDD-HHMMSS.ts`, … Other targets are returned as they are.
    package func segmented() -> OutputTarget {
        guard kind == .file else { return self }
        var target = self
        let path = location as NSString
        target.kind = .segments
        target.location = path.deletingLastPathComponent.isEmpty ? "." : path.deletingLastPathComponent
        target.segmentPrefix = (path.lastPathComponent as NSString).deletingPathExtension
        target.segmentExtension = path.pathExtension.isEmpty ? "mp4" : path.pathExtension
        if target.output.format == nil { target.output.format = "mp4" }
        return target
    }

    /// The container for a file name's extension: ours for the usual ones, else FFmpeg's guess.
    static func container(forFile path: String, text: String) throws -> String? {
        let ext = (path as NSString).pathExtension.lowercased()
        switch ext {
        case "mp4", "m4v": return "mp4"
        case "mov": return "mov"
        case "mkv": return "matroska"
        case "ts", "m2ts": return "mpegts"
        case "": throw OutputTargetError(text, "no file extension; use .mp4, .mkv or .ts, or end a folder with / for segments")
        default:
            guard (try? PacketMuxer.wantsGlobalHeader(path, format: nil)) != nil else {
                throw OutputTargetError(text, "cannot tell the container from '.\(ext)'; use .mp4, .mkv or .ts")
            }
            return nil
        }
    }

    private static func splitQuery(_ text: String) -> (String, [(name: String, value: String)]) {
        guard let mark = text.firstIndex(of: "?") else { return (text, []) }
        let items = text[text.index(after: mark)...].split(separator: "&").map { pair -> (name: String, value: String) in
            let parts = pair.split(separator: "=", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
        return (String(text[..<mark]), items)
    }

    private static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

/// Per-output changes to the encoder; an output with any gets an encoder of its own.
package struct EncoderOverrides: Sendable, Equatable {
    package var bitrate: Int?
    package var crf: Int?
    package var preset: String?

    package init(bitrate: Int? = nil, crf: Int? = nil, preset: String? = nil) {
        self.bitrate = bitrate
        self.crf = crf
        self.preset = preset
    }

    package var isEmpty: Bool { bitrate == nil && crf == nil && preset == nil }

    /// `base` with these changes.
    package func applied(to base: EncoderSettings) -> EncoderSettings {
        var settings = base
        if let bitrate {
            settings.bitrate = bitrate
            settings.crf = nil
        }
        if let crf {
            settings.crf = crf
            settings.bitrate = nil
        }
        if let preset { settings.preset = preset }
        return settings
    }

    /// Takes `bitrate`, `crf` and `preset` out of `query`.
    init(taking query: inout [(name: String, value: String)], text: String) throws {
        var overrides = EncoderOverrides()
        var kept: [(name: String, value: String)] = []
        for item in query {
            switch item.name {
            case "bitrate":
                guard let value = parseBitsPerSecond(item.value) else {
                    throw OutputTargetError(text, "bitrate '\(item.value)' is not like 4M, 800k or 2500000")
                }
                overrides.bitrate = value
            case "crf":
                guard let value = Int(item.value), (0...51).contains(value) else {
                    throw OutputTargetError(text, "crf '\(item.value)' is not a number from 0 to 51")
                }
                overrides.crf = value
            case "preset":
                let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]
                guard presets.contains(item.value) else {
                    throw OutputTargetError(text, "preset '\(item.value)' is not one of \(presets.joined(separator: ", "))")
                }
                overrides.preset = item.value
            default:
                kept.append(item)
            }
        }
        query = kept
        self = overrides
    }
}

/// "4M", "800k", "2500000" → bits per second; nil when it is none of those.
package func parseBitsPerSecond(_ text: String) -> Int? {
    let lower = text.lowercased()
    let multiplier: Double = lower.hasSuffix("m") ? 1e6 : lower.hasSuffix("k") ? 1e3 : 1
    let digits = multiplier == 1 ? lower : String(lower.dropLast())
    guard let value = Double(digits), value > 0, value < 1e11 else { return nil }
    return Int(value * multiplier)
}

/// An output that cannot be understood: names what was typed and why.
package struct OutputTargetError: Error, CustomStringConvertible, Sendable, Equatable {
    package var text: String
    package var reason: String

    package init(_ text: String, _ reason: String) {
        self.text = text
        self.reason = reason
    }

    package var description: String { "bad output '\(text)': \(reason)" }
}
