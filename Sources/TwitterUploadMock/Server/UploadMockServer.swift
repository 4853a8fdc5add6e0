#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The mock server: start it, point clients at `baseURL`, inspect what arrived, stop it.
public final class UploadMockServer: Sendable {
    public let configuration: MockConfiguration
    /// The seed in use (the configured one, or the random one chosen at startup).
    public let seed: UInt64
    let application: MockApplication
    private let http: HTTPServer

    public init(configuration: MockConfiguration) throws {
        self.configuration = configuration
        seed = configuration.seed ?? UInt64.random(in: 0...UInt64.max)
        if let directory = configuration.upload.storageDirectory {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw HTTPServerError("--storage-dir \(directory) cannot be created: \(error)")
            }
        }
        application = MockApplication(configuration: configuration, seed: seed)
        var options = HTTPServerConfiguration()
        options.host = configuration.host
        options.port = configuration.port
        options.connectionTimeoutSeconds = configuration.connectionTimeoutSeconds
        // Spooled segments are freed right after they are written: give the memory back.
        options.returnsFreedBodiesToSystem = configuration.upload.storageDirectory != nil
        if let tls = configuration.tls {
            options.tls = (try Self.readPEM(tls.certificatePath, what: "TLS certificate"),
                           try Self.readPEM(tls.keyPath, what: "TLS key"))
        } else if let directory = configuration.tlsSelfSignedDirectory {
            let generated = try SelfSignedTLS()
            do {
                try generated.writeCA(to: directory)
            } catch {
                throw HTTPServerError("--tls-self-signed \(directory): \(error)")
            }
            options.tls = (generated.certificatePEM, generated.keyPEM)
        }
        http = HTTPServer(configuration: options, handler: application)
    }

    public func start() throws {
        try http.start()
        application.logger.log(.info, "listening", ["url": .string(baseURL), "seed": .string(String(seed))])
    }

    public func stop() {
        http.stop()
    }

    /// Fault rules, live: `server.faults.add(FaultRule(match: RequestMatch(command: .append), action: FaultAction(status: 503), times: 1))`.
    public var faults: FaultInjector { application.faults }
    /// Rate-limit rules, live; `removeAll()` turns rate limiting off.
    public var rateLimits: RateLimiter { application.rateLimiter }

    /// Forgets uploads and the journal; faults and rate limits return to the startup configuration.
    public func reset() {
        application.reset()
    }

    /// Every upload so far, oldest first (no digests; ask `upload(_:)` for those).
    public func uploads() -> [UploadReport] {
        application.reports()
    }

    /// One upload with per-segment SHA-256 and, once whole, the media's SHA-256 and MD5.
    public func upload(_ mediaID: UInt64) -> UploadReport? {
        application.service.store.session(mediaID).map(application.report)
    }

    /// The reassembled bytes, segments in index order.
    public func media(_ mediaID: UInt64) -> [UInt8]? {
        application.service.store.session(mediaID).map { session in
            session.orderedSegments.flatMap { $0.segment.bytes }
        }
    }

    /// The request journal, oldest first.
    public func requests() -> [JournalEntry] {
        application.journal.all
    }

    public var port: UInt16 { http.port }
    /// For example `http://127.0.0.1:8080`.
    public var baseURL: String { http.baseURL }

    private static func readPEM(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
              text.contains("-----BEGIN") else {
            throw HTTPServerError("\(what) \(path) cannot be read as a PEM file")
        }
        return text
    }
}

/// Runs `body` with a mock started on a free port, and always stops it.
///
/// ```swift
/// try await withUploadMock { mock in
///     let client = MyUploader(uploadHost: mock.baseURL)
///     let id = try await client.upload(video)
///     #expect(mock.upload(id)?.sha256 == expectedDigest)
/// }
/// ```
public func withUploadMock<Result>(_ configuration: MockConfiguration = MockConfiguration(),
                                   _ body: (UploadMockServer) async throws -> Result) async throws -> Result {
    var configuration = configuration
    configuration.port = 0
    let server = try UploadMockServer(configuration: configuration)
    try server.start()
    defer { server.stop() }
    return try await body(server)
}
