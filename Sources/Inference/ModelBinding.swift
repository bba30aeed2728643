/// How a bundle's roles map onto the network's real tensors: found by
/// checking model.json against the model's inputs and outputs, so that a
/// mismatch is one clear error at load time, not a failure mid-video.
struct ModelBinding: Sendable {
    /// Frames per inference when the network's batch is fixed; nil when dynamic.
    var fixedBatch: Int?
    /// The text input takes one row for the whole batch ([1,D]).
    var textIsBroadcast: Bool

    init(bundle: ModelBundle, inputs: [TensorDescription], outputs: [TensorDescription]) throws(ModelBundleError) {
        let tensors = bundle.tensors
        func fail(_ problem: String) -> ModelBundleError { ModelBundleError(bundle: bundle.folder.path, problem: problem) }
        func listing(_ list: [TensorDescription]) -> String { list.map(\.description).joined(separator: ", ") }

        // Every role names a real tensor, and every network input has a role.
        var byRole: [String: TensorDescription] = [:]
        for (role, name) in tensors.inputs {
            guard let input = inputs.first(where: { $0.name == name }) else {
                throw fail("model.json names the \(role) input '\(name)', but the network's inputs are \(listing(inputs))")
            }
            byRole[role] = input
        }
        let named = Set(tensors.inputs.map(\.name))
        if let stray = inputs.first(where: { !named.contains($0.name) }) {
            throw fail("network input '\(stray.name)' has no role in model.json \"tensors\"")
        }
        guard let output = outputs.first(where: { $0.name == tensors.output }) else {
            throw fail("model.json names the output '\(tensors.output)', but the network's outputs are \(listing(outputs))")
        }
        for tensor in Array(byRole.values) + [output] where tensor.elementType != .f32 {
            throw fail("tensor '\(tensor.name)' is \(tensor.elementType); the contract wants f32")
        }

        // Image inputs: [N, C, H, W] with the right C and the working size.
        let channelsByRole = ["thermal": 1, "visible": 3, "reference": 3]
        var batches: [Int?] = []
        for (role, name) in tensors.inputs where role != "text" {
            let input = byRole[role]!
            guard let shape = input.shape, shape.count == 4 else {
                throw fail("\(role) input '\(name)' must be rank 4 [N,\(channelsByRole[role]!),H,W], the network has \(input)")
            }
            let channels = channelsByRole[role]!
            if let actual = shape[1], actual != channels {
                throw fail("\(role) input '\(name)' has \(actual) channels, the contract wants \(channels)")
            }
            batches.append(shape[0])
            switch bundle.workingSize {
            case .fixed(let width, let height):
                if let h = shape[2], let w = shape[3], (w, h) != (width, height) {
                    throw fail("\(role) input '\(name)' is \(w)×\(h), but model.json \"size\" is [\(width), \(height)]")
                }
            case .dynamic:
                if let h = shape[2], let w = shape[3] {
                    throw fail("\(role) input '\(name)' is fixed at \(w)×\(h); set \"size\": [\(w), \(h)] instead of \"dynamic\"")
                }
            }
        }
        let staticBatches = Set(batches.compactMap { $0 })
        if staticBatches.count > 1 || (!staticBatches.isEmpty && batches.contains(where: { $0 == nil })) {
            throw fail("image inputs disagree on the batch size (\(batches.map { $0.map(String.init) ?? "?" }))")
        }
        fixedBatch = staticBatches.first
        if let fixedBatch, fixedBatch < 1 {
            throw fail("batch size \(fixedBatch) is not usable")
        }

        // Text: [1, D] for one prompt per batch, or [N, D].
        textIsBroadcast = false
        if let name = tensors.text, let dimension = bundle.textDimension {
            let input = byRole["text"]!
            guard let shape = input.shape, shape.count == 2 else {
                throw fail("text input '\(name)' must be rank 2 [N or 1, \(dimension)], the network has \(input)")
            }
            if let actual = shape[1], actual != dimension {
                throw fail("text input '\(name)' takes \(actual) values, but model.json \"textDimension\" is \(dimension)")
            }
            switch shape[0] {
            case 1?: textIsBroadcast = true
            case nil: textIsBroadcast = false
            case let rows? where rows == fixedBatch: textIsBroadcast = false
            case let rows?:
                throw fail("text input '\(name)' has \(rows) rows; it must have 1 or the batch size")
            }
        }

        // Output: [N, 3, h, w] for rgb, [N, 2, h, w] for ab; any h, w.
        let outputChannels = bundle.output == .rgb ? 3 : 2
        guard let outputShape = output.shape, outputShape.count == 4 else {
            throw fail("output '\(output.name)' must be rank 4 [N,\(outputChannels),h,w], the network has \(output)")
        }
        if let actual = outputShape[1], actual != outputChannels {
            throw fail("output '\(output.name)' has \(actual) channels; output \"\(bundle.output.rawValue)\" needs \(outputChannels)")
        }
        if let rows = outputShape[0], let fixedBatch, rows != fixedBatch {
            throw fail("output '\(output.name)' has batch \(rows), the inputs have \(fixedBatch)")
        }
    }
}
