#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import UploadMockAuth
import UploadMockChaos
import UploadMockDomain
import UploadMockHTTP
import UploadMockJSON

/// The admission pipeline every upload request takes, whatever its dialect (docs/faults.md):
/// the body streams in (fault rules that act on the body are decided as soon as the request
/// has named itself, before its media), then authentication, rate limits, the dialect's own
/// check, a fault rule, the domain, the answer; the journal follows it all. The dialect says
/// only how requests are read and how answers are written.
///
/// libmicrohttpd reaches the exchange through `HTTPExchange`, whose witnesses for a generic
/// class are the unspecialized methods: each call looked up the metadata of the reader, the
/// optionals and tuples of `Dialect` at run time. `@specialized` gives every entry point a
/// body per dialect, chosen by one comparison (docs/performance.md).
final class UploadExchange<Dialect: UploadDialect>: HTTPExchange {
    /// A fault rule that acts on the body: not tried yet, tried and none fired, or fired.
    private enum BodyFault {
        case undecided
        case none
        case fired(FiredFault)
    }

    private let head: HTTPRequestHead
    private let application: MockApplication
    private var dialect: Dialect
    private var body = UploadBodyReader<Dialect.Refusal>.ignored
    private var maximumBodyBytes = 0
    private var receivedBodyBytes = 0
    private var bodyFault = BodyFault.undecided
    /// What the body's buffers hold of `limits.max_memory_bytes` until the body is whole;
    /// given back at the latest when the exchange goes, however the request ended.
    private var bufferedBytes: MemoryReservation
    private var entry: JournalEntry
    /// The credential's scope, read from the Authorization header once, when first needed.
    private lazy var scope = Authenticator.scope(of: head)

    init(_ dialect: Dialect, head: HTTPRequestHead, application: MockApplication) {
        self.dialect = dialect
        self.head = head
        self.application = application
        bufferedBytes = application.uploads.memory.reservation()
        entry = JournalEntry(arriving: head, api: Dialect.api, clock: application.clock)
        entry.command = dialect.impliedCommand?.rawValue
    }

    // MARK: The body

    @specialized(where Dialect == V1UploadDialect)
    @specialized(where Dialect == V1JSONDialect)
    @specialized(where Dialect == V2UploadDialect)
    func begin() -> HTTPBodyStep {
        do {
            let plan = try dialect.plan(head, application: application)
            body = plan.reader
            maximumBodyBytes = plan.maximumBytes
        } catch {
            return .refuse(reply(for: error))
        }
        return decideBodyFault(bodyComplete: false, pieceStart: 0)
    }

    @specialized(where Dialect == V1UploadDialect)
    @specialized(where Dialect == V1JSONDialect)
    @specialized(where Dialect == V2UploadDialect)
    func receive(_ bytes: UnsafeRawBufferPointer) -> HTTPBodyStep {
        let before = receivedBodyBytes
        receivedBodyBytes += bytes.count
        if case .fired(let fault) = bodyFault, let (interruption, after) = fault.rule.action.bodyInterruption,
           receivedBodyBytes >= after {
            receivedBodyBytes = max(before, after)
            return .interrupt(interruption, consumed: max(0, after - before))
        }
        guard receivedBodyBytes <= maximumBodyBytes else {
            return refuse(dialect.bodyTooLarge(declared: head.contentLength, limit: maximumBodyBytes))
        }
        do {
            try body.read(bytes)
        } catch {
            return refuse(error)
        }
        let growth = body.heldBytes - bufferedBytes.bytes
        do {
            try bufferedBytes.grow(by: growth)
        } catch {
            return refuse(Dialect.Refusal(error))
        }
        return decideBodyFault(bodyComplete: false, pieceStart: before)
    }

    /// Stops reading for the request: the rest of the body is dropped, and what was buffered
    /// goes now rather than when the client has finished sending.
    private func refuse(_ refusal: Dialect.Refusal) -> HTTPBodyStep {
        body = .ignored
        bufferedBytes.releaseAll()
        return .refuse(reply(for: refusal))
    }

    /// Tries the fault rules that act on the body once the request has named itself.
    /// - Parameter pieceStart: where the piece just read began in the body: a request ended now
    ///   takes no byte past the rule's `after_request_bytes` (nothing of it is stored anyway).
    private func decideBodyFault(bodyComplete: Bool, pieceStart: Int) -> HTTPBodyStep {
        guard case .undecided = bodyFault else { return .proceed }
        guard application.faults.hasRulesActingOnBody else {
            bodyFault = .none
            return .proceed
        }
        guard let names = dialect.earlyNames(head, body: body, bodyComplete: bodyComplete) else { return .proceed }
        let facts = facts(names, user: nil)
        entry.describe(facts)
        guard let fault = application.fireFault(facts, while: .receivingBody, entry: &entry) else {
            bodyFault = .none
            return .proceed
        }
        bodyFault = .fired(fault)
        if let (interruption, after) = fault.rule.action.bodyInterruption, receivedBodyBytes >= after {
            return .interrupt(interruption, consumed: max(0, after - pieceStart))
        }
        if let rate = fault.rule.action.requestBytesPerSecond { return .throttle(bytesPerSecond: rate) }
        return .proceed
    }

    // MARK: The answer

    @specialized(where Dialect == V1UploadDialect)
    @specialized(where Dialect == V1JSONDialect)
    @specialized(where Dialect == V2UploadDialect)
    func finish() -> HTTPReply {
        let read: UploadBody
        do {
            read = try body.finish()
        } catch {
            return reply(for: error)
        }
        // From here the body counts once, as what the domain stores of it.
        bufferedBytes.releaseAll()
        // A body that needed no decision before its end (no media) has its rule decided now;
        // all of it arrived, so there is nothing left to slow down or cut short but the answer.
        if case .interrupt(let interruption, _) = decideBodyFault(bodyComplete: true, pieceStart: receivedBodyBytes) {
            return Self.interrupted(interruption)
        }
        let requester: Requester
        switch application.authenticator.authenticate(head, bodyParameters: read.signedPairs, accepts: Dialect.credentials,
                                                      realBaseURLs: Dialect.realBaseURLs) {
        case .accepted(let user): requester = Requester(user: user, scope: scope)
        case .unsupported(let reason): return reply(for: .unsupportedAuthentication(because: reason))
        case .invalid(let reason): return reply(for: .invalidCredentials(because: reason))
        case .malformed(let reason): return reply(for: .malformedCredentials(because: reason))
        }
        let identified: (names: RequestNames, request: Dialect.Request)
        do {
            identified = try dialect.identify(head, body: read)
        } catch {
            return reply(for: error)
        }
        let facts = facts(identified.names, user: requester.user)
        let limits = application.applyRateLimits(facts, entry: &entry)
        let headers = limits.headers
        if limits.exceeded { return reply(for: .rateLimitExceeded, headers: headers) }
        do {
            try dialect.check(identified.request, head: head)
        } catch {
            return reply(for: error, headers: headers)
        }
        let fault: FiredFault?
        switch bodyFault {
        case .fired(let fired):
            fault = fired
            if let (_, after) = fired.rule.action.bodyInterruption {
                entry.note = "the body ended after \(receivedBodyBytes) bytes, before after_request_bytes \(after): answered as usual"
            }
        case .undecided, .none:
            fault = application.fireFault(facts, while: .answering, entry: &entry)
        }
        guard let fault else {
            var reply = answer(identified.request, as: requester, headers: headers)
            // An APPEND's answer is the same for every segment of its upload while no rate
            // limit adds its headers: the server may send the same response again.
            reply.repeats = identified.names.command == .append && headers.isEmpty && (200..<300).contains(reply.status)
            return reply
        }
        application.applyEffects(of: fault, to: facts, entry: &entry)
        return fault.reply(realAnswer: { answer(identified.request, as: requester, headers: headers) }, error: { status, message in
            reply(for: .injected(status: status, message: message), headers: headers)
        })
    }

    private func answer(_ request: Dialect.Request, as requester: Requester, headers: [(name: String, value: String)]) -> HTTPReply {
        do {
            let performed = try dialect.perform(request, head: head, as: requester, application: application, headers: headers)
            entry.mediaID = performed.mediaID ?? entry.mediaID
            entry.segmentIndex = performed.segmentIndex ?? entry.segmentIndex
            entry.storedMediaBytes = performed.storedMediaBytes
            if let note = performed.note {
                entry.note = note
                application.logger.info("request tolerated", metadata: [
                    "method": "\(head.method)", "path": "\(head.path)", "note": "\(note)",
                ])
            }
            return performed.reply
        } catch {
            return reply(for: error, headers: headers)
        }
    }

    @specialized(where Dialect == V1UploadDialect)
    @specialized(where Dialect == V1JSONDialect)
    @specialized(where Dialect == V2UploadDialect)
    func completed(_ completion: HTTPCompletion) {
        entry.complete(completion)
        application.record(entry)
    }

    // MARK: Helpers

    private func facts(_ names: RequestNames, user: String?) -> RequestFacts {
        var facts = RequestFacts(api: Dialect.api, method: head.method, path: head.path, command: names.command,
                                 mediaID: names.mediaID, segmentIndex: names.segmentIndex, user: user,
                                 scope: scope, declaredBodyBytes: head.contentLength)
        if application.faults.matchesAttempts, names.command == .append, let mediaID = names.mediaID, let index = names.segmentIndex {
            facts.attempt = application.uploads.nextAttempt(mediaID: mediaID, segmentIndex: index)
        }
        return facts
    }

    private func reply(for refusal: Dialect.Refusal, headers: [(name: String, value: String)] = []) -> HTTPReply {
        entry.error = refusal.description
        return refusal.reply(requestPath: head.path, headers: headers)
    }

    /// A request ended without an answer, its body all read (status 0 is never sent).
    private static func interrupted(_ interruption: HTTPInterruption) -> HTTPReply {
        switch interruption {
        case .reset: HTTPReply(status: 0, delivery: .reset)
        case .close: HTTPReply(status: 0, delivery: .close)
        case .stall: HTTPReply(status: 0, delivery: .hang)
        }
    }
}

extension UploadBody {
    /// The urlencoded pairs a signature covers; multipart and JSON bodies are never signed.
    var signedPairs: [(name: String, value: String)] {
        if case .form(_, _, let pairs) = self { return pairs }
        return []
    }
}

extension FaultRule {
    /// Refuses an `after_request_bytes` that no request body could reach: more than the
    /// longest body any endpoint reads under `limits`.
    func checkBodyReach(limits: UploadLimits, path: String) throws(ConfigurationError) {
        guard let after = action.afterRequestBytes else { return }
        let longest = ([V2Endpoint.append, .upload].map { V2UploadDialect.maximumBodyBytes($0, limits: limits) }
            + [V1UploadDialect.maximumBodyBytes(limits: limits, appending: false)]).max() ?? 0
        guard after <= longest else {
            throw ConfigurationError("\(path).action.after_request_bytes \(after) is more than the longest request body "
                + "the mock reads (\(longest) bytes with these limits), so it could never fire")
        }
    }
}
