/// A configuration or input the imaging core cannot work with, with a
/// one-line message that names the thing and the cause.
public struct ImagingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
