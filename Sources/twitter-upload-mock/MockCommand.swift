import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TwitterUploadMock

/// The command line: flags override the config file, which overrides the defaults.
struct MockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twitter-upload-mock",
        abstract: "A local, faithful stand-in for upload.twitter.com media upload.")

    @Option(help: "Address to listen on.")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port: UInt16?

    @Option(help: "JSON configuration file (see docs/configuration.md).")
    var config: String?

    @Option(help: "Seed for every random choice, so runs repeat exactly.")
    var seed: UInt64?

    @Option(help: "Write the base URL to this file, atomically, once listening.")
    var readyFile: String?

    @Option(help: "debug, info, warning, error or off (logs go to stderr as JSON lines).")
    var logLevel: String?

    @Option(help: "Spool uploaded segments to files in this directory instead of memory.")
    var storageDir: String?

    @Option(help: "PEM certificate (chain) to serve HTTPS with; needs --tls-key.")
    var tlsCert: String?

    @Option(help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    @Option(help: "Generate a certificate for localhost, 127.0.0.1 and upload.twitter.com, write its CA to DIR/ca.pem, serve HTTPS.")
    var tlsSelfSigned: String?

    @Option(help: "none, oauth1 or bearer (users come from the config file's auth.users).")
    var auth: String?

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key must be given together")
        }
        if tlsSelfSigned != nil, tlsCert != nil {
            throw ValidationError("--tls-self-signed and --tls-cert exclude each other")
        }
        if let auth, AuthSettings.Mode(rawValue: auth) == nil {
            throw ValidationError("--auth must be one of none, oauth1, bearer")
        }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// The configuration file's settings with the flags applied on top.
    func mockConfiguration() throws -> MockConfiguration {
        var configuration = try config.map { try MockConfiguration.load(path: $0) } ?? MockConfiguration()
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let seed { configuration.seed = seed }
        if let storageDir { configuration.upload.storageDirectory = storageDir }
        if let logLevel { configuration.logLevel = Logger.Level(rawValue: logLevel)! }
        if let tlsCert, let tlsKey {
            configuration.tls = .init(certificatePath: tlsCert, keyPath: tlsKey)
        }
        if let tlsSelfSigned {
            configuration.tls = nil
            configuration.tlsSelfSignedDirectory = tlsSelfSigned
        }
        if let auth {
            configuration.auth.mode = AuthSettings.Mode(rawValue: auth)!
            if configuration.auth.mode != .none, configuration.auth.users.isEmpty {
                throw ValidationError("--auth \(auth) needs users in the config file (auth.users)")
            }
        }
        return configuration
    }
}

/// Writes `text` to a temporary file beside `path`, then renames it: readers never see half.
func writeAtomically(_ text: String, to path: String) throws {
    let temporary = path + ".tmp-\(getpid())"
    try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
    guard rename(temporary, path) == 0 else {
        throw ReadyFileError(path: path, errno: errno)
    }
}

struct ReadyFileError: Error, CustomStringConvertible {
    var path: String
    var errno: Int32

    var description: String { "cannot rename a temporary file to \(path): \(String(cString: strerror(errno)))" }
}
