import Foundation
import Testing
@testable import Inference

/// The wrappers on their own: a request driven by hand, its float output
/// checked against the reference before any 8-bit quantisation.
@Suite struct OpenVINOTests {
    @Test func coreListsTheCPU() throws {
        let core = try Core()
        #expect(try core.availableDevices().contains("CPU"))
        #expect(!openVINOVersion().isEmpty)
    }

    @Test func modelDescribesItsTensors() throws {
        let model = try Core().readModel(at: Fixtures.path("colorizer-ab/model.onnx"))
        let inputs = try model.inputs()
        #expect(inputs.map(\.description) == ["ir: f32[?,1,24,32]", "text_embedding: f32[?,4]"])
        #expect(try model.outputs().map(\.description) == ["ab: f32[?,2,12,16]"])
    }

    @Test func requestComputesTheFixtureWithinF32Precision() throws {
        let core = try Core()
        let model = try core.readModel(at: Fixtures.path("colorizer-rgb/model.onnx"))
        let compiled = try core.compile(model, device: "CPU", hints: CompileHints(inferencePrecision: "f32"))
        #expect(try compiled.property("INFERENCE_PRECISION_HINT") == "f32")
        let request = try compiled.makeRequest()

        let batch = 2, plane = 32 * 24
        let thermal = (0..<(batch * plane)).map { Float($0 % 97) / 96 }
        try request.setTensor(try Tensor(shape: [batch, 1, 24, 32], floats: thermal), for: "thermal")
        try request.setTensor(try Tensor(shape: [1, 4], floats: Fixtures.cold), for: "text")
        try request.startAsync()
        try request.wait()
        let output = try request.tensor("rgb")
        #expect(output.shape == [batch, 3, 24, 32])
        let values = try output.floats()

        let term = textTerm(Fixtures.cold, Fixtures.rgbTextM, Fixtures.rgbTextB)
        var worst = 0.0
        for n in 0..<batch {
            for c in 0..<3 {
                for index in 0..<plane {
                    let t = Double(thermal[n * plane + index])
                    let expected = sigmoid(Fixtures.rgbConvW[c] * t + Fixtures.rgbConvB[c] + term[c])
                    worst = max(worst, abs(Double(values[(n * 3 + c) * plane + index]) - expected))
                }
            }
        }
        #expect(worst < 1e-5)
    }

    @Test func failuresCarryTheOperationStatusAndOpenVINOsText() throws {
        let core = try Core()
        let error = #expect(throws: InferenceError.self) {
            _ = try core.readModel(at: "/nonexistent/model.onnx")
        }
        let message = error?.description ?? ""
        #expect(message.hasPrefix("OpenVINO: read model /nonexistent/model.onnx failed (status -"), "\(message)")
        #expect(message.contains("/nonexistent/model.onnx"))
        #expect(!message.contains("\n"))

        let model = try core.readModel(at: Fixtures.path("colorizer-rgb/model.onnx"))
        let request = try core.compile(model).makeRequest()
        let wrongShape = #expect(throws: InferenceError.self) {
            try request.setTensor(try Tensor(shape: [1, 1, 5, 5], floats: Array(repeating: 0, count: 25)), for: "thermal")
            try request.infer()
        }
        #expect(wrongShape?.status != nil)
    }

    @Test func int64TensorsHoldTheirValues() throws {
        let tensor = try Tensor(shape: [1, 3], int64s: [49406, 320, 49407])
        #expect(tensor.elementType == .i64)
        let data = try tensor.data().assumingMemoryBound(to: Int64.self)
        #expect(Array(UnsafeBufferPointer(start: data, count: 3)) == [49406, 320, 49407])
        let owned = try Tensor(elementType: .f32, shape: [2, 2])
        #expect(owned.elementCount == 4 && owned.shape == [2, 2])
    }
}
