#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import UploadMockChaos
import UploadMockDomain
import UploadMockForms
import UploadMockHTTP
import UploadMockJSON

/// Serves one request to `/1.1/media/upload.json` (docs/api.md): streams the body into
/// parameters, authenticates, applies rate limits and faults, then lets the upload domain
/// answer and renders the answer as the real service does.
final class V1Exchange: HTTPExchange {
    static let path = "/1.1/media/upload.json"
    /// The hosts clients sign v1.1 requests for: tweepy and python-twitter still use
    /// upload.twitter.com, node-twitter-api-v2 and X's docs upload.x.com.
    static let realBaseURLs = ["https://upload.twitter.com", "https://upload.x.com"]

    private let head: HTTPRequestHead
    private let application: MockApplication
    private var body = FormBodyParser.ignored
    private var collector: UploadParameterCollector<V1Error>?
    /// What the body may total; a chunked body declares nothing, so its bytes are counted.
    private var maximumBodyBytes = 0
    private var receivedBodyBytes = 0
    private var entry: JournalEntry

    init(head: HTTPRequestHead, application: MockApplication) {
        self.head = head
        self.application = application
        entry = JournalEntry(time: Date(), api: .v1, method: head.method, path: head.path)
    }

    func begin() -> HTTPReply? {
        do {
            collector = try prepare()
            return nil
        } catch {
            return reply(for: error)
        }
    }

    /// Everything that can be decided from the head: the query, the body's size and type.
    private func prepare() throws(V1Error) -> UploadParameterCollector<V1Error> {
        let limits = application.uploads.settings.limits
        let query: [(name: String, value: String)]
        do {
            query = try URLEncodedFormParser.parse(head.query)
        } catch {
            throw .malformedBody(error.reason)
        }
        maximumBodyBytes = Self.maximumBodyBytes(limits: limits, appending: query.contains { $0 == ("command", "APPEND") })
        if let declared = head.contentLength, declared > maximumBodyBytes {
            throw .bodyTooLarge(declared: declared, limit: maximumBodyBytes)
        }
        if head.hasBody {
            do {
                body = try FormBodyParser(contentType: head.headers["content-type"])
            } catch {
                throw .malformedBody(error.reason)
            }
        }
        return try UploadParameterCollector(query: query, limits: limits, expectedBodyBytes: head.contentLength ?? 0,
                                            keepsBodyPairs: body.isURLEncoded && application.authenticator.needsSignedBody)
    }

    /// Room for the largest payload (base64 and percent-encoding inflate it) plus other fields.
    static func maximumBodyBytes(limits: UploadLimits, appending: Bool) -> Int {
        let payload = appending ? limits.chunkBytes : limits.largestPayloadBytes
        return payload * 3 / 2 + limits.bodyOverheadBytes
    }

    func receive(_ bytes: UnsafeRawBufferPointer) -> HTTPReply? {
        receivedBodyBytes += bytes.count
        guard receivedBodyBytes <= maximumBodyBytes else {
            return reply(for: .bodyTooLarge(declared: head.contentLength, limit: maximumBodyBytes))
        }
        guard var collector else { return nil }
        self.collector = nil  // keeps the collector's buffers uniquely referenced while it works
        defer { self.collector = collector }
        do {
            try body.feed(bytes) { collector.handle($0) }
        } catch {
            return reply(for: .malformedBody(error.reason))
        }
        return collector.failure.map { reply(for: $0) }
    }

    func finish() -> HTTPReply {
        guard var collector else { return reply(for: .malformedBody("the request ended before its parameters were read")) }
        do {
            try body.finish { collector.handle($0) }
        } catch {
            return reply(for: .malformedBody(error.reason))
        }
        if let failure = collector.failure { return reply(for: failure) }
        let parameters = collector.parameters
        let requester: Requester
        switch application.authenticator.authenticate(head, bodyParameters: collector.signedBodyPairs ?? [],
                                                      accepts: .oauth1, realBaseURLs: Self.realBaseURLs) {
        case .accepted(let user): requester = application.requester(head, user: user)
        case .unsupported(let reason): return reply(for: .unsupportedAuthentication(because: reason))
        case .invalid(let reason): return reply(for: .couldNotAuthenticate(because: reason))
        case .malformed(let reason): return reply(for: .malformedAuthorization(because: reason))
        }
        let command: UploadCommand
        do {
            command = try UploadCommand(v1: parameters)
        } catch {
            return reply(for: error)
        }
        let facts = RequestFacts(api: .v1, method: head.method, path: head.path, command: command,
                                 mediaID: parameters["media_id"].flatMap { UInt64(decimal: $0) },
                                 segmentIndex: parameters["segment_index"].flatMap { Int(decimal: $0) },
                                 user: requester.user, scope: requester.scope)
        let limits = application.applyRateLimits(facts, entry: &entry)
        let headers = limits.headers
        if limits.exceeded { return reply(for: .rateLimitExceeded, headers: headers) }
        if command.method != head.method {
            // The real service treats a POSTed STATUS as an upload without media.
            let error: V1Error = command == .status ? .missingParameter("media")
                : .methodNotAllowed(head.method, command: command.rawValue)
            return reply(for: error, headers: headers)
        }
        guard let fault = application.fireFault(facts, entry: &entry) else {
            return answer(command, parameters, as: requester, headers: headers)
        }
        return fault.reply(
            realAnswer: { answer(command, parameters, as: requester, headers: headers) },
            error: { status, message in reply(for: .injected(status: status, message: message), headers: headers) })
    }

    private func answer(_ command: UploadCommand, _ parameters: UploadParameters, as requester: Requester,
                        headers: [(name: String, value: String)]) -> HTTPReply {
        do {
            let answer = try V1Operation(command: command, parameters: parameters).perform(on: application.uploads, as: requester)
            entry.mediaID = answer.mediaID ?? entry.mediaID
            entry.storedMediaBytes = answer.storedMediaBytes
            return reply(for: answer, headers: headers)
        } catch {
            return reply(for: error, headers: headers)
        }
    }

    func completed(_ completion: HTTPCompletion) {
        entry.complete(completion)
        application.record(entry)
    }

    private func reply(for answer: V1Answer, headers: [(name: String, value: String)]) -> HTTPReply {
        var all = headers
        if let id = answer.mediaID, answer.sendsMediaIDHeader { all.append(("x-mediaid", String(id))) }
        all += answer.headers
        guard let json = answer.body else { return HTTPReply(status: answer.status, headers: all) }
        all += Self.jsonHeaders
        return HTTPReply(status: answer.status, headers: all, body: .bytes(json.serialized))
    }

    private func reply(for error: V1Error, headers: [(name: String, value: String)] = []) -> HTTPReply {
        entry.error = error.description
        return Self.render(error, requestPath: head.path, headers: headers)
    }

    static func render(_ error: V1Error, requestPath: String, headers: [(name: String, value: String)] = []) -> HTTPReply {
        guard let json = error.body(requestPath: requestPath) else { return HTTPReply(status: error.status, headers: headers) }
        return HTTPReply(status: error.status, headers: headers + jsonHeaders, body: .bytes(json.serialized))
    }

    static let jsonHeaders: [(name: String, value: String)] = [
        ("content-type", "application/json;charset=utf-8"),
        ("content-disposition", "attachment; filename=json.json"),
    ]
}
