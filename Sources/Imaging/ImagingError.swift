/// A configuration or input the imaging core cannot work with, with a
/// one-line message that names the thing and the cause.
package struct ImagingError: Error, Sendable, Equatable, CustomStringConvertible {
    package let message: String

    package init(_ message: String) {
        self.message = message
    }

    package var description: String { message }
}
