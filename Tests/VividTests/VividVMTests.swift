import Foundation
import TestSupport
import Testing

/// Boots the vivid VM (Scripts/vm/run.sh) and runs `VividGuestTests` in it
/// with this very test binary, which the guest reaches through the host's
/// / shared read-only. Skips, saying why, where the VM cannot run.
@Suite("Capture against Linux's vivid driver in a QEMU guest")
struct VividVMTests {
    /// Why the VM cannot run here; nil when it can.
    static let unavailable: String? = {
        var system = utsname()
        uname(&system)
        let machine = withUnsafeBytes(of: system.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard machine == "x86_64" else { return "the vivid VM test needs an x86_64 host (this is \(machine))" }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard path.split(separator: ":").contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/qemu-system-x86_64") }) else {
            return "QEMU is not installed (Scripts/setup.sh installs qemu-system-x86)"
        }
        let vm = packageRoot + "/.deps/vm"
        guard FileManager.default.fileExists(atPath: vm + "/initrd.img"), FileManager.default.fileExists(atPath: vm + "/vmlinuz") else {
            return "no guest in .deps/vm (Scripts/vm/prepare.sh makes it)"
        }
        return nil
    }()

    @Test("the guest's capture tests pass against /dev/video0",
          .enabled(if: unavailable == nil, Comment(rawValue: unavailable ?? "")))
    func guestTestsPass() throws {
        let results = try TemporaryFolder("vivid-vm")
        defer { results.cleanup() }
        let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        try """
            export THERMOCOLOR_VIVID_GUEST=1
            exec '\(testBinary)' --testing-library swift-testing --filter VividGuestTests
            """.write(toFile: results.file("run.sh"), atomically: true, encoding: .utf8)
        let started = Date()
        let vm = try runProcess(packageRoot + "/Scripts/vm/run.sh", [results.path, "300"], timeout: 330)
        let seconds = Date().timeIntervalSince(started)
        let output = (try? String(contentsOfFile: results.file("output.txt"), encoding: .utf8)) ?? ""
        let lines = output.split(separator: "\n").map(String.init)
        // swift-testing's own summary, and the lines of every failure.
        let summary = lines.last { $0.contains("Test run with") } ?? "no test summary"
        let failures = lines.filter { $0.contains("✘") || $0.contains("recorded an issue") }
        let console = ((try? String(contentsOfFile: results.file("console.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").suffix(15).joined(separator: "\n")
        #expect(vm.status == 0, """
            the guest's tests failed (status \(vm.status)): \(summary)
            \(failures.isEmpty ? lines.suffix(40).joined(separator: "\n") : failures.joined(separator: "\n"))
            \(vm.error)
            guest console:
            \(console)
            """)
        #expect(summary.contains("passed"), "\(summary)")
        // A summary such as "Test run with 14 tests in 1 suite passed": the
        // guest suite must really have run.
        #expect(!summary.contains("with 0 tests"), "\(summary)")
        print("vivid VM: \(summary.drop { $0 != "T" }) (\(Int(seconds.rounded())) s with boot)")
    }
}
