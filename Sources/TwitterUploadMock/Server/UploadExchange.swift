#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Serves one request to `/1.1/media/upload.json`: streams the body into parameters, applies
/// rate limits, then lets the upload domain answer and dresses the answer as HTTP.
final class UploadExchange: HTTPExchange {
    private let head: HTTPRequestHead
    private let application: MockApplication
    private var body = FormBodyParser.ignored
    private var collector: UploadParameterCollector?
    private var entry: JournalEntry

    init(head: HTTPRequestHead, application: MockApplication) {
        self.head = head
        self.application = application
        entry = JournalEntry(time: Date(), method: head.method, path: head.path)
    }

    func begin() -> HTTPReply? {
        guard head.method == "GET" || head.method == "POST" else {
            return reply(for: .methodNotAllowed(head.method, command: nil))
        }
        let limits = application.service.settings.limits
        let query: [(name: String, value: String)]
        do {
            query = try URLEncodedFormParser.parse(head.query)
        } catch {
            return reply(for: Self.uploadError(error))
        }
        let maximum = Self.maximumBodyBytes(limits: limits, appending: query.contains { $0 == ("command", "APPEND") })
        if let declared = head.contentLength, declared > maximum {
            return reply(for: .bodyTooLarge(declared: declared, limit: maximum))
        }
        do {
            if head.hasBody { body = try FormBodyParser(contentType: head.headers["content-type"]) }
            var signsBody = false
            if case .urlEncoded = body { signsBody = application.authenticator.needsSignedBody }
            collector = try UploadParameterCollector(query: query, limits: limits,
                                                     expectedBodyBytes: head.contentLength ?? 0, keepsBodyPairs: signsBody)
        } catch {
            return reply(for: Self.uploadError(error))
        }
        return nil
    }

    /// Room for the largest payload (base64 and percent-encoding inflate it) plus other fields.
    static func maximumBodyBytes(limits: UploadLimits, appending: Bool) -> Int {
        let payload = appending ? limits.chunkBytes : max(limits.chunkBytes, limits.imageBytes, limits.gifBytes)
        return payload * 3 / 2 + 64 * 1024
    }

    func receive(_ bytes: UnsafeRawBufferPointer) -> HTTPReply? {
        do {
            try body.feed(bytes) { try collector!.handle($0) }
            return nil
        } catch {
            return reply(for: Self.uploadError(error))
        }
    }

    func finish() -> HTTPReply {
        do {
            try body.finish { try collector!.handle($0) }
        } catch {
            return reply(for: Self.uploadError(error))
        }
        let parameters = collector!.parameters
        let user: String?
        do {
            user = try application.authenticator.authenticate(head, bodyParameters: collector!.signedBodyPairs ?? [])
        } catch {
            defer { entry.error = "authentication failed: \(error.reason)" }
            return reply(for: .couldNotAuthenticate)
        }
        let command: UploadCommand
        do {
            command = try UploadCommand(parameters: parameters)
        } catch {
            return reply(for: error)
        }
        let facts = RequestFacts(method: head.method, path: head.path, command: command,
                                 mediaID: parameters["media_id"].flatMap { UInt64(decimal: $0) },
                                 segmentIndex: parameters["segment_index"].flatMap { Int(decimal: $0) },
                                 user: user)
        entry.command = command.rawValue
        entry.mediaID = facts.mediaID
        entry.segmentIndex = facts.segmentIndex

        var headers: [(name: String, value: String)] = []
        if let decision = application.rateLimiter.admit(facts) {
            headers += decision.headers
            if decision.exceeded {
                entry.rateLimit = "rule \(decision.ruleID): \(decision.limit) per window"
                return reply(for: .rateLimitExceeded, headers: headers)
            }
        }
        if command.method != head.method {
            // The real service treats a POSTed STATUS as an upload without media.
            let error: UploadError = command == .status ? .missingParameter("media")
                : .methodNotAllowed(head.method, command: command.rawValue)
            return reply(for: error, headers: headers)
        }
        guard let fault = application.faults.fire(for: facts) else {
            return answer(command, parameters, user: facts.user, headers: headers)
        }
        entry.fault = fault.summary
        return fault.reply(
            realAnswer: { answer(command, parameters, user: facts.user, headers: headers) },
            error: { reply(for: $0, headers: headers) })
    }

    private func answer(_ command: UploadCommand, _ parameters: UploadParameters, user: String?,
                        headers: [(name: String, value: String)]) -> HTTPReply {
        do {
            let answer = try application.service.handle(command, parameters: parameters, user: user)
            entry.mediaID = answer.mediaID ?? entry.mediaID
            return reply(for: answer, headers: headers)
        } catch {
            return reply(for: error, headers: headers)
        }
    }

    func completed(_ completion: HTTPCompletion) {
        entry.status = completion.status
        entry.bytesReceived = completion.bytesReceived
        entry.durationMilliseconds = completion.duration.timeInterval * 1000
        application.journal.record(entry)
        if let status = completion.status, status >= 400 {
            application.logger.log(.info, "request refused", [
                "method": .string(head.method), "path": .string(head.path), "status": .int(Int64(status)),
                "error": entry.error.map { .string($0) } ?? .null,
            ])
        } else {
            application.logger.log(.debug, "request", [
                "method": .string(head.method), "path": .string(head.path),
                "status": completion.status.map { .int(Int64($0)) } ?? .null,
            ])
        }
    }

    private static func uploadError(_ error: any Error) -> UploadError {
        if let error = error as? UploadError { return error }
        if let error = error as? FormParseError { return .malformedBody(error.reason) }
        return .malformedBody("\(error)")
    }

    private func reply(for answer: UploadReply, headers: [(name: String, value: String)]) -> HTTPReply {
        var all = headers
        if let id = answer.mediaID { all.append(("x-mediaid", String(id))) }
        all += answer.headers
        guard let json = answer.body else { return HTTPReply(status: answer.status, headers: all) }
        all += Self.jsonHeaders
        return HTTPReply(status: answer.status, headers: all, body: .bytes(json.serialized))
    }

    private func reply(for error: UploadError, headers: [(name: String, value: String)] = []) -> HTTPReply {
        entry.error = error.message
        guard let json = error.body else { return HTTPReply(status: error.status, headers: headers) }
        return HTTPReply(status: error.status, headers: headers + Self.jsonHeaders, body: .bytes(json.serialized))
    }

    static let jsonHeaders: [(name: String, value: String)] = [
        ("content-type", "application/json;charset=utf-8"),
        ("content-disposition", "attachment; filename=json.json"),
    ]
}
