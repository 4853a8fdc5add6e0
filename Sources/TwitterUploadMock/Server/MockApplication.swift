/// The mock's shared state and its routing: admin API, upload endpoint, or 404.
final class MockApplication: HTTPHandler {
    static let uploadPath = "/1.1/media/upload.json"

    let configuration: MockConfiguration
    let service: UploadService
    let rateLimiter: RateLimiter
    let faults: FaultInjector
    let authenticator: Authenticator
    let journal = RequestJournal()
    let logger: Logger

    init(configuration: MockConfiguration, seed: UInt64) {
        self.configuration = configuration
        service = UploadService(settings: configuration.upload, seed: seed)
        rateLimiter = RateLimiter(rules: configuration.rateLimits)
        let faults = FaultInjector(seed: seed)
        configuration.faults.forEach { faults.add($0) }
        self.faults = faults
        logger = Logger(level: configuration.logLevel)
        authenticator = Authenticator(settings: configuration.auth,
                                      scheme: configuration.servesHTTPS ? "https" : "http")
    }

    func makeExchange(for head: HTTPRequestHead) -> any HTTPExchange {
        if head.path == Self.uploadPath {
            return UploadExchange(head: head, application: self)
        }
        if head.path == "/__admin" || head.path.hasPrefix("/__admin/") {
            let admin = AdminAPI(application: self)
            return BufferedExchange(head: head) { head, body in admin.respond(to: head, body: body) }
        }
        return BufferedExchange(head: head) { _, _ in
            let error = UploadError.pageDoesNotExist
            return HTTPReply(status: error.status, headers: UploadExchange.jsonHeaders,
                             body: .bytes(error.body!.serialized))
        }
    }

    /// Summaries of every upload, oldest first.
    func reports() -> [UploadReport] {
        service.store.all().map { UploadReport($0, processing: service.settings.processing, withDigests: false) }
    }

    /// One upload with per-segment and whole-file digests.
    func report(_ session: UploadSession) -> UploadReport {
        UploadReport(session, processing: service.settings.processing, withDigests: true)
    }

    /// Forgets uploads and the journal; faults and limits go back to the startup configuration.
    func reset() {
        for session in service.store.removeAll() {
            session.segments.values.forEach(service.storage.discard)
        }
        journal.removeAll()
        rateLimiter.removeAll()
        configuration.rateLimits.forEach { rateLimiter.add($0) }
        faults.removeAll()
        configuration.faults.forEach { faults.add($0) }
    }
}
