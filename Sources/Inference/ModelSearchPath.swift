import Foundation

/// Where bundles named on the command line (`--model road-colorizer`,
/// `--encoder minilm`) are looked for, in order:
///
/// 1. each folder of `$THERMOCOLOR_MODEL_PATH` (colon-separated);
/// 2. in a source checkout (the executable lives under a `.build*` folder):
///    the checkout's `models/` (bundles shipped in git), then `.deps/models/`
///    (bundles `Scripts/setup.sh` generates, such as `minilm`);
/// 3. the installed share folder, `<exe>/../share/thermocolor/models`;
/// 4. `$XDG_DATA_HOME/thermocolor/models` (`~/.local/share/thermocolor/models`).
///
/// A name that is an existing folder, or that contains a `/`, is a path and
/// is used as it is. docs/MODELS.md describes the same order for users.
package struct ModelSearchPath: Sendable, Equatable {
    /// The folders searched, first match wins.
    package let folders: [URL]

    package init(folders: [URL]) {
        self.folders = folders
    }

    /// The search path for this process: its environment and executable.
    package static func standard(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: URL? = ModelSearchPath.currentExecutable()
    ) -> ModelSearchPath {
        var folders: [URL] = []
        if let list = environment["THERMOCOLOR_MODEL_PATH"] {
            folders += list.split(separator: ":").filter { !$0.isEmpty }.map { URL(fileURLWithPath: String($0)) }
        }
        if let executable {
            let binFolder = executable.deletingLastPathComponent()
            if let checkout = sourceCheckout(containing: executable) {
                folders.append(checkout.appendingPathComponent("models"))
                folders.append(checkout.appendingPathComponent(".deps/models"))
            }
            folders.append(binFolder.appendingPathComponent("../share/thermocolor/models").standardizedFileURL)
        }
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            folders.append(URL(fileURLWithPath: xdg).appendingPathComponent("thermocolor/models"))
        } else if let home = environment["HOME"], home.hasPrefix("/") {
            folders.append(URL(fileURLWithPath: home).appendingPathComponent(".local/share/thermocolor/models"))
        }
        // One folder reached two ways (a symlinked checkout) is listed once.
        var seen: Set<String> = []
        return ModelSearchPath(folders: folders.filter { seen.insert($0.standardizedFileURL.path).inserted })
    }

    /// The running executable, symlinks resolved (so `.build/release` and
    /// `.build/x86_64-unknown-linux-gnu/release` agree).
    package static func currentExecutable() -> URL? {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        guard let first = CommandLine.arguments.first, first.contains("/") else { return nil }
        return URL(fileURLWithPath: first).resolvingSymlinksInPath()
    }

    /// The checkout whose build folder holds `executable`: the folder above
    /// the first path component named `.build` or `.build-…`/`.build_…`
    /// (SwiftPM's scratch paths, as .gitignore lists them), when it has a
    /// Package.swift.
    package static func sourceCheckout(containing executable: URL) -> URL? {
        let components = executable.standardizedFileURL.pathComponents
        guard let index = components.firstIndex(where: { $0 == ".build" || $0.hasPrefix(".build-") || $0.hasPrefix(".build_") }),
              index > 0
        else { return nil }
        let root = URL(fileURLWithPath: NSString.path(withComponents: Array(components[..<index])))
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) else { return nil }
        return root
    }

    /// The folder for `name`: the path itself when `name` is an existing
    /// folder or contains a `/`, else the first `folder/name` on the path.
    /// - Parameter what: how messages call the thing, e.g. "model bundle".
    package func resolve(_ name: String, what: String = "model") throws(ModelLookupError) -> URL {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory), isDirectory.boolValue {
            return URL(fileURLWithPath: name)
        }
        if name.contains("/") || name == "." || name == ".." || name.isEmpty {
            throw ModelLookupError(name: name, what: what, searched: nil)
        }
        for folder in folders {
            let candidate = folder.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue {
                return candidate
            }
        }
        throw ModelLookupError(name: name, what: what, searched: folders)
    }
}

/// A bundle name that is neither a folder nor found on the search path.
package struct ModelLookupError: Error, CustomStringConvertible, Sendable {
    package let name: String
    package let what: String
    /// The folders looked in; nil when `name` was a path.
    package let searched: [URL]?

    package var description: String {
        guard let searched else { return "no \(what) folder at '\(name)'" }
        let places = searched.isEmpty ? "nowhere: no search path" : searched.map(\.path).joined(separator: ", ")
        return "no \(what) named '\(name)' (not a folder here; looked in \(places); THERMOCOLOR_MODEL_PATH adds folders)"
    }
}

extension ModelSearchPath {
    /// Text-encoder bundles on the path whose manifest records `space`, in
    /// search order (folders in order, bundles by name within a folder).
    /// Only the manifests are read.
    package func encoders(ofSpace space: String) -> [URL] {
        var found: [URL] = []
        for folder in folders {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for name in names.sorted() {
                let bundle = folder.appendingPathComponent(name)
                for manifest in ["encoder.json", "clip.json"] {
                    guard let data = FileManager.default.contents(atPath: bundle.appendingPathComponent(manifest).path) else { continue }
                    if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                       object["textSpace"] as? String == space {
                        found.append(bundle)
                    }
                    break
                }
            }
        }
        return found
    }
}
