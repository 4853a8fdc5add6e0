#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import Logging
import UploadMockAuth
import UploadMockChaos
import UploadMockDomain
import UploadMockHTTP

/// The mock server: start it, point clients at `baseURL`, inspect what arrived, stop it.
///
/// ```swift
/// let mock = try UploadMockServer(configuration: MockConfiguration())
/// try mock.start()
/// defer { mock.stop() }
/// // … upload to mock.baseURL …
/// let report = mock.upload(mediaID)   // segments, SHA-256, MD5
/// ```
public final class UploadMockServer: Sendable {
    /// The configuration it was made with.
    public let configuration: MockConfiguration
    /// The seed in use (the configured one, or the random one chosen at startup).
    public let seed: UInt64
    private let application: MockApplication
    private let http: HTTPServer
    /// This server's own spool directory under `--storage-dir`, removed at stop.
    private let spoolDirectory: SpoolDirectory?
    /// `limits.max_memory_bytes` in force, configured or derived from the machine.
    private let memoryCap: MemoryCap
    /// The vector kernel level the parsers use (`scalar` … `avx512`): the CPU's best, or
    /// TWITTER_UPLOAD_MOCK_VECTOR_KERNEL's cap when lower.
    private let vectorKernel: String

    /// Prepares a server; nothing listens until `start()`.
    ///
    /// - Parameter logger: where the server logs (startup, refused requests, fired faults).
    ///   The default discards everything, so an embedding test suite stays quiet.
    public init(configuration: MockConfiguration, logger: Logger = UploadMockServer.quietLogger) throws(UploadMockError) {
        self.configuration = configuration
        vectorKernel = try VectorKernelCap.applyFromEnvironment()
        seed = configuration.seed ?? UInt64.random(in: 0...UInt64.max)
        var running = configuration
        // Before the spool directory exists, so a bad scenario file leaves nothing behind.
        let scenarios = try ScenarioCatalog.load(directory: configuration.scenariosDirectory,
                                                 maximumFileBytes: configuration.maxAdminBodyBytes)
        try Self.checkStartupScenarios(configuration, in: scenarios)
        if let directory = configuration.upload.storageDirectory {
            do {
                let spool = try SpoolDirectory.prepare(under: directory)
                spoolDirectory = spool
                running.upload.storageDirectory = spool.path
            } catch {
                throw UploadMockError("--storage-dir \(directory): \(error.message)")
            }
        } else {
            spoolDirectory = nil
        }
        memoryCap = MemoryCap.resolve(configured: configuration.upload.limits.maxMemoryBytes)
        running.upload.limits.maxMemoryBytes = memoryCap.bytes
        application = MockApplication(configuration: running, seed: seed, logger: logger, scenarios: scenarios)
        var options = HTTPServerConfiguration()
        options.host = configuration.host
        options.port = configuration.port
        options.connectionTimeoutSeconds = configuration.connectionTimeoutSeconds
        do {
            try configuration.connections.validate()
        } catch {
            throw UploadMockError(error.message)
        }
        configuration.connections.apply(to: &options)
        options.onLimit = { [connections = configuration.connections] event in
            switch event {
            case .heldClientsDeparted: logger.debug("\(connections.describe(event))")
            case .framingRefused: logger.info("\(connections.describe(event))")
            default: logger.warning("\(connections.describe(event))")
            }
        }
        // Spooled segments are freed right after they are written: give the memory back.
        options.returnsFreedBodiesToSystem = configuration.upload.storageDirectory != nil
        if let tls = configuration.tls {
            options.tls = (try Self.readPEM(tls.certificatePath, what: "TLS certificate"),
                           try Self.readPEM(tls.keyPath, what: "TLS key"))
        } else if let directory = configuration.tlsSelfSignedDirectory {
            do {
                let generated = try SelfSignedTLS()
                try generated.writeCA(to: directory)
                options.tls = (generated.certificatePEM, generated.keyPEM)
            } catch {
                throw UploadMockError("--tls-self-signed \(directory): \(error)")
            }
        }
        http = HTTPServer(configuration: options, handler: application)
    }

    /// The scenarios installed at startup must exist, and their rules work with these limits.
    private static func checkStartupScenarios(_ configuration: MockConfiguration, in catalog: ScenarioCatalog) throws(UploadMockError) {
        for name in configuration.scenarios {
            guard let scenario = catalog.scenario(named: name) else {
                throw UploadMockError("scenario '\(name)' (config scenarios, --scenario) is unknown: the scenarios are "
                    + catalog.scenarios.map(\.name).joined(separator: ", "))
            }
            do {
                try scenario.checkBodyReach(limits: configuration.upload.limits)
            } catch {
                throw UploadMockError("\(error.message) (config scenarios, --scenario)")
            }
        }
    }

    /// A logger that discards everything: the default when embedded.
    public static let quietLogger = Logger(label: "twitter-upload-mock", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Starts listening; `baseURL` and `port` are valid afterwards.
    public func start() throws(UploadMockError) {
        do {
            try http.start()
        } catch {
            throw UploadMockError(error.description)
        }
        application.logger.info("listening", metadata: [
            "url": "\(baseURL)", "seed": "\(seed)",
            "max_memory_bytes": .stringConvertible(memoryCap.bytes), "max_memory_from": "\(memoryCap.source)",
            "vector_kernel": "\(vectorKernel)",
        ])
    }

    /// Releases delayed and hung requests, closes every connection and stops listening; with
    /// `--storage-dir`, removes the spooled segments (reports stay, the bytes go). Idempotent.
    public func stop() {
        http.stop()
        spoolDirectory?.remove()
    }

    /// Fault rules, live: `mock.faults.add(FaultRule(match: RequestMatch(command: .append), action: FaultAction(status: 503), times: 1))`.
    public var faults: FaultInjector { application.faults }
    /// Rate-limit rules, live; `removeAll()` turns rate limiting off.
    public var rateLimits: RateLimiter { application.rateLimiter }
    /// The virtual clock (docs/clock.md): `try mock.clock.advance(by: .seconds(86_400))`.
    public var clock: UploadMockClock { UploadMockClock(application.clock, scope: nil) }
    /// The compatibility switches in force, live: `mock.compatibility.infersV2SegmentIndex = true`.
    public var compatibility: Compatibility {
        get { application.compatibility.inForce() }
        set { application.compatibility.set(newValue) }
    }

    /// Named scenarios (docs/faults.md, Scenarios): `try mock.scenarios.install("flaky-uplink")`.
    public var scenarios: UploadMockScenarios { UploadMockScenarios(application, scope: nil) }

    /// Forgets uploads and the journal; faults, rate limits and compatibility switches return
    /// to the startup configuration, every clock to real time.
    public func reset() {
        application.reset()
    }

    /// Every upload so far, oldest first (no digests; ask `upload(_:)` for those).
    public func uploads() -> [UploadReport] {
        application.uploads.reports()
    }

    /// One upload with per-segment SHA-256 and, once whole, the media's SHA-256 and MD5.
    public func upload(_ mediaID: UInt64) -> UploadReport? {
        application.uploads.report(mediaID)
    }

    /// The reassembled bytes, segments in index order.
    public func media(_ mediaID: UInt64) -> [UInt8]? {
        application.uploads.media(mediaID).map { media in
            var bytes: [UInt8] = []
            for segment in media.segments { segment.forEachPiece { bytes.append(contentsOf: $0) } }
            return bytes
        }
    }

    /// The request journal, oldest first: every request, or those `filter` selects.
    ///
    /// ```swift
    /// #expect(mock.requests(RequestFilter(command: .append, status: 503)).count == 1)
    /// ```
    public func requests(_ filter: RequestFilter = RequestFilter()) -> [JournalEntry] {
        application.journal.entries(filter)
    }

    /// What the mock saw, as text for a failing test's report: the newest `uploads` uploads with
    /// their segment maps, the newest `requests` requests with their statuses and fired faults,
    /// and the dashboard's address. With `scope`, only that credential's (README, Isolation).
    ///
    /// ```swift
    /// #expect(report.attempts(forSegment: 1).map(\.status) == [503, 204], "\(mock.timeline())")
    /// ```
    public func timeline(scope: String? = nil, uploads: Int = 5, requests: Int = 20) -> MockTimeline {
        MockTimeline(application: application, scope: scope, uploads: uploads, requests: requests, baseURL: baseURL)
    }

    /// `limits.max_memory_bytes` in force: the configured value, or the one derived from the
    /// machine at start (docs/configuration.md, Bounds).
    public var maxMemoryBytes: Int { memoryCap.bytes }

    /// The port listened on (the chosen one when configured as 0).
    public var port: UInt16 { http.port }
    /// For example `http://127.0.0.1:8080`.
    public var baseURL: String { http.baseURL }

    private static func readPEM(_ path: String, what: String) throws(UploadMockError) -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw UploadMockError("\(what) \(path) does not exist") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UploadMockError("\(what) \(path) cannot be read (check its permissions)")
        }
        guard let text = String(data: data, encoding: .utf8), text.contains("-----BEGIN") else {
            throw UploadMockError("\(what) \(path) is not a PEM file (no -----BEGIN line)")
        }
        return text
    }
}

extension UploadMockServer: CustomStringConvertible {
    /// The whole server's `timeline()`: `"\(mock)"` in a failing expectation's comment shows
    /// what the mock saw.
    public var description: String { timeline().description }
}

/// Why the mock could not be set up or started: a port in use, an unreadable certificate, a
/// storage directory that cannot be created.
public struct UploadMockError: Error, CustomStringConvertible, Sendable {
    /// The whole explanation, as printed by the command line.
    public var message: String

    init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Runs `body` with a mock started on a free port, and always stops it. `body` runs on the
/// caller's actor (`isolation`), so a `@MainActor` test's closure may touch main-actor state.
///
/// ```swift
/// try await withUploadMock { mock in
///     let client = MyUploader(uploadHost: mock.baseURL)
///     let id = try await client.upload(video)
///     #expect(mock.upload(id)?.sha256 == expectedDigest)
/// }
/// ```
public func withUploadMock<Result>(_ configuration: MockConfiguration = MockConfiguration(),
                                   logger: Logger = UploadMockServer.quietLogger,
                                   isolation: isolated (any Actor)? = #isolation,
                                   _ body: (UploadMockServer) async throws -> Result) async throws -> Result {
    var configuration = configuration
    configuration.port = 0
    let server = try UploadMockServer(configuration: configuration, logger: logger)
    try server.start()
    defer { server.stop() }
    return try await body(server)
}
