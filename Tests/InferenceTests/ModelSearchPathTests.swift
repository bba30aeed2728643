import Foundation
import Testing
import Inference

/// A fresh folder under the temporary directory, removed by the caller.
private func makeFolder(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("thermocolor-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

struct ModelSearchPathTests {
    @Test func searchOrderIsEnvironmentCheckoutShareThenXDG() throws {
        let root = try makeFolder("search")
        defer { try? FileManager.default.removeItem(at: root) }
        let checkout = root.appendingPathComponent("checkout")
        try FileManager.default.createDirectory(at: checkout.appendingPathComponent(".build/x86_64-unknown-linux-gnu/release"),
                                                withIntermediateDirectories: true)
        try Data("// swift-tools-version: 6.0\n".utf8).write(to: checkout.appendingPathComponent("Package.swift"))
        let executable = checkout.appendingPathComponent(".build/x86_64-unknown-linux-gnu/release/thermocolor")
        let path = ModelSearchPath.standard(
            environment: ["THERMOCOLOR_MODEL_PATH": "/opt/a::/opt/b", "XDG_DATA_HOME": "/data", "HOME": "/home/x"],
            executable: executable)
        #expect(path.folders.map(\.path) == [
            "/opt/a", "/opt/b",
            checkout.path + "/models", checkout.path + "/.deps/models",
            checkout.path + "/.build/x86_64-unknown-linux-gnu/share/thermocolor/models",
            "/data/thermocolor/models",
        ])
    }

    @Test func installedBinaryUsesShareAndHomeDefault() {
        let path = ModelSearchPath.standard(environment: ["HOME": "/home/x"],
                                            executable: URL(fileURLWithPath: "/usr/local/bin/thermocolor"))
        #expect(path.folders.map(\.path) == ["/usr/local/share/thermocolor/models", "/home/x/.local/share/thermocolor/models"])
    }

    @Test func firstMatchWinsAndPathsAreUsedAsGiven() throws {
        let first = try makeFolder("first")
        let second = try makeFolder("second")
        defer {
            try? FileManager.default.removeItem(at: first)
            try? FileManager.default.removeItem(at: second)
        }
        try FileManager.default.createDirectory(at: second.appendingPathComponent("road"), withIntermediateDirectories: true)
        let path = ModelSearchPath(folders: [first, second])
        #expect(try path.resolve("road").path == second.appendingPathComponent("road").path)
        try FileManager.default.createDirectory(at: first.appendingPathComponent("road"), withIntermediateDirectories: true)
        #expect(try path.resolve("road").path == first.appendingPathComponent("road").path)
        // A folder path is taken as it is, even when a bundle of that name is on the path.
        #expect(try path.resolve(second.appendingPathComponent("road").path).path == second.appendingPathComponent("road").path)
    }

    @Test func unknownNameIsOneLineListingTheFolders() throws {
        let path = ModelSearchPath(folders: [URL(fileURLWithPath: "/nowhere/a"), URL(fileURLWithPath: "/nowhere/b")])
        do {
            _ = try path.resolve("no-such-model", what: "text encoder")
            Issue.record("an unknown name resolved")
        } catch {
            let text = error.description
            #expect(!text.contains("\n"))
            #expect(text.contains("no text encoder named 'no-such-model'"))
            #expect(text.contains("/nowhere/a, /nowhere/b"))
        }
        #expect(throws: ModelLookupError.self) { try path.resolve("./missing/folder") }
    }

    @Test func testsFindTheCheckoutLikeTheCommand() throws {
        // The test binary lives under .build as the command does.
        let executable = try #require(ModelSearchPath.currentExecutable())
        let checkout = try #require(ModelSearchPath.sourceCheckout(containing: executable))
        #expect(FileManager.default.fileExists(atPath: checkout.appendingPathComponent("Sources/Inference").path))
    }
}
