internal import COpenVINO
import Foundation

/// A failed OpenVINO call or a request the engine cannot serve, as one line:
/// the operation, OpenVINO's status code and OpenVINO's own message.
package struct InferenceError: Error, CustomStringConvertible, Sendable {
    /// What was being done, e.g. `compile model for CPU`.
    package let operation: String
    /// The `ov_status_e` value (`-1` is GENERAL_ERROR); nil when the engine
    /// itself refused the request before calling OpenVINO.
    package let status: Int32?
    /// OpenVINO's status text and last error message, or the engine's reason.
    package let message: String

    package init(operation: String, status: Int32? = nil, message: String) {
        self.operation = operation
        self.status = status
        self.message = message
    }

    package var description: String {
        if let status {
            return "OpenVINO: \(operation) failed (status \(status)): \(message)"
        }
        return "neural colouriser: \(operation): \(message)"
    }
}

/// Throws an `InferenceError` for any status but OK, carrying OpenVINO's
/// last error message folded onto one line.
@inline(__always)
func check(_ status: ov_status_e, _ operation: @autoclosure () -> String) throws(InferenceError) {
    guard status != OK else { return }
    throw InferenceError(operation: operation(), status: status.rawValue, message: lastErrorText(status))
}

/// OpenVINO's name for `status` plus its last error message. The message
/// is a heap copy (freed here) and often spans many lines with C++ source
/// locations; only the lines that say something are kept, joined by "; ".
private func lastErrorText(_ status: ov_status_e) -> String {
    let statusName = ov_get_error_info(status).map { String(cString: $0) } ?? "unknown status"
    guard let raw = ov_get_last_err_msg() else { return statusName }
    defer { ov_free(raw) }
    let lines = String(cString: raw)
        .split(whereSeparator: \.isNewline)
        .map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty && !$0.hasPrefix("Check '") && !$0.hasPrefix("Exception from src/") }
    guard !lines.isEmpty else { return statusName }
    // A line ending in ":" introduces the next, so it joins with a space.
    var text = ""
    for line in lines {
        if !text.isEmpty { text += text.hasSuffix(":") ? " " : "; " }
        text += line
    }
    return "\(statusName): \(text)"
}
