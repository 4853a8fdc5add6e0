/// A problem in JSON a user wrote (a config file, or a rule sent to the admin API), naming
/// where it is: `config.json: line 3, column 18: duplicate key 'port'`, or
/// `limits.chunk_bytes must be an integer from 1 to 1073741824`.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The whole explanation, as printed by the command line.
    public var message: String

    /// An error with this explanation.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
