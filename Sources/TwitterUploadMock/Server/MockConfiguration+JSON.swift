#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
package import Logging
import UploadMockAuth
import UploadMockChaos
import UploadMockDomain
import UploadMockJSON

extension MockConfiguration {
    /// Reads a config file (docs/configuration.md). Errors name the file and the line and
    /// column of a syntax error, or the path of the offending key. Relative paths in the file
    /// (`storage_dir`, `scenarios_dir`, `tls.*`) are taken from the file's own directory.
    public static func load(path: String) throws(ConfigurationError) -> MockConfiguration {
        guard FileManager.default.fileExists(atPath: path) else { throw ConfigurationError("config file \(path) does not exist") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("config file \(path) cannot be read (check its permissions)")
        }
        do {
            var configuration = try MockConfiguration(json: Array(data))
            configuration.resolvePaths(relativeTo: directory(of: path))
            return configuration
        } catch {
            throw ConfigurationError("config file \(path): \(error.message)")
        }
    }

    /// Reads a configuration from JSON text, as a config file holds it (without a `port`, 8080).
    public init(json: [UInt8]) throws(ConfigurationError) {
        self = try JSONReader.decode(MockConfiguration.self, from: JSONParser.parse(json), path: "")
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private mutating func resolvePaths(relativeTo directory: String) {
        func resolve(_ path: String) -> String { path.hasPrefix("/") ? path : "\(directory)/\(path)" }
        upload.storageDirectory = upload.storageDirectory.map(resolve)
        scenariosDirectory = scenariosDirectory.map(resolve)
        tlsSelfSignedDirectory = tlsSelfSignedDirectory.map(resolve)
        tls = tls.map { TLSFiles(certificatePath: resolve($0.certificatePath), keyPath: resolve($0.keyPath)) }
    }
}

extension MockConfiguration: JSONReadable {
    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        self.init()
        host = try reader.string("host") ?? host
        port = try reader.int("port", in: 0...65535).map(UInt16.init) ?? Self.commandLinePort
        seed = try reader.uint64("seed") ?? seed
        connectionTimeoutSeconds = try reader.int("connection_timeout_secs", in: 1...86_400) ?? connectionTimeoutSeconds
        connections = try reader.decode("connections") ?? connections
        if let level: LogLevelSetting = try reader.choice("log_level") { logLevel = level.level }
        upload.storageDirectory = try reader.string("storage_dir")
        upload.expiresAfterSeconds = try reader.int("expires_after_secs", in: 1...Int(Int32.max)) ?? upload.expiresAfterSeconds
        upload.amplifyVideoExpiresAfterSeconds = try reader.int("amplify_video_expires_after_secs", in: 1...Int(Int32.max))
            ?? upload.amplifyVideoExpiresAfterSeconds
        upload.limits = try reader.decode("limits") ?? upload.limits
        upload.processing = try reader.decode("processing") ?? upload.processing
        rateLimits = try reader.decodeArray("rate_limits") ?? rateLimits
        realRateLimits = try reader.bool("real_rate_limits") ?? realRateLimits
        // `[]` once turned rate limiting off; now that rules are added beside the real ones it
        // would silently leave them on.
        if case .array([])? = reader.value("rate_limits") {
            throw ConfigurationError("rate_limits: [] adds nothing: its rules count beside the real limits. "
                                     + "To turn the real limits off, set \"real_rate_limits\": false")
        }
        faults = try reader.decodeArray("faults") ?? faults
        for (index, rule) in faults.enumerated() {
            try rule.checkBodyReach(limits: upload.limits, path: reader.name("faults[\(index)]"))
        }
        for (index, name) in (try reader.array("scenarios") ?? []).enumerated() {
            guard case .string(let name) = name else {
                throw ConfigurationError("\(reader.name("scenarios[\(index)]")) must be a scenario's name, a string")
            }
            scenarios.append(name)
        }
        scenariosDirectory = try reader.string("scenarios_dir")
        if let tls: TLSSetting = try reader.decode("tls") {
            self.tls = tls.files
            tlsSelfSignedDirectory = tls.selfSignedDirectory
        }
        auth = try reader.decode("auth") ?? auth
        compatibility = try reader.decode("compatibility") ?? compatibility
        if let journal: JournalSetting = try reader.decode("journal") {
            maxJournalEntries = journal.maxEntries ?? maxJournalEntries
            maxJournalBytes = journal.maxBytes ?? maxJournalBytes
        }
        if let admin: AdminSetting = try reader.decode("admin") {
            maxAdminBodyBytes = admin.maxBodyBytes ?? maxAdminBodyBytes
            maxAdminRules = admin.maxRules ?? maxAdminRules
            maxScopedClocks = admin.maxScopedClocks ?? maxScopedClocks
        }
    }
}

/// The `admin` object: the admin API's bounds.
private struct AdminSetting: JSONReadable {
    var maxBodyBytes: Int?
    var maxRules: Int?
    var maxScopedClocks: Int?

    init(json reader: inout JSONReader) throws(ConfigurationError) {
        maxBodyBytes = try reader.int("max_body_bytes", in: 1024...(64 * 1024 * 1024))
        maxRules = try reader.int("max_rules", in: 1...1_000_000)
        maxScopedClocks = try reader.int("max_scoped_clocks", in: 1...1_000_000)
    }
}

/// `log_level`: one of swift-log's levels, or `off`.
package enum LogLevelSetting: String, CaseIterable, Sendable {
    case trace, debug, info, notice, warning, error, critical, off

    package var level: Logger.Level? {
        self == .off ? nil : Logger.Level(rawValue: rawValue)
    }
}

/// The `tls` object: certificate and key files, or a directory for a generated CA.
private struct TLSSetting: JSONReadable {
    var files: MockConfiguration.TLSFiles?
    var selfSignedDirectory: String?

    init(json reader: inout JSONReader) throws(ConfigurationError) {
        selfSignedDirectory = try reader.string("self_signed_dir")
        let certificate = try reader.string("cert"), key = try reader.string("key")
        try reader.finish()
        if let certificate, let key {
            files = MockConfiguration.TLSFiles(certificatePath: certificate, keyPath: key)
        } else if certificate != nil || key != nil || selfSignedDirectory == nil {
            throw ConfigurationError("\(reader.path) needs cert and key (PEM file paths), or self_signed_dir")
        }
    }
}

/// The `journal` object: its bounds.
private struct JournalSetting: JSONReadable {
    var maxEntries: Int?
    var maxBytes: Int?

    init(json reader: inout JSONReader) throws(ConfigurationError) {
        maxEntries = try reader.int("max_entries", in: 1...10_000_000)
        maxBytes = try reader.int("max_bytes", in: 4096...Int(Int64(1) << 36))
    }
}
