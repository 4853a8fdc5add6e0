#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything the mock can be told at startup: by flags, by the JSON config file, or in code.
public struct MockConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port: UInt16 = 8080
    /// Seeds every random choice (media ids, probabilistic faults); nil picks one at random.
    public var seed: UInt64?
    public var logLevel = Logger.Level.info
    /// Idle seconds before a connection (or a hung request) is closed.
    public var connectionTimeoutSeconds = 60
    public var upload = UploadSettings()
    /// Defaults to the real service's limits; empty disables rate limiting.
    public var rateLimits = RateLimitRule.realDefaults
    public var faults: [FaultRule] = []
    public var tls: TLSFiles?
    /// Generate a key and certificate for localhost, 127.0.0.1 and upload.twitter.com, write
    /// the CA certificate to `DIR/ca.pem`, and serve HTTPS.
    public var tlsSelfSignedDirectory: String?
    public var auth = AuthSettings()

    public init() {}

    var servesHTTPS: Bool { tls != nil || tlsSelfSignedDirectory != nil }

    public struct TLSFiles: Sendable, Equatable {
        public var certificatePath: String
        public var keyPath: String

        public init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }
}

extension MockConfiguration {
    /// Reads a config file (SPEC section 5); errors name the file and the offending key.
    public static func load(path: String) throws(JSONReadError) -> MockConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JSONReadError("config file \(path) cannot be read")
        }
        do {
            return try MockConfiguration(json: try JSONValue.parse(data))
        } catch {
            throw JSONReadError("config file \(path): \(error.message)")
        }
    }

    public init(json: JSONValue) throws(JSONReadError) {
        self.init()
        var reader = try JSONReader(json, path: "")
        if let host = try reader.string("host") { self.host = host }
        if let port = try reader.int("port", in: 0...65535) { self.port = UInt16(port) }
        if let seed = try reader.uint64("seed") { self.seed = seed }
        if let seconds = try reader.int("connection_timeout_secs", in: 1...86_400) { connectionTimeoutSeconds = seconds }
        if let level = try reader.string("log_level") {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw JSONReadError("log_level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logLevel = parsed
        }
        if let directory = try reader.string("storage_dir") { upload.storageDirectory = directory }
        if let seconds = try reader.int("expires_after_secs", in: 1...Int(Int32.max)) {
            upload.expiresAfterSeconds = seconds
        }
        if var limits = try reader.object("limits") {
            if let value = try limits.int("chunk_bytes", in: 1...Int.max) { upload.limits.chunkBytes = value }
            if let value = try limits.int("image_bytes", in: 1...Int.max) { upload.limits.imageBytes = value }
            if let value = try limits.int("gif_bytes", in: 1...Int.max) { upload.limits.gifBytes = value }
            if let value = try limits.int("video_bytes", in: 1...Int.max) { upload.limits.videoBytes = value }
            if let value = try limits.int("sync_video_bytes", in: 1...Int.max) { upload.limits.syncVideoBytes = value }
            try limits.finish()
        }
        if var processing = try reader.object("processing") {
            try upload.processing.read(&processing)
        }
        if let rules = try reader.array("rate_limits") {
            rateLimits = try rules.enumerated().map { (index, value) throws(JSONReadError) in
                try RateLimitRule(json: value, path: reader.element(index, of: "rate_limits"))
            }
        }
        if let rules = try reader.array("faults") {
            faults = try rules.enumerated().map { (index, value) throws(JSONReadError) in
                try FaultRule(json: value, path: reader.element(index, of: "faults"))
            }
        }
        if var tls = try reader.object("tls") {
            tlsSelfSignedDirectory = try tls.string("self_signed_dir")
            let certificate = try tls.string("cert"), key = try tls.string("key")
            try tls.finish()
            if let certificate, let key {
                self.tls = TLSFiles(certificatePath: certificate, keyPath: key)
            } else if certificate != nil || key != nil || tlsSelfSignedDirectory == nil {
                throw JSONReadError("tls needs cert and key (PEM file paths), or self_signed_dir")
            }
        }
        if var auth = try reader.object("auth") {
            self.auth = try AuthSettings(reader: &auth)
        }
        try reader.finish()
    }
}

extension ProcessingSimulation {
    mutating func read(_ reader: inout JSONReader) throws(JSONReadError) {
        if let value = try reader.int("check_after_secs", in: 0...86_400) { checkAfterSeconds = value }
        if let value = try reader.int("polls_until_done", in: 0...Int(Int32.max)) { pollsUntilDone = value }
        if let value = try reader.string("result") {
            guard let parsed = Result(rawValue: value) else {
                throw JSONReadError("\(reader.path).result must be succeeded or failed")
            }
            result = parsed
        }
        if var error = try reader.object("error") {
            self.error = ProcessingError(code: try error.int("code") ?? self.error.code,
                                         name: try error.string("name") ?? self.error.name,
                                         message: try error.string("message") ?? self.error.message)
            try error.finish()
        }
        try reader.finish()
    }
}

extension RequestMatch {
    init(reader: inout JSONReader) throws(JSONReadError) {
        self.init()
        method = try reader.string("method")
        path = try reader.string("path")
        if let value = try reader.string("command") {
            guard let parsed = UploadCommand(rawValue: value) else {
                throw JSONReadError("\(reader.path).command must be one of \(UploadCommand.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            command = parsed
        }
        mediaID = try reader.uint64("media_id")
        segmentIndex = try reader.int("segment_index", in: 0...999)
    }

    var json: JSONValue {
        var object = JSONObject()
        if let method { object["method"] = .string(method) }
        if let path { object["path"] = .string(path) }
        if let command { object["command"] = .string(command.rawValue) }
        if let mediaID { object["media_id"] = .string(String(mediaID)) }
        if let segmentIndex { object["segment_index"] = .int(Int64(segmentIndex)) }
        return .object(object)
    }
}

extension RateLimitRule {
    init(json: JSONValue, path: String) throws(JSONReadError) {
        var reader = try JSONReader(json, path: path)
        var matchReader = try JSONReader(reader.value("match") ?? .object([:]), path: "\(path).match")
        let match = try RequestMatch(reader: &matchReader)
        try matchReader.finish()
        guard let limit = try reader.int("limit", in: 0...Int(Int32.max)) else {
            throw JSONReadError("\(path).limit is required")
        }
        let window = try reader.int("window_secs", in: 1...Int(Int32.max)) ?? 900
        var scope = Scope.user
        if let per = try reader.string("per") {
            guard let parsed = Scope(rawValue: per) else { throw JSONReadError("\(path).per must be user or global") }
            scope = parsed
        }
        try reader.finish()
        self.init(match: match, limit: limit, windowSeconds: window, per: scope)
    }

    var json: JSONValue {
        .object(["id": .string(id), "match": match.json, "limit": .int(Int64(limit)), "window_secs": .int(Int64(windowSeconds)),
                 "per": .string(per.rawValue)])
    }
}
