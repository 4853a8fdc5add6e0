public import Logging

/// Everything the mock can be told at startup: by flags, by the JSON config file
/// (docs/configuration.md), or in code.
///
/// ```swift
/// var configuration = MockConfiguration()
/// configuration.upload.limits.chunkBytes = 1024
/// configuration.faults = [FaultRule(match: RequestMatch(command: .append), action: FaultAction(status: 503), times: 1)]
/// try await withUploadMock(configuration) { mock in … }
/// ```
public struct MockConfiguration: Sendable {
    /// Address to listen on: IPv4, IPv6 or `localhost`. Default `127.0.0.1`.
    public var host = "127.0.0.1"
    /// 0 picks a free port, so test suites running side by side never collide: the default in
    /// code. The command line and config files default to `commandLinePort` (8080) instead, and
    /// `withUploadMock` always uses 0.
    public var port: UInt16 = 0
    /// The port of the command line and of a config file that names none.
    public static let commandLinePort: UInt16 = 8080
    /// Seeds every random choice (media ids, probabilistic faults); nil picks one at random.
    public var seed: UInt64?
    /// The command line's log level; nil is `off`. An embedding program passes its own
    /// `Logger` to `UploadMockServer` instead, and this is ignored.
    public var logLevel: Logger.Level? = .info
    /// Idle seconds before a connection (or a hung request) is closed. Default 60.
    public var connectionTimeoutSeconds = 60
    /// Bounds that keep floods of idle, slow or abandoned connections from locking clients out.
    public var connections = ConnectionLimits()
    /// Limits, expiry, processing and spooling of uploads.
    public var upload = UploadSettings()
    /// Rate limits in force beside the real service's (docs/configuration.md, Rate limits). Default none.
    public var rateLimits: [RateLimitRule] = []
    /// Whether the real service's limits (`RateLimitRule.realDefaults`) are in force at startup
    /// and after a reset. Default true; false leaves only `rateLimits`.
    public var realRateLimits = true
    /// Fault rules in force at startup (and after a reset).
    public var faults: [FaultRule] = []
    /// Scenarios installed for everyone at startup (and after a reset), by name
    /// (docs/faults.md, Scenarios): the shipped ones and those in `scenariosDirectory`.
    public var scenarios: [String] = []
    /// A directory of the user's own scenario files, `NAME.json`, known beside the shipped ones.
    public var scenariosDirectory: String?
    /// Journal entries kept; the oldest go first. Default 10,000.
    public var maxJournalEntries = 10_000
    /// Journal bytes kept (estimated); the oldest entries go first. Default 32 MiB.
    public var maxJournalBytes = 32 * 1024 * 1024
    /// The largest admin API request body; past it, 413. Default 1 MiB.
    public var maxAdminBodyBytes = 1024 * 1024
    /// Fault rules, and separately rate limits, the admin API lets be in force; past it, 409.
    /// Rules given here in `faults` and `rateLimits` count but are never refused. Default 10,000.
    public var maxAdminRules = 10_000
    /// Scopes that may have their own clock at once (`X-Mock-Scope` on `POST /__admin/clock`);
    /// past it, 409. Default 10,000.
    public var maxScopedClocks = 10_000
    /// Serve HTTPS with these PEM files.
    public var tls: TLSFiles?
    /// Generate a key and certificate for localhost, 127.0.0.1 and upload.twitter.com, write
    /// the CA certificate to `DIR/ca.pem`, and serve HTTPS.
    public var tlsSelfSignedDirectory: String?
    /// Who may use the upload endpoints. Default: anyone.
    public var auth = AuthSettings()
    /// Deliberate departures from the real service for known clients; all off by default.
    public var compatibility = Compatibility()

    /// Every setting at its default.
    public init() {}

    var servesHTTPS: Bool { tls != nil || tlsSelfSignedDirectory != nil }

    /// The rate limits in force at startup and after a reset: the real ones, then the added ones.
    var startupRateLimits: [RateLimitRule] { (realRateLimits ? RateLimitRule.realDefaults : []) + rateLimits }

    /// PEM files for HTTPS.
    public struct TLSFiles: Sendable, Equatable {
        /// A PEM certificate chain.
        public var certificatePath: String
        /// The PEM private key of the certificate.
        public var keyPath: String

        /// Both paths, relative to the working directory (or to the config file, when read from one).
        public init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }
}
