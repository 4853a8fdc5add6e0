import Logging
import UploadMockAuth
import UploadMockChaos
import UploadMockDomain
import UploadMockHTTP

/// The mock's shared state and its routing: the upload endpoints, the admin API, or a
/// refusal, all decided by one route table.
final class MockApplication: HTTPHandler {
    /// What serves a matched route.
    enum Route: Sendable {
        case v1Upload
        case v1JSON(V1JSONEndpoint)
        case v2(V2Endpoint)
        case admin(AdminRoute)
    }

    let configuration: MockConfiguration
    /// The virtual clock every time-shaped answer reads (docs/clock.md).
    let clock: MockClock
    let uploads: UploadService
    let rateLimiter: RateLimiter
    let faults: FaultInjector
    let authenticator: Authenticator
    let journal: RequestJournal
    let compatibility: CompatibilitySwitches
    let logger: Logger
    /// The scenarios `POST /__admin/scenarios/{name}` installs (docs/faults.md, Scenarios).
    let scenarios: ScenarioCatalog
    /// Installed at startup and after every reset (`scenarios` in the configuration).
    private let startupScenarios: [Scenario]
    private let routes: HTTPRoutes<Route>

    /// - Parameter scenarios: what the server knows; `configuration.scenarios` must name some
    ///   of them (`UploadMockServer` checks that first).
    init(configuration: MockConfiguration, seed: UInt64, logger: Logger, scenarios: ScenarioCatalog = ScenarioCatalog([])) {
        self.configuration = configuration
        self.scenarios = scenarios
        startupScenarios = configuration.scenarios.compactMap { scenarios.scenario(named: $0) }
        clock = MockClock(maximumScopedClocks: configuration.maxScopedClocks)
        uploads = UploadService(settings: configuration.upload, seed: seed, clock: clock)
        rateLimiter = RateLimiter(rules: [], clock: clock)
        faults = FaultInjector(seed: seed)
        self.logger = logger
        compatibility = CompatibilitySwitches(configuration.compatibility, maximumScopes: configuration.maxAdminRules)
        journal = RequestJournal(maximumEntries: configuration.maxJournalEntries, maximumBytes: configuration.maxJournalBytes)
        authenticator = Authenticator(settings: configuration.auth, scheme: configuration.servesHTTPS ? "https" : "http")
        var routes = HTTPRoutes<Route>()
        routes.add("POST", V1UploadDialect.path, .v1Upload)
        routes.add("GET", V1UploadDialect.path, .v1Upload)
        V1JSONEndpoint.allCases.forEach { routes.add("POST", $0.path, .v1JSON($0)) }
        V2Endpoint.register(in: &routes) { .v2($0) }
        AdminRoute.register(in: &routes) { .admin($0) }
        self.routes = routes
        installStartupRules()
    }

    var knownPaths: [String] { routes.literalPaths }

    func makeExchange(for head: HTTPRequestHead) -> any HTTPExchange {
        switch routes.match(method: head.method, path: head.path) {
        case .found(.v1Upload, _):
            return UploadExchange(V1UploadDialect(), head: head, application: self)
        case .found(.v1JSON(let endpoint), _):
            return UploadExchange(V1JSONDialect(endpoint: endpoint), head: head, application: self)
        case .found(.v2(let endpoint), let parameters):
            return UploadExchange(V2UploadDialect(endpoint: endpoint, pathID: parameters["id"]), head: head, application: self)
        case .found(.admin(let route), let parameters):
            let admin = AdminAPI(application: self)
            return bufferedExchange(head) { head, body in admin.respond(to: route, head: head, parameters: parameters, body: body) }
        case .methodNotAllowed(let allowed):
            let reply = AdminRoute.owns(head.path) ? AdminAPI.methodNotAllowed(head, allowed: allowed)
                : V2Endpoint.owns(head.path) ? V2UploadDialect.methodNotAllowed(head, allowed: allowed)
                : V1Error.methodNotAllowed(head.method, command: nil).reply(requestPath: head.path)
            return bufferedExchange(head) { _, _ in reply }
        case .notFound:
            let reply = AdminRoute.owns(head.path)
                ? AdminAPI.notFound("no admin route \(head.method) \(head.path)")
                : V1Error.pageDoesNotExist.reply(requestPath: head.path)
            return bufferedExchange(head) { _, _ in reply }
        }
    }

    /// An admin call or a refusal of an unknown path or method: reads a body of at most
    /// `admin.max_body_bytes` (a refusal needs no more), then answers it.
    private func bufferedExchange(_ head: HTTPRequestHead,
                               respond: @escaping @Sendable (HTTPRequestHead, [UInt8]) -> HTTPReply) -> BufferedExchange {
        let limit = configuration.maxAdminBodyBytes
        return BufferedExchange(head: head, maximumBodyBytes: limit, tooLarge: { AdminAPI.bodyTooLarge(limit: limit) },
                                respond: respond)
    }

    /// Journals an upload request, keeps an APPEND in its upload's attempt history, and logs
    /// how it ended.
    func record(_ entry: JournalEntry) {
        journal.record(entry)
        if entry.command == UploadCommand.append.rawValue, let mediaID = entry.mediaID, let index = entry.segmentIndex {
            uploads.recordAttempt(mediaID: mediaID, SegmentAttempt(segmentIndex: index, time: entry.time, clockTime: entry.clockTime,
                                                                   status: entry.status, bytesReceived: entry.bytesReceived,
                                                                   fault: entry.fault, mediaBytes: entry.storedMediaBytes))
        }
        // The metadata is built only when the level keeps the line: most runs log at info,
        // where a successful request writes nothing (swift-log's metadata is an autoclosure).
        if let status = entry.status, status < 400 {
            logger.debug("request", metadata: Self.logMetadata(entry, error: false))
        } else {
            logger.info(entry.status == nil ? "request unanswered" : "request refused", metadata: Self.logMetadata(entry, error: true))
        }
    }

    /// What a reader of the log needs to follow an upload (docs/dashboard.md, Log lines).
    private static func logMetadata(_ entry: JournalEntry, error: Bool) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "api": "\(entry.api.rawValue)", "method": "\(entry.method)", "path": "\(entry.path)",
            "status": entry.status.map { .stringConvertible($0) } ?? "none",
            "latency_ms": .stringConvertible((entry.durationMilliseconds * 1000).rounded() / 1000),
        ]
        metadata["command"] = entry.command.map { "\($0)" }
        metadata["media_id"] = entry.mediaID.map { "\($0)" }
        metadata["segment_index"] = entry.segmentIndex.map { .stringConvertible($0) }
        metadata["fault"] = entry.fault.map { "\($0)" }
        metadata["rate_limit"] = entry.rateLimit.map { "\($0)" }
        if error { metadata["error"] = entry.error.map { "\($0)" } }
        return metadata
    }

    /// Counts an upload request against every matching rate limit, the same for every API
    /// dialect; the journal entry learns the request's facts and any refusal.
    func applyRateLimits(_ facts: RequestFacts, entry: inout JournalEntry) -> (headers: [(name: String, value: String)], exceeded: Bool) {
        entry.describe(facts)
        guard let decision = rateLimiter.admit(facts) else { return ([], false) }
        if decision.exceeded { entry.rateLimit = "rule \(decision.ruleID): \(decision.limit) per window" }
        return (decision.headers, decision.exceeded)
    }

    /// The fault rule that fires for an upload request at this moment of its life, if any,
    /// journaled and logged.
    func fireFault(_ facts: RequestFacts, while moment: FaultMoment, entry: inout JournalEntry) -> FiredFault? {
        guard let fault = faults.fire(for: facts, while: moment) else { return nil }
        entry.fired(fault)
        logger.info("fault fired", metadata: [
            "rule": "\(fault.rule.id)", "fault": "\(fault.summary)", "method": "\(facts.method)", "path": "\(facts.path)",
        ])
        return fault
    }

    /// What a fired rule changes besides the answer (docs/faults.md), just before the request
    /// is performed: the requester's clock moves on, an upload's processing result is decided.
    func applyEffects(of fault: FiredFault, to facts: RequestFacts, entry: inout JournalEntry) {
        let action = fault.rule.action
        if let seconds = action.advanceClockSeconds {
            do {
                try clock.advance(by: seconds, in: facts.scope)
                // The request is performed at the new time: the journal says so.
                entry.clockTime = clock.now(in: facts.scope)
            } catch {
                // Past 2100, or one scoped clock too many: the request goes on at the old time.
                entry.note = "advance_clock_secs \(seconds) was not applied: \(error)"
                logger.warning("clock not advanced", metadata: ["rule": "\(fault.rule.id)", "reason": "\(error)"])
            }
        }
        if let result = action.processing, fault.commitsRealAnswer, let mediaID = facts.mediaID {
            uploads.decideProcessing(mediaID: mediaID, result)
        }
    }

    /// Forgets uploads and the journal; faults, limits and compatibility switches go back to the
    /// startup configuration and every clock to real time. Within a scope, forgets only that
    /// credential's uploads, journal entries, rules and switches, and its clock follows the
    /// server's again.
    func reset(scope: String? = nil) {
        if let scope {
            clock.follow(in: scope)
            uploads.reset(scope: scope)
            journal.removeAll(in: scope)
            rateLimiter.removeAll(in: scope)
            faults.removeAll(in: scope)
            compatibility.reset(scope: scope)
            return
        }
        clock.reset()
        uploads.reset()
        journal.removeAll()
        rateLimiter.removeAll()
        faults.removeAll()
        compatibility.reset()
        installStartupRules()
    }

    /// The configuration's rules (the real rate limits among them unless turned off), then its
    /// scenarios', for everyone.
    private func installStartupRules() {
        configuration.startupRateLimits.forEach { rateLimiter.add($0) }
        configuration.faults.forEach { faults.add($0) }
        for scenario in startupScenarios {
            let rules = scenario.installableRules(in: nil)
            rules.rateLimits.forEach { rateLimiter.add($0) }
            rules.faults.forEach { faults.add($0) }
        }
    }
}
