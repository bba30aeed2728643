/// What capture knows about a family of thermal cameras: how to recognise
/// one, which mode to ask it for, and where the thermal data sits in its
/// frames. See docs/CAMERAS.md.
package struct CameraProfile: Sendable, Hashable, CustomStringConvertible {
    /// The profiles capture knows.
    package enum Identifier: String, Sendable, Hashable, CaseIterable {
        case generic
        case boson
        case lepton
        case p2Pro = "p2pro"
    }

    package let identifier: Identifier
    /// A human name, such as "FLIR Boson".
    package let displayName: String
    /// USB ids the camera family enumerates with.
    package let usbDeviceIDs: [USBDeviceID]
    /// Lower-case fragments of the V4L2 card name that identify the camera.
    package let cardNameHints: [String]
    /// Modes to ask for, best first, before capture's generic preference.
    package let preferredModes: [CaptureMode]
    /// How many bits of a Y16 sample carry data.
    package let y16SignificantBits: Int
    /// For cameras whose 16-bit data is absolute temperature: raw counts
    /// per kelvin (the P2 Pro reports 1/64 K).
    package let countsPerKelvin: Double?

    /// The name `--camera-profile` takes: generic, boson, lepton, p2pro.
    package var name: String { identifier.rawValue }
    package var description: String { name }

    /// Any camera: the best readable format at its largest size and highest
    /// rate; Y16 taken as 16 significant bits.
    package static let generic = CameraProfile(
        identifier: .generic, displayName: "Generic V4L2 camera", usbDeviceIDs: [], cardNameHints: [],
        preferredModes: [], y16SignificantBits: 16, countsPerKelvin: nil)

    /// FLIR Boson (320 and 640), through its own UVC interface: Y16 pre-AGC
    /// data at 640x512 or 320x256.
    package static let boson = CameraProfile(
        identifier: .boson, displayName: "FLIR Boson",
        usbDeviceIDs: [USBDeviceID(vendor: 0x09cb, product: 0x4007)],
        cardNameHints: ["boson"],
        preferredModes: [
            CaptureMode(pixelFormat: .y16, size: FrameSize(width: 640, height: 512)),
            CaptureMode(pixelFormat: .y16, size: FrameSize(width: 320, height: 256)),
        ],
        y16SignificantBits: 16, countsPerKelvin: nil)

    /// FLIR Lepton 2.x/3.x on a GroupGets PureThermal board: Y16 at 160x120
    /// (80x60 for Lepton 2.x); with telemetry on, the board sends 2 extra
    /// rows (3 on Lepton 2.x) after the image, which capture strips.
    package static let lepton = CameraProfile(
        identifier: .lepton, displayName: "FLIR Lepton on PureThermal",
        usbDeviceIDs: [USBDeviceID(vendor: 0x1e4e, product: 0x0100)],
        cardNameHints: ["purethermal", "lepton"],
        preferredModes: [
            CaptureMode(pixelFormat: .y16, size: FrameSize(width: 160, height: 120)),
            CaptureMode(pixelFormat: .y16, size: FrameSize(width: 160, height: 122)),
            CaptureMode(pixelFormat: .y16, size: FrameSize(width: 80, height: 60)),
            CaptureMode(pixelFormat: .y16, size: FrameSize(width: 80, height: 63)),
        ],
        // Radiometric Leptons in TLinear mode send kelvin x 100, which needs
        // 15 bits; raw14 output fits the low 14.
        y16SignificantBits: 16, countsPerKelvin: nil)

    /// InfiRay P2 Pro and TOPDON TC001: YUYV 256x384 whose upper half is an
    /// 8-bit rendering and whose lower half is the raw 256x192 frame, 16-bit
    /// little-endian in 1/64 K. Capture returns the lower half.
    package static let p2Pro = CameraProfile(
        identifier: .p2Pro, displayName: "InfiRay P2 Pro / TOPDON TC001",
        usbDeviceIDs: [USBDeviceID(vendor: 0x0bda, product: 0x5830)],
        cardNameHints: ["p2 pro", "p2pro", "tc001", "infiray"],
        preferredModes: [CaptureMode(pixelFormat: .yuyv, size: Self.p2ProFrameSize)],
        y16SignificantBits: 16, countsPerKelvin: 64)

    /// The P2 Pro's combined frame: image over temperature data.
    static let p2ProFrameSize = FrameSize(width: 256, height: 384)

    /// Every profile, the specific ones first.
    package static let all: [CameraProfile] = [boson, lepton, p2Pro, generic]

    /// The profile called `name` (case-insensitive; also "purethermal",
    /// "tc001", "infiray"), or nil.
    package static func named(_ name: String) -> CameraProfile? {
        let key = name.lowercased().filter { !$0.isWhitespace && $0 != "-" && $0 != "_" }
        switch key {
        case "generic", "none": return .generic
        case "boson", "flirboson": return .boson
        case "lepton", "purethermal", "flirlepton": return .lepton
        case "p2pro", "p2", "tc001", "infiray", "topdon": return .p2Pro
        default: return nil
        }
    }

    /// The names `named(_:)` takes, for help texts.
    package static var names: [String] { Identifier.allCases.map(\.rawValue) }

    /// Recognises a camera by its USB id, then its card name, then (for the
    /// P2 Pro, whose card name is a bare "USB Camera") by its unusual
    /// 256x384 YUYV mode; falls back to `generic`.
    package static func detect(usbDeviceID: USBDeviceID?, card: String, offersP2ProMode: Bool = false) -> ProfileMatch {
        if let usbDeviceID, let profile = all.first(where: { $0.usbDeviceIDs.contains(usbDeviceID) }) {
            return ProfileMatch(profile: profile, reason: "USB id \(usbDeviceID)")
        }
        let lowered = card.lowercased()
        if let profile = all.first(where: { $0.cardNameHints.contains(where: lowered.contains) }) {
            return ProfileMatch(profile: profile, reason: "card name \"\(card)\"")
        }
        if offersP2ProMode {
            return ProfileMatch(profile: .p2Pro, reason: "its 256x384 YUYV mode")
        }
        return ProfileMatch(profile: .generic, reason: "no known camera matched")
    }

    /// How to read frames of `format` from this camera; nil when capture
    /// cannot read the pixel format at all.
    func extraction(for format: VideoFormat) -> FrameExtraction? {
        switch identifier {
        case .lepton where format.pixelFormat == .y16:
            // Telemetry rows follow the image (the PureThermal firmware puts
            // them in the footer): 2 rows of 160 on Lepton 3.x, 3 of 80 on 2.x.
            let telemetryRows = switch (format.width, format.height) {
            case (160, 122): 2
            case (80, 63): 3
            default: 0
            }
            return FrameExtraction(sample: .word16, width: format.width, firstRow: 0,
                                   rows: format.height - telemetryRows, significantBits: y16SignificantBits)
        case .p2Pro where format.pixelFormat == .yuyv && format.size == Self.p2ProFrameSize:
            // The lower half: each YUYV "pixel pair" is really two 16-bit
            // little-endian temperatures, 256 of them per 512-byte row.
            let half = format.height / 2
            return FrameExtraction(sample: .word16, width: format.width, firstRow: half,
                                   rows: half, significantBits: y16SignificantBits)
        default:
            return FrameExtraction.standard(for: format, y16SignificantBits: y16SignificantBits)
        }
    }
}

/// A pixel format, and optionally a size, to ask a camera for.
package struct CaptureMode: Sendable, Hashable, CustomStringConvertible {
    package var pixelFormat: PixelFormat
    package var size: FrameSize?

    package init(pixelFormat: PixelFormat, size: FrameSize? = nil) {
        self.pixelFormat = pixelFormat
        self.size = size
    }

    package var description: String { size.map { "\(pixelFormat) \($0)" } ?? pixelFormat.description }
}

/// A detected profile and why it was chosen.
package struct ProfileMatch: Sendable, Hashable {
    package var profile: CameraProfile
    /// "USB id 09cb:4007", "card name \"PureThermal (fw:v1.3.0)\"", ...
    package var reason: String
}
