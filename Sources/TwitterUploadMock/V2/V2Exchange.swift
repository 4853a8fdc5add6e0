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

/// Serves one request to an X API v2 media endpoint (docs/api-v2.md): reads the body as its
/// Content-Type says (JSON whole, multipart streamed into parameters as v1.1 does),
/// authenticates, applies rate limits and faults, then lets the upload domain answer and renders
/// the answer in v2's shapes. The same store, rules and journal as v1.1; only parsing and
/// rendering differ.
final class V2Exchange: HTTPExchange {
    /// On every v2 answer, as recorded.
    static let commonHeaders: [(name: String, value: String)] = [("cache-control", "no-cache, no-store, max-age=0")]
    /// JSON-only endpoints take small bodies.
    static let smallBodyBytes = 1024 * 1024

    private enum BodyReader {
        case ignored
        case json([UInt8])
        /// Append and upload: base64 media decoded as the body streams (V2StreamedJSON).
        case streamedJSON(V2StreamedJSONReader)
        case form(FormBodyParser, UploadParameterCollector<V2Problem>)
        case other(contentType: String?)
    }

    private let endpoint: V2Endpoint
    private let pathID: String?
    private let head: HTTPRequestHead
    private let application: MockApplication
    private var query: [(name: String, value: String)] = []
    private var reader = BodyReader.ignored
    private var maximumBodyBytes = V2Exchange.smallBodyBytes
    /// A chunked body declares nothing, so its bytes are counted against the maximum.
    private var receivedBodyBytes = 0
    private var entry: JournalEntry

    init(endpoint: V2Endpoint, pathID: String?, head: HTTPRequestHead, application: MockApplication) {
        self.endpoint = endpoint
        self.pathID = pathID
        self.head = head
        self.application = application
        entry = JournalEntry(time: Date(), api: .v2, method: head.method, path: head.path)
        entry.command = endpoint == .upload ? nil : endpoint.command.rawValue
    }

    func begin() -> HTTPReply? {
        do {
            try prepare()
            return nil
        } catch {
            return reply(for: error)
        }
    }

    /// Everything that can be decided from the head: the query, the body's size and type.
    private func prepare() throws(V2Problem) {
        do {
            query = try URLEncodedFormParser.parse(head.query)
        } catch {
            throw .invalid("The query string is malformed: \(error.reason)")
        }
        let limits = application.uploads.settings.limits
        maximumBodyBytes = Self.maximumBodyBytes(endpoint, limits: limits)
        if let declared = head.contentLength, declared > maximumBodyBytes {
            throw .bodyTooLarge(declared: declared, limit: maximumBodyBytes)
        }
        guard endpoint != .status else { return }
        let contentType = head.headers["content-type"]
        // Unlike v1.1's form bodies, a comma does not end the media type: the real v2 refused
        // twurl's `multipart/form-data, boundary=…`.
        switch head.mediaType {
        case "application/json" where endpoint == .append || endpoint == .upload:
            reader = .streamedJSON(V2StreamedJSONReader(expectedBodyBytes: head.contentLength ?? 0,
                                                        maximumBodyBytes: maximumBodyBytes))
        case "application/json":
            reader = .json([])
        case "multipart/form-data" where endpoint.takesForms, "application/x-www-form-urlencoded" where endpoint == .upload:
            let parser: FormBodyParser
            do {
                parser = try FormBodyParser(contentType: contentType)
            } catch {
                throw .malformedBody(error.reason)
            }
            // The command form's parameters may sit in the query; elsewhere the query must be empty.
            let collector = try UploadParameterCollector<V2Problem>(
                query: endpoint == .upload ? query : [], limits: limits, expectedBodyBytes: head.contentLength ?? 0,
                keepsBodyPairs: parser.isURLEncoded && application.authenticator.needsSignedBody,
                impliedCommand: endpoint == .append ? UploadCommand.append.rawValue : nil)
            reader = .form(parser, collector)
        default:
            reader = head.hasBody ? .other(contentType: contentType) : .ignored
        }
    }

    /// Room for the largest payload as base64 in JSON (every `/` possibly escaped as `\/`).
    static func maximumBodyBytes(_ endpoint: V2Endpoint, limits: UploadLimits) -> Int {
        switch endpoint {
        case .append: limits.chunkBytes * 8 / 3 + limits.bodyOverheadBytes
        case .upload: limits.largestPayloadBytes * 8 / 3 + limits.bodyOverheadBytes
        default: smallBodyBytes
        }
    }

    func receive(_ bytes: UnsafeRawBufferPointer) -> HTTPReply? {
        receivedBodyBytes += bytes.count
        guard receivedBodyBytes <= maximumBodyBytes else {
            return reply(for: .bodyTooLarge(declared: head.contentLength, limit: maximumBodyBytes))
        }
        switch reader {
        case .json(var buffer):
            reader = .ignored  // keeps the buffer uniquely referenced while it grows
            buffer.append(contentsOf: bytes)
            reader = .json(buffer)
        case .streamedJSON(var json):
            reader = .ignored  // keeps the reader's buffers uniquely referenced while they grow
            json.receive(bytes)
            reader = .streamedJSON(json)
        case .form(var parser, var collector):
            reader = .ignored
            defer { reader = .form(parser, collector) }
            do {
                try parser.feed(bytes) { collector.handle($0) }
            } catch {
                return reply(for: .malformedBody(error.reason))
            }
            if let failure = collector.failure { return reply(for: failure) }
        case .ignored, .other:
            break
        }
        return nil
    }

    func finish() -> HTTPReply {
        let body: V2Body
        var signedBodyPairs: [(name: String, value: String)] = []
        switch reader {
        case .ignored: body = .none
        case .json(let bytes): body = .json(bytes)
        case .streamedJSON(var json): body = .streamedJSON(json.finish())
        case .other(let contentType): body = .other(contentType: contentType)
        case .form(var parser, var collector):
            do {
                try parser.finish { collector.handle($0) }
            } catch {
                return reply(for: .malformedBody(error.reason))
            }
            if let failure = collector.failure { return reply(for: failure) }
            signedBodyPairs = collector.signedBodyPairs ?? []
            body = .form(collector.parameters, multipart: !parser.isURLEncoded)
        }
        reader = .ignored
        let requester: Requester
        switch application.authenticator.authenticate(head, bodyParameters: signedBodyPairs, accepts: [.oauth1, .userBearer],
                                                      realBaseURLs: V2Endpoint.realBaseURLs) {
        case .accepted(let user): requester = application.requester(head, user: user)
        case .unsupported(let reason): return reply(for: .unsupportedAuthentication(because: reason))
        case .invalid(let reason): return reply(for: .unauthorized(because: reason))
        case .malformed(let reason): return reply(for: .invalid(reason, explanation: "authentication refused: \(reason)"))
        }
        let request = V2RequestReader(endpoint: endpoint, pathID: pathID, query: query, body: body)
        let facts = RequestFacts(api: .v2, method: head.method, path: head.path, command: request.command,
                                 mediaID: request.mediaID, segmentIndex: request.segmentIndex,
                                 user: requester.user, scope: requester.scope)
        let limits = application.applyRateLimits(facts, entry: &entry)
        let headers = limits.headers
        if limits.exceeded { return reply(for: .rateLimitExceeded, headers: headers) }
        guard let fault = application.fireFault(facts, entry: &entry) else {
            return answer(request, as: requester, headers: headers)
        }
        return fault.reply(
            realAnswer: { answer(request, as: requester, headers: headers) },
            error: { status, message in reply(for: .injected(status: status, message: message), headers: headers) })
    }

    private func answer(_ reader: V2RequestReader, as requester: Requester, headers: [(name: String, value: String)]) -> HTTPReply {
        do {
            let answer = try V2Operation(request: reader.request()).perform(on: application.uploads, as: requester)
            entry.mediaID = answer.mediaID ?? entry.mediaID
            entry.segmentIndex = answer.segmentIndex ?? entry.segmentIndex
            if let note = answer.note {
                entry.note = note
                application.logger.info("request tolerated", metadata: [
                    "method": "\(head.method)", "path": "\(head.path)", "note": "\(note)",
                ])
            }
            var all = headers + Self.commonHeaders
            guard let json = answer.body else { return HTTPReply(status: answer.status, headers: all) }
            all.append(("content-type", "application/json; charset=utf-8"))
            return HTTPReply(status: answer.status, headers: all, body: .bytes(json.serialized))
        } catch {
            return reply(for: error, headers: headers)
        }
    }

    func completed(_ completion: HTTPCompletion) {
        entry.complete(completion)
        application.record(entry)
    }

    private func reply(for problem: V2Problem, headers: [(name: String, value: String)] = []) -> HTTPReply {
        entry.error = problem.description
        return problem.reply(headers: headers)
    }

    /// A v2 path asked with a method it does not take.
    static func methodNotAllowed(_ head: HTTPRequestHead, allowed: [String]) -> HTTPReply {
        V2Problem.methodNotAllowed(head.method, path: head.path, allowed: allowed)
            .reply(headers: [("allow", allowed.joined(separator: ", "))])
    }
}
