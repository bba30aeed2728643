import ArgumentParser

/// What `thermocolor`'s exit status means, beyond ArgumentParser's 0 (done),
/// 1 (an error, named in one line) and 64 (a usage error). README.md and
/// docs/OUTPUTS.md carry the same table.
enum ExitStatus {
    /// An offline run finished, but an output did not get every frame (a
    /// peer that never answered or went away, recording stopped for lack of
    /// disk); what it did get is kept and closed.
    static let incompleteOutput: Int32 = 3
    /// The input ended before its stated end (a truncated file): every frame
    /// that could be read was written, and the outputs are closed properly.
    static let inputEndedEarly: Int32 = 4
    /// The service's configuration cannot work (sysexits' EX_CONFIG).
    static let badConfiguration: Int32 = 78

    /// Stopped by a signal before the input's end: 128 + the signal's number
    /// (130 for SIGINT, 143 for SIGTERM), as shells report it.
    static func interrupted(by signal: Int32) -> Int32 { 128 + signal }
}
