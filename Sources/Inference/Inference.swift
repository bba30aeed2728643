internal import COpenVINO

/// The OpenVINO runtime's build string, for `thermocolor probe` and logs.
package func openVINOVersion() -> String {
    var version = ov_version_t()
    guard ov_get_openvino_version(&version) == OK else { return "unknown" }
    defer { ov_version_free(&version) }
    return String(cString: version.buildNumber)
}
