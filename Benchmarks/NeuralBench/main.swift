// Drives NeuralColorizer over synthetic thermal frames and prints frames
// per second for each batch size, for Benchmarks/neural.sh. Stand-in until
// `thermocolor convert --model` can be timed end to end.
//
//   neural-bench BUNDLE [--batches 1,4,8] [--frames 64] [--size 640x512]
//                [--device CPU] [--precision f32] [--inflight 2] [--hint latency|throughput]
//                [--dump FILE]   (first frame's colours as raw RGB, to compare with the baseline)
//
// Each line: `fps <mode> <batch> <value>`; mode is `pipelined` (submit,
// requests in flight overlap with resizing and colour conversion) or
// `sync` (one colorize call at a time, one request, nothing overlaps).

import Dispatch
import Foundation
import Imaging
import Inference

struct Options {
    var bundle = ""
    var batches = [1, 4, 8]
    var frames = 64
    var width = 640
    var height = 512
    var device = "CPU"
    var precision: String?
    var inflight = 2
    var hint: CompileHints.PerformanceMode?
    var dump: String?

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = rest.popFirst() else { throw UsageError("\(flag) needs a value") }
            return next
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--batches": batches = try value(argument).split(separator: ",").compactMap { Int($0) }
            case "--frames": frames = Int(try value(argument)) ?? frames
            case "--size":
                let parts = try value(argument).split(separator: "x").compactMap { Int($0) }
                guard parts.count == 2 else { throw UsageError("--size wants WIDTHxHEIGHT") }
                (width, height) = (parts[0], parts[1])
            case "--device": device = try value(argument)
            case "--precision": precision = try value(argument)
            case "--inflight": inflight = Int(try value(argument)) ?? inflight
            case "--dump": dump = try value(argument)
            case "--hint":
                guard let mode = CompileHints.PerformanceMode(rawValue: try value(argument).uppercased()) else {
                    throw UsageError("--hint wants latency or throughput")
                }
                hint = mode
            default:
                guard bundle.isEmpty, !argument.hasPrefix("-") else { throw UsageError("unknown argument \(argument)") }
                bundle = argument
            }
        }
        guard !bundle.isEmpty else { throw UsageError("usage: neural-bench BUNDLE [--batches 1,4,8] [--frames N]") }
    }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Thermal-like frames: gradients, texture and a moving warm blob.
func syntheticFrames(count: Int, width: Int, height: Int) -> [NeuralInput] {
    (0..<count).map { index in
        var samples = [UInt8](repeating: 0, count: width * height)
        let blobX = (index * 37) % width, blobY = (index * 23) % height
        for y in 0..<height {
            for x in 0..<width {
                let dx = x - blobX, dy = y - blobY
                let blob = max(0, 120 - (dx * dx + dy * dy) / 40)
                samples[y * width + x] = UInt8(min(255, (x + y) * 100 / (width + height) + (x * y + index) % 17 + blob))
            }
        }
        return NeuralInput(thermal: Gray8Image(width: width, height: height, samples: samples))
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var images = 0
    private var failure: (any Error)?

    func add(_ result: Result<[RGBImage], any Error>) {
        lock.lock()
        defer { lock.unlock() }
        switch result {
        case .success(let batch): images += batch.count
        case .failure(let error): failure = failure ?? error
        }
    }

    func total() throws -> Int {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        return images
    }
}

func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

func run() throws {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    let bundle = try ModelBundle(folder: URL(fileURLWithPath: options.bundle))
    let pool = syntheticFrames(count: 16, width: options.width, height: options.height)
    let frames = (0..<options.frames).map { pool[$0 % pool.count] }
    print("neural-bench: \(bundle.name), \(options.frames) frames of \(options.width)x\(options.height), "
          + "\(options.device), precision \(options.precision ?? "default"), \(options.inflight) requests in flight, "
          + "hint \(options.hint?.rawValue ?? "default")")

    // No overlap: one request, one frame per blocking call.
    do {
        let engine = try NeuralColorizer(bundle: bundle, device: options.device, precision: options.precision,
                                         maxBatch: 1, inflightRequests: 1)
        let first = try engine.colorize(Array(frames.prefix(2)))
        if let dump = options.dump {
            // The first frame's colours, raw interleaved RGB, to compare with the baseline's.
            try Data(first[0].samples).write(to: URL(fileURLWithPath: dump))
        }
        let start = DispatchTime.now()
        for frame in frames { _ = try engine.colorize([frame]) }
        print("fps sync 1 \(String(format: "%.2f", Double(frames.count) / seconds(since: start)))")
    }

    for batch in options.batches {
        let engine = try NeuralColorizer(bundle: bundle, device: options.device, precision: options.precision,
                                         maxBatch: batch, inflightRequests: options.inflight,
                                         performanceMode: options.hint)
        _ = try engine.colorize(Array(frames.prefix(batch * options.inflight)))   // warm-up
        let counter = Counter()
        let start = DispatchTime.now()
        for first in stride(from: 0, to: frames.count, by: batch) {
            let slice = Array(frames[first..<min(first + batch, frames.count)])
            engine.submit(slice) { counter.add($0) }
        }
        engine.waitUntilIdle()
        let elapsed = seconds(since: start)
        let done = try counter.total()
        print("fps pipelined \(batch) \(String(format: "%.2f", Double(done) / elapsed))")
    }
}

do {
    try run()
} catch {
    FileHandle.standardError.write(Data("neural-bench: \(error)\n".utf8))
    exit(1)
}
