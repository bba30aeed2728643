import MediaIO
import Outputs
import Pipeline

extension LiveSession {
    /// Writes `outputs`, as typed on a command line, through the live outputs
    /// factory; `encoder` replaces the low-latency profile for each of them.
    static func writing(_ outputs: [String], encoder: EncoderSettings? = nil) -> SinkFactory {
        LiveSession.outputs { _ in
            try outputs.map { text in
                var target = try OutputTarget(parsing: text)
                target.encoder = encoder.map { target.encoderOverrides.applied(to: $0) }
                return target
            }
        }
    }
}
