// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// OpenVINO's C API comes from the pinned `openvino` wheel, unpacked by
/// `Scripts/setup.sh` into the git-ignored `.deps/openvino` beside this file.
/// Binaries find its libraries through an rpath, so nothing needs
/// `LD_LIBRARY_PATH`; installed copies also look in `../lib/thermocolor`.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
let openVINORoot = "\(packageRoot)/.deps/openvino"

/// Every target that imports COpenVINO, directly or through a module that
/// does, needs the header path for Clang's module loader.
let openVINOSwiftSettings: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-I\(openVINORoot)/include"]),
]
let openVINOLinkerSettings: [LinkerSetting] = [
    .unsafeFlags([
        "-L\(openVINORoot)/lib",
        "-Xlinker", "-rpath", "-Xlinker", "\(openVINORoot)/lib",
        "-Xlinker", "-rpath", "-Xlinker", "$ORIGIN/../lib/thermocolor",
    ]),
]

let package = Package(
    name: "ThermoColor",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "thermocolor", targets: ["thermocolor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
    ],
    targets: [
        // C libraries: one module map and shim header each.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavcodec libavutil libswscale",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev"])]
        ),
        .systemLibrary(
            name: "CV4L2",
            pkgConfig: "libv4l2",
            providers: [.apt(["libv4l-dev"])]
        ),
        .systemLibrary(name: "COpenVINO"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Domains, lowest first; arrows point one way.
        // Threads, bounded queues and the one monotonic clock every queue, stage and frame timestamp uses.
        .target(name: "Threading"),
        .target(name: "Imaging"),
        .target(name: "MediaIO", dependencies: ["CFFmpeg", "Imaging", "Threading"]),
        .target(name: "Capture", dependencies: ["CV4L2", "MediaIO", "Imaging", "Threading"]),
        .target(name: "Text", dependencies: ["CZlib"]),
        .target(
            name: "Inference",
            dependencies: ["COpenVINO", "Imaging", "Text"],
            swiftSettings: openVINOSwiftSettings,
            linkerSettings: openVINOLinkerSettings
        ),
        .target(
            name: "Pipeline",
            dependencies: ["MediaIO", "Capture", "Imaging", "Text", "Inference", "Threading"],
            swiftSettings: openVINOSwiftSettings
        ),
        .target(
            name: "Outputs",
            dependencies: ["Pipeline", "MediaIO", "Imaging", "Threading"],
            swiftSettings: openVINOSwiftSettings
        ),
        .target(
            name: "Service",
            dependencies: [
                "Pipeline", "Outputs", "MediaIO", "Threading", "Capture", "Imaging", "Inference",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: openVINOSwiftSettings
        ),
        .executableTarget(
            name: "thermocolor",
            dependencies: [
                "Pipeline", "Outputs", "Service", "MediaIO", "Capture", "Imaging", "Text", "Inference", "Threading",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: openVINOSwiftSettings,
            linkerSettings: openVINOLinkerSettings
        ),
        // Benchmarks/neural.sh's driver for the neural engine alone.
        .executableTarget(
            name: "neural-bench",
            dependencies: ["Inference", "Imaging"],
            path: "Benchmarks/NeuralBench",
            swiftSettings: openVINOSwiftSettings,
            linkerSettings: openVINOLinkerSettings
        ),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // A camera that follows the V4L2 specification, for tests on machines with no /dev/video.
        .target(name: "CaptureTesting", dependencies: ["Capture", "Imaging", "MediaIO", "Threading"], path: "Tests/CaptureTesting"),
        .testTarget(name: "ThreadingTests", dependencies: ["Threading"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
        .testTarget(name: "MediaIOTests", dependencies: ["MediaIO", "Imaging", "TestSupport"]),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "CaptureTesting", "MediaIO", "Imaging", "TestSupport"]),
        .testTarget(name: "TextTests", dependencies: ["Text"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "InferenceTests",
            dependencies: ["Inference", "Imaging", "Text"],
            resources: [.copy("Fixtures")],
            swiftSettings: openVINOSwiftSettings,
            linkerSettings: openVINOLinkerSettings
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipeline", "Outputs", "MediaIO", "Imaging", "Capture", "CaptureTesting", "Inference", "Threading", "TestSupport"],
            swiftSettings: openVINOSwiftSettings,
            linkerSettings: openVINOLinkerSettings
        ),
        .testTarget(
            name: "OutputTests",
            dependencies: ["Outputs", "Pipeline", "MediaIO", "Imaging", "TestSupport"],
            swiftSettings: openVINOSwiftSettings,
            linkerSettings: openVINOLinkerSettings
        ),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "thermocolor", "Service", "Outputs", "Pipeline", "MediaIO", "Imaging", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: openVINOSwiftSettings,
            linkerSettings: openVINOLinkerSettings
        ),
        // Capture against Linux's vivid driver: VividVMTests boots a QEMU
        // guest (Scripts/vm) that runs VividGuestTests against /dev/video0.
        .testTarget(
            name: "VividTests",
            dependencies: ["thermocolor", "Capture", "CaptureTesting", "TestSupport"],
            swiftSettings: openVINOSwiftSettings,
            linkerSettings: openVINOLinkerSettings
        ),
        .testTarget(
            name: "CommandTests",
            dependencies: ["thermocolor", "MediaIO", "Imaging", "TestSupport"],
            swiftSettings: openVINOSwiftSettings,
            linkerSettings: openVINOLinkerSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
