public import ArgumentParser
import TwitterUploadMock

/// The command line: flags override the config file, which overrides the defaults.
struct MockCommand: ParsableCommand {
    static let version = UploadMockServer.version

    static let configuration = CommandConfiguration(
        commandName: "twitter-upload-mock",
        abstract: "A local, faithful stand-in for X's media upload API (v1.1 and v2).",
        discussion: "Flags override the config file (docs/configuration.md), which overrides the defaults.",
        version: version)

    private static let defaults = MockConfiguration()

    /// The defaults of code, but for the port: the command line listens on 8080 unless told.
    private static var commandLineDefaults: MockConfiguration {
        var configuration = MockConfiguration()
        configuration.port = MockConfiguration.commandLinePort
        return configuration
    }

    @Option(help: "Address to listen on: IPv4, IPv6 or localhost (default: \(defaults.host)).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (default: \(MockConfiguration.commandLinePort)).")
    var port: UInt16?

    @Option(help: ArgumentHelp("JSON configuration file (docs/configuration.md).", valueName: "file"))
    var config: String?

    @Option(help: "Seed for every random choice, so runs repeat exactly (default: random).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Write the base URL to this file, atomically, once listening.", valueName: "file"))
    var readyFile: String?

    @Option(help: "Logs go to stderr as JSON lines (default: info).")
    var logLevel: LogLevelSetting?

    @Option(help: ArgumentHelp("Spool uploaded segments to files in this directory (default: memory).", valueName: "dir"))
    var storageDir: String?

    @Option(help: ArgumentHelp("PEM certificate (chain) to serve HTTPS with; needs --tls-key.", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM private key for --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(help: ArgumentHelp("Generate a certificate for localhost, 127.0.0.1 and the X upload hosts, write its CA to DIR/ca.pem, serve HTTPS.", valueName: "dir"))
    var tlsSelfSigned: String?

    @Option(help: "Users come from the config file's auth.users (default: none).")
    var auth: AuthSettings.Mode?

    @Flag(help: "Stop (as on SIGTERM) when standard input reaches end of file: start the server with stdin a pipe that only the parent process writes to, and it stops when the parent does, even one killed with SIGKILL.")
    var exitWithParent = false

    @Option(help: ArgumentHelp("Install this scenario at start and after every reset; repeat for several (docs/faults.md, Scenarios).", valueName: "name"))
    var scenario: [String] = []

    @Option(help: ArgumentHelp("Your own scenario files, NAME.json, known beside the shipped ones.", valueName: "dir"))
    var scenariosDir: String?

    @Flag(help: "Print every scenario's name and description, one a line, and exit.")
    var listScenarios = false

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key must be given together")
        }
        if tlsSelfSigned != nil, tlsCert != nil {
            throw ValidationError("--tls-self-signed and --tls-cert exclude each other")
        }
    }

    /// The configuration file's settings with the flags applied on top.
    func mockConfiguration() throws -> MockConfiguration {
        var configuration = try config.map { path throws(ConfigurationError) in try MockConfiguration.load(path: path) }
            ?? Self.commandLineDefaults
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let seed { configuration.seed = seed }
        if let storageDir { configuration.upload.storageDirectory = storageDir }
        if let scenariosDir { configuration.scenariosDirectory = scenariosDir }
        configuration.scenarios += scenario
        if let logLevel { configuration.logLevel = logLevel.level }
        if let tlsCert, let tlsKey {
            configuration.tls = .init(certificatePath: tlsCert, keyPath: tlsKey)
        }
        if let tlsSelfSigned {
            configuration.tls = nil
            configuration.tlsSelfSignedDirectory = tlsSelfSigned
        }
        if let auth {
            configuration.auth.mode = auth
            if auth != .none, configuration.auth.users.isEmpty {
                throw ValidationError("--auth \(auth.rawValue) needs users in the config file (auth.users)")
            }
        }
        return configuration
    }
}

// The values are listed from the raw values, as typed. ArgumentParser's default lists
// and describes them through `String(describing:)`, runtime reflection that cost 1.4 M
// instructions at every start (docs/performance.md, Startup); the help is the same.
extension LogLevelSetting: ExpressibleByArgument {
    static var allValueStrings: [String] { allCases.map(\.rawValue) }
    static var allValueDescriptions: [String: String] { [:] }
}

extension AuthSettings.Mode: ExpressibleByArgument {
    static var allValueStrings: [String] { allCases.map(\.rawValue) }
    static var allValueDescriptions: [String: String] { [:] }
}
