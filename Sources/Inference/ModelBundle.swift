import Foundation
import Text

/// A bad model bundle, as one line naming the bundle and the problem.
package struct ModelBundleError: Error, CustomStringConvertible, Sendable {
    /// The bundle folder as given.
    package let bundle: String
    package let problem: String

    package init(bundle: String, problem: String) {
        self.bundle = bundle
        self.problem = problem
    }

    package var description: String { "model bundle \(bundle): \(problem)" }
}

/// A neural colouriser on disk: a folder with `model.json` (what the
/// network is and how to feed it) and `model.onnx`, or `model.xml` with
/// `model.bin` (OpenVINO IR). docs/MODELS.md is the full contract.
///
/// Reading a bundle checks the manifest and the files; the tensors are
/// checked against the network itself when a `NeuralColorizer` loads it.
package struct ModelBundle: Sendable {
    /// What the network computes, which decides the inputs it needs.
    package enum Kind: String, Sendable, CaseIterable {
        /// Thermal (and optional text) in, colour out.
        case colorizer
        /// Thermal plus a colour reference image, e.g. a daylight shot of the scene.
        case referenceColorizer = "reference-colorizer"
        /// Thermal plus the aligned visible frame, fused into one colour image.
        case fuser
    }

    /// What the output tensor holds.
    package enum OutputKind: String, Sendable {
        /// [N,3,h,w] RGB on 0–1.
        case rgb
        /// [N,2,h,w] Lab chroma (a, b) that is joined with the thermal
        /// frame as lightness at video resolution.
        case ab
    }

    /// The resolution the network runs at.
    package enum WorkingSize: Sendable, Equatable {
        /// Frames are resized to width × height.
        case fixed(width: Int, height: Int)
        /// The network takes any size: frames go in at video size, rounded
        /// down to a multiple of `multiple` (e.g. a patch size).
        case dynamic(multiple: Int)
    }

    /// The network's tensor names, by role.
    package struct TensorNames: Sendable, Equatable {
        package var thermal: String
        package var visible: String?
        package var reference: String?
        package var text: String?
        package var output: String

        /// Input names with their roles, in a fixed order.
        var inputs: [(role: String, name: String)] {
            var list = [("thermal", thermal)]
            if let visible { list.append(("visible", visible)) }
            if let reference { list.append(("reference", reference)) }
            if let text { list.append(("text", text)) }
            return list
        }
    }

    package let folder: URL
    /// The folder's name, for messages.
    package var name: String { folder.lastPathComponent }
    package let kind: Kind
    package let workingSize: WorkingSize
    package let tensors: TensorNames
    package let output: OutputKind
    /// Multiplies the `ab` output into Lab units (networks often emit a/110).
    package let abScale: Float
    /// Length of the text vector; nil when the network takes no text.
    package let textDimension: Int?
    /// The text space the `text` input was trained in (model.json
    /// `"textSpace"`, e.g. "all-minilm-l6-v2"): prompts must be embedded by
    /// an encoder of this space. Nil for older bundles, which accept any
    /// encoder of the right dimension.
    package let textSpace: String?
    /// Prompt embeddings computed offline, so a device needs no text encoder.
    package let embeddings: [String: [Float]]
    /// The prompt used when a batch brings no embedding of its own.
    package let defaultPrompt: String?
    /// The temporal smoothing the network was shipped with (`"temporalSmoothing"`, 0–1), used
    /// unless the user chooses another; nil means none.
    package let temporalSmoothing: Double?
    /// The network file: model.onnx or model.xml.
    package let modelFile: URL
    /// model.bin beside model.xml; nil for ONNX.
    package let weightsFile: URL?

    /// Reads and checks `folder/model.json` and finds the network file.
    package init(folder: URL) throws(ModelBundleError) {
        let bundleName = folder.path
        func fail(_ problem: String) -> ModelBundleError { ModelBundleError(bundle: bundleName, problem: problem) }
        self.folder = folder

        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) else {
            throw fail("no such folder")
        }
        guard isDirectory.boolValue else { throw fail("not a folder (a bundle is a folder with model.json and model.onnx)") }

        let manifestURL = folder.appendingPathComponent("model.json")
        guard let data = FileManager.default.contents(atPath: manifestURL.path) else {
            throw fail("model.json is missing")
        }
        let json: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw fail("model.json must hold a JSON object")
            }
            json = object
        } catch let error as ModelBundleError {
            throw error
        } catch {
            throw fail("model.json is not valid JSON (\(Self.oneLine(error)))")
        }

        // kind
        guard let kindText = json["kind"] as? String else {
            throw fail("model.json needs \"kind\": one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let kind = Kind(rawValue: kindText) else {
            throw fail("unknown kind '\(kindText)' (known: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.kind = kind

        // size
        switch json["size"] {
        case let text as String where text == "dynamic":
            let multiple = (json["sizeMultiple"] as? NSNumber)?.intValue ?? 1
            guard multiple >= 1 else { throw fail("\"sizeMultiple\" must be a positive integer") }
            workingSize = .dynamic(multiple: multiple)
        case let pair as [Any]:
            let numbers = pair.compactMap { ($0 as? NSNumber)?.intValue }
            guard numbers.count == 2, pair.count == 2, numbers.allSatisfy({ $0 > 0 }) else {
                throw fail("\"size\" must be [width, height] in pixels or \"dynamic\"")
            }
            workingSize = .fixed(width: numbers[0], height: numbers[1])
        default:
            throw fail("model.json needs \"size\": [width, height] or \"dynamic\"")
        }

        // tensors
        guard let names = json["tensors"] as? [String: Any] else {
            throw fail("model.json needs \"tensors\": {\"thermal\": …, \"output\": …}")
        }
        let known: Set = ["thermal", "visible", "reference", "text", "output"]
        if let unknown = names.keys.sorted().first(where: { !known.contains($0) }) {
            throw fail("unknown tensor role '\(unknown)' (roles: thermal, visible, reference, text, output)")
        }
        func name(_ role: String) throws(ModelBundleError) -> String? {
            guard let value = names[role] else { return nil }
            guard let text = value as? String, !text.isEmpty else {
                throw fail("tensor name for '\(role)' must be a non-empty string")
            }
            return text
        }
        guard let thermal = try name("thermal") else { throw fail("\"tensors\" needs a 'thermal' input name") }
        guard let outputName = try name("output") else { throw fail("\"tensors\" needs an 'output' name") }
        let tensors = TensorNames(thermal: thermal, visible: try name("visible"), reference: try name("reference"),
                                  text: try name("text"), output: outputName)
        switch kind {
        case .colorizer:
            break
        case .referenceColorizer:
            guard tensors.reference != nil else { throw fail("a reference-colorizer needs a 'reference' tensor name") }
        case .fuser:
            guard tensors.visible != nil else { throw fail("a fuser needs a 'visible' tensor name") }
        }
        self.tensors = tensors

        // output kind
        guard let outputText = json["output"] as? String, let output = OutputKind(rawValue: outputText) else {
            throw fail("model.json needs \"output\": \"rgb\" or \"ab\"")
        }
        self.output = output
        if let scale = json["abScale"] {
            guard let number = scale as? NSNumber, number.floatValue > 0 else {
                throw fail("\"abScale\" must be a positive number")
            }
            abScale = number.floatValue
        } else {
            abScale = 1
        }

        // text
        if let dimension = json["textDimension"] {
            guard let number = dimension as? NSNumber, number.intValue > 0 else {
                throw fail("\"textDimension\" must be a positive integer")
            }
            textDimension = number.intValue
        } else {
            textDimension = nil
        }
        if tensors.text != nil, textDimension == nil {
            throw fail("a 'text' tensor needs \"textDimension\"")
        }
        if tensors.text == nil, textDimension != nil {
            throw fail("\"textDimension\" is set but \"tensors\" names no 'text' input")
        }
        if let space = json["textSpace"] {
            guard let text = space as? String, !text.isEmpty, !text.contains(where: \.isWhitespace) else {
                throw fail("\"textSpace\" must be a name without spaces, e.g. \"all-minilm-l6-v2\"")
            }
            guard tensors.text != nil else { throw fail("\"textSpace\" is set but \"tensors\" names no 'text' input") }
            textSpace = text
        } else {
            textSpace = nil
        }
        var embeddings: [String: [Float]] = [:]
        if let table = json["embeddings"] {
            guard let table = table as? [String: Any] else {
                throw fail("\"embeddings\" must map prompts to arrays of numbers")
            }
            for (prompt, value) in table {
                guard let numbers = value as? [NSNumber], numbers.count == (value as? [Any])?.count else {
                    throw fail("embedding for '\(prompt)' must be an array of numbers")
                }
                guard numbers.count == textDimension else {
                    throw fail("embedding for '\(prompt)' has \(numbers.count) values, textDimension is \(textDimension ?? 0)")
                }
                embeddings[prompt] = numbers.map(\.floatValue)
            }
        }
        self.embeddings = embeddings
        defaultPrompt = json["defaultPrompt"] as? String
        if let defaultPrompt, embeddings[defaultPrompt] == nil {
            throw fail("defaultPrompt '\(defaultPrompt)' has no entry in \"embeddings\"")
        }

        if let smoothing = json["temporalSmoothing"] {
            guard let number = smoothing as? NSNumber, (0...1).contains(number.doubleValue) else {
                throw fail("\"temporalSmoothing\" must be a number from 0 (off) to 1")
            }
            temporalSmoothing = number.doubleValue
        } else {
            temporalSmoothing = nil
        }

        // network files
        let onnx = folder.appendingPathComponent("model.onnx")
        let xml = folder.appendingPathComponent("model.xml")
        let bin = folder.appendingPathComponent("model.bin")
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: onnx.path) {
            modelFile = onnx
            weightsFile = nil
        } else if fileManager.fileExists(atPath: xml.path) {
            guard fileManager.fileExists(atPath: bin.path) else { throw fail("model.xml has no model.bin beside it") }
            modelFile = xml
            weightsFile = bin
        } else {
            throw fail("no network file: expected model.onnx, or model.xml with model.bin")
        }
    }

    /// The baked embedding for `prompt` (exact, then ignoring case and
    /// surrounding spaces), or nil when the bundle has none for it.
    package func embedding(forPrompt prompt: String) -> [Float]? {
        if let exact = embeddings[prompt] { return exact }
        let wanted = prompt.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return embeddings.first { $0.key.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() == wanted }?.value
    }

    /// The embedding used when a batch brings none: the default prompt's.
    package var defaultEmbedding: [Float]? { defaultPrompt.flatMap { embeddings[$0] } }

    /// Resolves a command line's `--prompt` or `--embedding FILE` into the
    /// text vector to pass to `NeuralColorizer`; nil when neither is given
    /// (the default prompt then applies). The file is a JSON array of
    /// numbers or raw little-endian f32 values.
    package func textEmbedding(prompt: String?, file: URL?) throws(ModelBundleError) -> [Float]? {
        func fail(_ problem: String) -> ModelBundleError { ModelBundleError(bundle: folder.path, problem: problem) }
        guard prompt != nil || file != nil else { return nil }
        guard let dimension = textDimension else { throw fail("the network takes no text; drop the prompt") }
        if let prompt {
            guard file == nil else { throw fail("give a prompt or an embedding file, not both") }
            guard let embedding = embedding(forPrompt: prompt) else {
                let known = embeddings.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
                throw fail("no embedding for the prompt '\(prompt)' (known: \(known.isEmpty ? "none" : known)); "
                           + "give an embedding file, or a text encoder of the model's space (--text-encoder, --clip; "
                           + "model.json \"textSpace\" lets one be found by itself)")
            }
            return embedding
        }
        let url = file!
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw fail("cannot read the embedding file \(url.path)")
        }
        let values: [Float]
        if let numbers = try? JSONSerialization.jsonObject(with: data) as? [NSNumber] {
            values = numbers.map(\.floatValue)
        } else if data.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") {
            // `thermocolor embed --out` output: one prompt, and the space it was computed in.
            let (table, space): ([String: [Float]], String?)
            do {
                (table, space) = try EmbeddingFile.decodeTagged(data, source: url.path)
            } catch {
                throw fail("\(error)")
            }
            guard table.count == 1, let only = table.first else {
                throw fail("the embedding file \(url.lastPathComponent) holds \(table.count) prompts; --embedding takes a file of one (or a JSON array)")
            }
            if let problem = TextSpaceCheck.problem(modelName: "model bundle \(name)", modelSpace: textSpace, modelDimension: dimension,
                                                    sourceName: "the embedding file \(url.lastPathComponent)", sourceSpace: space,
                                                    sourceDimension: only.value.count),
               space != nil || only.value.count != dimension {
                throw fail(problem)
            }
            values = only.value
        } else if Self.looksLikeText(data) {
            // Text that is not a JSON array would otherwise pass as "raw f32" whenever
            // its length happens to be a multiple of four, and colour with nonsense.
            throw fail("the embedding file \(url.lastPathComponent) is text but not a JSON array of numbers")
        } else if data.count % 4 == 0 {
            values = data.withUnsafeBytes { raw in
                (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
            // Embeddings are small numbers; random bytes read as f32 give NaNs and values like 1e30.
            guard values.allSatisfy({ $0.isFinite && abs($0) < 1e4 }) else {
                throw fail("the embedding file \(url.lastPathComponent) is neither a JSON array of numbers nor raw f32 values "
                           + "(read as f32 it holds NaN, infinite or absurdly large numbers)")
            }
        } else {
            throw fail("the embedding file \(url.lastPathComponent) is neither a JSON array of numbers nor raw f32 values")
        }
        guard values.count == dimension else {
            throw fail("the embedding file \(url.lastPathComponent) has \(values.count) values, the network takes \(dimension)")
        }
        return values
    }

    /// True when `data` is UTF-8 made of printable characters and white space only.
    static func looksLikeText(_ data: Data) -> Bool {
        guard !data.isEmpty, let text = String(data: data, encoding: .utf8) else { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            scalar.properties.generalCategory != .control || [" ", "\n", "\r", "\t"].contains(scalar)
        }
    }

    /// The working size for frames of `width` × `height`.
    func workingSize(forVideoWidth width: Int, height: Int) -> (width: Int, height: Int) {
        switch workingSize {
        case .fixed(let w, let h):
            return (w, h)
        case .dynamic(let multiple):
            return (max(multiple, width / multiple * multiple), max(multiple, height / multiple * multiple))
        }
    }

    static func oneLine(_ error: Error) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        return text.split(whereSeparator: \.isNewline).joined(separator: "; ")
    }
}
