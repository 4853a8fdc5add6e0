import UploadMockAuth
import UploadMockDomain
import UploadMockForms
import UploadMockHTTP
import UploadMockJSON

/// The X API v2 media endpoints (docs/api-v2.md): the body read as its Content-Type says
/// (JSON whole, multipart and the command form's urlencoded fields streamed into parameters as
/// v1.1 does), answered in v2's shapes. The same store, rules and journal as v1.1.
struct V2UploadDialect: UploadDialect {
    typealias Refusal = V2Problem

    static let api = UploadAPI.v2
    static let credentials: AcceptedCredentials = [.oauth1, .userBearer]
    static let realBaseURLs = V2Endpoint.realBaseURLs
    /// On every v2 answer, as recorded.
    static let commonHeaders: [(name: String, value: String)] = [("cache-control", "no-cache, no-store, max-age=0")]
    /// JSON-only endpoints take small bodies.
    static let smallBodyBytes = 1024 * 1024

    let endpoint: V2Endpoint
    /// The `{id}` path segment of append and finalize.
    let pathID: String?
    private var query: [(name: String, value: String)] = []

    init(endpoint: V2Endpoint, pathID: String?) {
        self.endpoint = endpoint
        self.pathID = pathID
    }

    /// `POST /2/media/upload` is decided by its parameters.
    var impliedCommand: UploadCommand? { endpoint == .upload ? nil : endpoint.command }

    mutating func plan(_ head: HTTPRequestHead, application: MockApplication) throws(V2Problem) -> UploadBodyPlan<V2Problem> {
        do {
            query = try URLEncodedFormParser.parse(head.query)
        } catch {
            throw .invalid("The query string is malformed: \(error.reason)")
        }
        let limits = application.uploads.settings.limits
        let maximum = Self.maximumBodyBytes(endpoint, limits: limits)
        try refuseDeclaredLength(head, over: maximum)
        guard endpoint != .status else { return UploadBodyPlan(reader: .ignored, maximumBytes: maximum) }
        let contentType = head.headers["content-type"]
        // Unlike v1.1's form bodies, a comma does not end the media type: the real v2 refused
        // twurl's `multipart/form-data, boundary=…`.
        if head.hasMediaType("application/json") {
            guard endpoint == .append || endpoint == .upload else { return UploadBodyPlan(reader: .whole([]), maximumBytes: maximum) }
            return UploadBodyPlan(reader: .mediaJSON(V2StreamedJSONReader(expectedBodyBytes: head.contentLength ?? 0,
                                                                          maximumBodyBytes: maximum)),
                                  maximumBytes: maximum)
        }
        if head.hasMediaType("multipart/form-data") && endpoint.takesForms
            || head.hasMediaType("application/x-www-form-urlencoded") && endpoint == .upload {
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
            return UploadBodyPlan(reader: .form(parser, collector), maximumBytes: maximum)
        }
        // Refused once the request is read (`identify`), in the order the real service refuses.
        return UploadBodyPlan(reader: .ignored, maximumBytes: maximum)
    }

    /// Room for the largest payload as base64 in JSON (every `/` possibly escaped as `\/`).
    static func maximumBodyBytes(_ endpoint: V2Endpoint, limits: UploadLimits) -> Int {
        switch endpoint {
        case .append: limits.chunkBytes * 8 / 3 + limits.bodyOverheadBytes
        case .upload: limits.largestPayloadBytes * 8 / 3 + limits.bodyOverheadBytes
        default: smallBodyBytes
        }
    }

    func bodyTooLarge(declared: Int?, limit: Int) -> V2Problem {
        .bodyTooLarge(declared: declared, limit: limit)
    }

    /// Form fields name the request once its media begins; a JSON body is read whole, so
    /// until then only the path and query name it.
    func earlyNames(_ head: HTTPRequestHead, body: UploadBodyReader<V2Problem>, bodyComplete: Bool) -> RequestNames? {
        switch body {
        case .form(let parser, let collector):
            guard bodyComplete || collector.mediaBegan else { return nil }
            return reader(.form(collector.parameters, multipart: !parser.isURLEncoded)).names
        case .ignored, .whole, .mediaJSON:
            return reader(.none).names
        }
    }

    func identify(_ head: HTTPRequestHead, body: UploadBody) -> (names: RequestNames, request: V2RequestReader) {
        let read: V2Body = switch body {
        case .none where head.hasBody && endpoint != .status: .other(contentType: head.headers["content-type"])
        case .none: .none
        case .whole(let bytes): .json(bytes)
        case .mediaJSON(let json): .streamedJSON(json)
        case .form(let parameters, let multipart, _): .form(parameters, multipart: multipart)
        }
        let request = reader(read)
        return (request.names, request)
    }

    private func reader(_ body: V2Body) -> V2RequestReader {
        V2RequestReader(endpoint: endpoint, pathID: pathID, query: query, body: body)
    }

    func perform(_ reader: V2RequestReader, head: HTTPRequestHead, as requester: Requester, application: MockApplication,
                 headers: [(name: String, value: String)]) throws(V2Problem) -> UploadReply {
        let switches = application.compatibility.inForce(for: requester.scope)
        let answer = try V2Operation(request: reader.request(compatibility: switches)).perform(on: application.uploads, as: requester)
        // One array, sized once: the rate limits', the common ones, the JSON content type.
        var all: [(name: String, value: String)] = []
        all.reserveCapacity(headers.count + Self.commonHeaders.count + 1)
        all += headers
        all += Self.commonHeaders
        var body = HTTPBody.empty
        if let json = answer.body {
            all.append(("content-type", "application/json; charset=utf-8"))
            body = .bytes(json.serialized)
        }
        let reply = HTTPReply(status: answer.status, headers: all, body: body)
        return UploadReply(reply: reply, mediaID: answer.mediaID, segmentIndex: answer.segmentIndex, note: answer.note,
                           storedMediaBytes: answer.storedMediaBytes)
    }

    /// A v2 path asked with a method it does not take.
    static func methodNotAllowed(_ head: HTTPRequestHead, allowed: [String]) -> HTTPReply {
        V2Problem.methodNotAllowed(head.method, path: head.path, allowed: allowed)
            .reply(requestPath: head.path, headers: [("allow", allowed.joined(separator: ", "))])
    }
}

extension V2RequestReader {
    /// What the request names, for rules and the journal (never a refusal).
    var names: RequestNames {
        RequestNames(command: command, mediaID: mediaID, segmentIndex: segmentIndex)
    }
}
