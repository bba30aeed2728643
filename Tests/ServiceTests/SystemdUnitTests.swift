import Foundation
import TestSupport
import Testing

/// `systemd-analyze verify` on the shipped units, and the install and
/// uninstall scripts run into a temporary root.
@Suite("systemd units and the install scripts", .serialized)
struct SystemdUnitTests {
    static let analyzer = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// verify insists that ExecStart's binary exists, so it checks a copy
    /// whose ExecStart names the freshly built binary; a template is checked
    /// as an instance. Returns verify's complaints (empty when clean).
    static func verify(_ unit: String, text: String? = nil) throws -> (status: Int32, complaints: String) {
        guard let analyzer else { throw TestFailure("no systemd-analyze") }
        let folder = try TemporaryFolder("units")
        defer { folder.cleanup() }
        let original = try text ?? String(contentsOfFile: packageRoot + "/systemd/" + unit, encoding: .utf8)
        let pointed = original.replacingOccurrences(of: "/usr/local/bin/thermocolor", with: thermocolorBinary)
        try pointed.write(toFile: folder.file(unit), atomically: true, encoding: .utf8)
        var target = folder.file(unit)
        if unit.hasSuffix("@.service") {
            target = folder.file(unit.replacingOccurrences(of: "@.service", with: "@cam0.service"))
            try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: folder.file(unit))
        }
        let result = try runProcess(analyzer, ["verify", "--man=no", target], timeout: 60)
        return (result.status, (result.output + result.error).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("systemd-analyze verify passes on both units without a complaint",
          .enabled(if: analyzer != nil, "systemd-analyze is missing; Scripts/setup.sh installs the systemd package"),
          arguments: ["thermocolor.service", "thermocolor@.service"])
    func unitsVerify(unit: String) throws {
        let result = try Self.verify(unit)
        #expect(result.status == 0 && result.complaints.isEmpty, "\(result.complaints)")
    }

    @Test("verify does catch a broken unit, so a clean pass means something",
          .enabled(if: analyzer != nil, "systemd-analyze is missing; Scripts/setup.sh installs the systemd package"))
    func verifyHasTeeth() throws {
        let text = try String(contentsOfFile: packageRoot + "/systemd/thermocolor.service", encoding: .utf8)
            .replacingOccurrences(of: "WatchdogSec=30", with: "WatchdogSec=thirty")
        let result = try Self.verify("thermocolor.service", text: text)
        #expect(result.complaints.contains("thirty"), "\(result.complaints)")
    }

    @Test("The units say what the service relies on")
    func unitContents() throws {
        for unit in ["thermocolor.service", "thermocolor@.service"] {
            let lines = Set(try String(contentsOfFile: packageRoot + "/systemd/" + unit, encoding: .utf8).split(separator: "\n").map(String.init))
            for required in ["Type=notify", "NotifyAccess=main", "WatchdogSec=30", "Restart=on-failure", "User=thermocolor",
                             "Group=thermocolor", "SupplementaryGroups=video", "ProtectSystem=strict", "ProtectHome=yes",
                             "PrivateTmp=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=", "AmbientCapabilities=",
                             "DevicePolicy=closed", "DeviceAllow=char-video4linux rw", "DeviceAllow=char-drm rw",
                             "ReadWritePaths=/var/lib/thermocolor", "ExecReload=/bin/kill -HUP $MAINPID",
                             "RestartPreventExitStatus=78"] {
                #expect(lines.contains(required), "\(unit) lacks \(required)")
            }
            #expect(lines.contains { $0.hasPrefix("StartLimitIntervalSec=") } && lines.contains { $0.hasPrefix("StartLimitBurst=") })
            #expect(lines.contains { $0.hasPrefix("TimeoutStopSec=") })
        }
        let template = try String(contentsOfFile: packageRoot + "/systemd/thermocolor@.service", encoding: .utf8)
        #expect(template.contains("ExecStart=/usr/local/bin/thermocolor run --config /etc/thermocolor/%i.toml"))
        let single = try String(contentsOfFile: packageRoot + "/systemd/thermocolor.service", encoding: .utf8)
        #expect(single.contains("ExecStart=/usr/local/bin/thermocolor run --config /etc/thermocolor/thermocolor.toml"))
    }

    @Test("install.sh into a temporary root, again without touching the configuration, then uninstall.sh and --purge")
    func installAndUninstall() throws {
        let folder = try TemporaryFolder("install")
        defer { folder.cleanup() }
        let root = folder.file("root")
        let files = FileManager.default
        let install = try runProcess("/bin/bash", [packageRoot + "/Scripts/install.sh", "--root", root, "--binary", thermocolorBinary], timeout: 300)
        #expect(install.status == 0, "\(install.error)")

        let installed = root + "/usr/local/bin/thermocolor"
        #expect(files.isExecutableFile(atPath: installed))
        let libraries = (try? files.contentsOfDirectory(atPath: root + "/usr/local/lib/thermocolor")) ?? []
        #expect(libraries.contains { $0.hasPrefix("libopenvino_c.so") }, "\(libraries)")
        #expect(libraries.contains("libopenvino_intel_cpu_plugin.so"), "the CPU plugin is loaded at run time, so it must go along")
        let dynamic = try runProcess("readelf", ["-d", installed])
        #expect(dynamic.output.contains("$ORIGIN/../lib/thermocolor"), "the binary must find its libraries beside it")
        for unit in ["thermocolor.service", "thermocolor@.service"] {
            #expect(files.fileExists(atPath: root + "/etc/systemd/system/" + unit))
        }
        #expect(files.fileExists(atPath: root + "/usr/local/share/doc/thermocolor/SERVICE.md"))
        #expect(files.fileExists(atPath: root + "/var/lib/thermocolor/recordings"))
        let config = root + "/etc/thermocolor/thermocolor.toml"
        let check = try runProcess(installed, ["check-config", config])
        #expect(check.status == 0, "the installed example must validate: \(check.error)")
        #expect(install.error.contains("no user created"))
        // Bundles set-up made go along, and the installed binary finds them by name.
        if files.fileExists(atPath: packageRoot + "/.deps/models/minilm/encoder.json") {
            #expect(files.fileExists(atPath: root + "/usr/local/share/thermocolor/models/minilm/model.onnx"))
            var environment = ProcessInfo.processInfo.environment
            environment["THERMOCOLOR_MODEL_PATH"] = nil
            environment["XDG_DATA_HOME"] = folder.file("no-data")
            let tokenized = try runProcess(installed, ["tokenize", "--encoder", "minilm", "a photo of a dog"], environment: environment)
            #expect(tokenized.output.trimmingCharacters(in: .whitespacesAndNewlines) == "[101,1037,6302,1997,1037,3899,102]",
                    "\(tokenized.error)")
        }
        // As on a machine without the toolchain or .deps: the build's rpaths
        // ignored, only the installed library folder searched.
        let header = try runProcess("readelf", ["-l", installed]).output
        let range = header.range(of: #"interpreter: ([^\]]+)\]"#, options: .regularExpression)
        #expect(range != nil, "no program interpreter named in \(installed)")
        if let range {
            let interpreter = String(header[range].dropFirst("interpreter: ".count).dropLast())
            let alone = try runProcess(interpreter, ["--inhibit-rpath", installed, "--library-path", root + "/usr/local/lib/thermocolor",
                                                     installed, "check-config", config])
            #expect(alone.status == 0, "the installed binary needs libraries it did not bring: \(alone.error)")
        }

        // An edited configuration survives a second install and a plain uninstall.
        try (String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "\"ironbow\"", with: "\"rainbow\""))
            .write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try runProcess("/bin/bash", [packageRoot + "/Scripts/install.sh", "--root", root, "--binary", thermocolorBinary], timeout: 300).status == 0)
        #expect(try String(contentsOfFile: config, encoding: .utf8).contains("\"rainbow\""))
        _ = files.createFile(atPath: root + "/var/lib/thermocolor/recordings/keep.mp4", contents: Data([1, 2, 3]))

        let uninstall = try runProcess("/bin/bash", [packageRoot + "/Scripts/uninstall.sh", "--root", root])
        #expect(uninstall.status == 0, "\(uninstall.error)")
        #expect(!files.fileExists(atPath: installed))
        #expect(!files.fileExists(atPath: root + "/usr/local/lib/thermocolor"))
        #expect(!files.fileExists(atPath: root + "/usr/local/share/thermocolor"))
        #expect(!files.fileExists(atPath: root + "/etc/systemd/system/thermocolor.service"))
        #expect(!files.fileExists(atPath: root + "/etc/systemd/system/thermocolor@.service"))
        #expect(files.fileExists(atPath: root + "/var/lib/thermocolor/recordings/keep.mp4"), "recordings stay without --purge")
        #expect(files.fileExists(atPath: config), "an edited configuration stays without --purge")

        let purge = try runProcess("/bin/bash", [packageRoot + "/Scripts/uninstall.sh", "--root", root, "--purge"])
        #expect(purge.status == 0, "\(purge.error)")
        #expect(!files.fileExists(atPath: root + "/var/lib/thermocolor"))
        #expect(!files.fileExists(atPath: root + "/etc/thermocolor"))
    }

    @Test("An untouched example configuration goes with a plain uninstall; --prefix moves everything and the units follow")
    func prefixAndPristineConfig() throws {
        let folder = try TemporaryFolder("install")
        defer { folder.cleanup() }
        let root = folder.file("root")
        let install = try runProcess("/bin/bash", [packageRoot + "/Scripts/install.sh", "--root", root, "--prefix", "/opt/thermocolor",
                                                   "--binary", thermocolorBinary], timeout: 300)
        #expect(install.status == 0, "\(install.error)")
        #expect(FileManager.default.isExecutableFile(atPath: root + "/opt/thermocolor/bin/thermocolor"))
        let unit = try String(contentsOfFile: root + "/etc/systemd/system/thermocolor.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/opt/thermocolor/bin/thermocolor run --config /etc/thermocolor/thermocolor.toml"))
        #expect(unit.contains("file:/opt/thermocolor/share/doc/thermocolor/SERVICE.md"))
        let uninstall = try runProcess("/bin/bash", [packageRoot + "/Scripts/uninstall.sh", "--root", root, "--prefix", "/opt/thermocolor"])
        #expect(uninstall.status == 0, "\(uninstall.error)")
        #expect(!FileManager.default.fileExists(atPath: root + "/opt/thermocolor/bin/thermocolor"))
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/thermocolor"), "the untouched example goes")
        #expect(FileManager.default.fileExists(atPath: root + "/var/lib/thermocolor/recordings"))
        let bad = try runProcess("/bin/bash", [packageRoot + "/Scripts/install.sh", "--root", root, "--prefix", "relative"])
        #expect(bad.status != 0 && bad.error.contains("--prefix must be an absolute path"))
    }
}
