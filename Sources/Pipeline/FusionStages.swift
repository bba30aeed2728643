import Foundation
import Imaging
import MediaIO
import Synchronization

/// Thermal + visible fusion as a pipeline stage: gain control, then the
/// visible frame nearest in time, registered onto the thermal grid, fused.
///
/// When no visible frame pairs (the visible input stalled or ended), frames
/// are coloured with the palette alone and `onVisibleChange(false)` says so,
/// once; `onVisibleChange(true)` when pairs return.
package final class FusionStage: FrameColorizer, @unchecked Sendable {
    package let maxBatchSize = 1
    private let gain: ClassicColorizer
    private let visible: VisibleFeed
    private let homography: Homography?
    private var fuser: ImageFuser
    private let onVisibleChange: @Sendable (Bool) -> Void
    private var visibleAvailable = true
    private var fallback = YUV420Image(width: 0, height: 0)
    /// The scaling warp for visible frames of `size` when there is no
    /// calibration; rebuilt only when the visible or thermal size changes.
    private var scaling: (size: ScalingSizes, warp: Homography)?
    /// Frames coloured from thermal alone because no visible frame paired.
    package private(set) var unpairedFrames = 0

    package init(gain: ClassicColorizer, visible: VisibleFeed, method: FusionMethod = .pyramid, homography: Homography? = nil,
                onVisibleChange: @escaping @Sendable (Bool) -> Void = { _ in }) {
        self.gain = gain
        self.visible = visible
        self.homography = homography
        fuser = ImageFuser(method: method)
        self.onVisibleChange = onVisibleChange
    }

    package func colorize(_ frames: [ThermalFrame]) throws -> [EncoderPicture] {
        try frames.map { frame in
            let thermal = try gain.grayLevels(of: frame)
            guard let picture = try visible.frame(at: frame.seconds) else {
                if visibleAvailable { visibleAvailable = false; onVisibleChange(false) }
                unpairedFrames += 1
                if fallback.width != thermal.width || fallback.height != thermal.height {
                    fallback = YUV420Image(width: thermal.width, height: thermal.height)
                }
                gain.currentSettings.palette.colorize(thermal, into: &fallback)
                return .yuv420(fallback)
            }
            if !visibleAvailable { visibleAvailable = true; onVisibleChange(true) }
            let aligned = registered(picture, toWidth: thermal.width, height: thermal.height)
            return .rgb(try fuser.fuse(thermal: thermal, visible: aligned))
        }
    }

    /// The visible picture on the thermal grid: through the calibration's
    /// homography, or scaled when there is none and the sizes differ.
    private func registered(_ picture: RGBImage, toWidth width: Int, height: Int) -> RGBImage {
        if let homography { return homography.warp(picture, toWidth: width, height: height) }
        guard picture.width != width || picture.height != height else { return picture }
        // An empty visible picture has no scale; it lands as black.
        guard picture.width > 0, picture.height > 0 else { return Homography.identity.warp(picture, toWidth: width, height: height) }
        let sizes = ScalingSizes(sourceWidth: picture.width, sourceHeight: picture.height, width: width, height: height)
        if scaling?.size != sizes {
            let scale = try! Homography(matrix: [Double(width) / Double(picture.width), 0, 0,
                                                 0, Double(height) / Double(picture.height), 0, 0, 0, 1])
            scaling = (sizes, scale)
        }
        return scaling!.warp.warp(picture, toWidth: width, height: height)
    }
}

/// The visible and thermal sizes a scaling warp was built for.
private struct ScalingSizes: Equatable {
    var sourceWidth, sourceHeight, width, height: Int
}

/// Reference colour transfer as a pipeline stage: a colour image (a daylight
/// picture of the same place) lends its colour statistics to the thermal frames.
package final class ReferenceStage: FrameColorizer, @unchecked Sendable {
    package let maxBatchSize = 1
    private let gain: ClassicColorizer
    private let regions: Int
    private let transfer: Mutex<ReferenceColorTransfer>
    private var output = RGBImage(width: 0, height: 0, channels: 3, repeating: 0)

    package init(gain: ClassicColorizer, reference: RGBImage, regions: Int = 3) throws {
        self.gain = gain
        self.regions = regions
        transfer = Mutex(try ReferenceColorTransfer(reference: reference, regions: regions))
    }

    /// Borrows the colours of `reference` from the next batch on; callable from any thread.
    package func setReference(_ reference: RGBImage) throws {
        let replacement = try ReferenceColorTransfer(reference: reference, regions: regions)
        transfer.withLock { $0 = replacement }
    }

    package func colorize(_ frames: [ThermalFrame]) throws -> [EncoderPicture] {
        let transfer = self.transfer.withLock { $0 }
        return try frames.map { frame in
            let thermal = try gain.grayLevels(of: frame)
            if output.width != thermal.width || output.height != thermal.height {
                output = RGBImage(width: thermal.width, height: thermal.height, channels: 3, repeating: 0)
            }
            transfer.colorize(thermal, into: &output)
            return .rgb(output)
        }
    }
}
