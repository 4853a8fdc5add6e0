import UploadMockAuth
import UploadMockDomain
import UploadMockForms
import UploadMockHTTP
import UploadMockJSON

/// `/1.1/media/upload.json` (docs/api.md): parameters from the query string and a form body
/// (multipart or urlencoded), streamed; answers in v1.1's shapes.
struct V1UploadDialect: UploadDialect {
    static let path = "/1.1/media/upload.json"
    static let api = UploadAPI.v1
    static let credentials = AcceptedCredentials.oauth1
    /// The hosts clients sign v1.1 requests for: tweepy and python-twitter still use
    /// upload.twitter.com, node-twitter-api-v2 and X's docs upload.x.com.
    static let realBaseURLs = ["https://upload.twitter.com", "https://upload.x.com"]

    /// The command is a parameter.
    let impliedCommand: UploadCommand? = nil

    func plan(_ head: HTTPRequestHead, application: MockApplication) throws(V1Error) -> UploadBodyPlan<V1Error> {
        let limits = application.uploads.settings.limits
        let query: [(name: String, value: String)]
        do {
            query = try URLEncodedFormParser.parse(head.query)
        } catch {
            throw .malformedBody(error.reason)
        }
        let maximum = Self.maximumBodyBytes(limits: limits, appending: query.contains { $0 == ("command", "APPEND") })
        try refuseDeclaredLength(head, over: maximum)
        var parser = FormBodyParser.ignored
        if head.hasBody {
            do {
                parser = try FormBodyParser(contentType: head.headers["content-type"])
            } catch {
                throw .malformedBody(error.reason)
            }
        }
        let collector = try UploadParameterCollector<V1Error>(
            query: query, limits: limits, expectedBodyBytes: head.contentLength ?? 0,
            keepsBodyPairs: parser.isURLEncoded && application.authenticator.needsSignedBody)
        return UploadBodyPlan(reader: .form(parser, collector), maximumBytes: maximum)
    }

    /// Room for the largest payload (base64 and percent-encoding inflate it) plus other fields.
    static func maximumBodyBytes(limits: UploadLimits, appending: Bool) -> Int {
        let payload = appending ? limits.chunkBytes : limits.largestPayloadBytes
        return payload * 3 / 2 + limits.bodyOverheadBytes
    }

    func bodyTooLarge(declared: Int?, limit: Int) -> V1Error {
        .bodyTooLarge(declared: declared, limit: limit)
    }

    func earlyNames(_ head: HTTPRequestHead, body: UploadBodyReader<V1Error>, bodyComplete: Bool) -> RequestNames? {
        guard case .form(_, let collector) = body else { return nil }
        guard bodyComplete || collector.mediaBegan || !head.hasBody else { return nil }
        return Self.names(collector.parameters, bodyComplete: bodyComplete || !head.hasBody)
    }

    /// What the parameters name; a request without `command` is a one-shot upload, once no
    /// more parameters can come.
    private static func names(_ parameters: UploadParameters, bodyComplete: Bool) -> RequestNames {
        let command = parameters.command.map { UploadCommand(rawValue: $0) } ?? (bodyComplete ? .simpleUpload : nil)
        return RequestNames(command: command, mediaID: parameters["media_id"].flatMap { UInt64(decimal: $0) },
                            segmentIndex: parameters["segment_index"].flatMap { Int(decimal: $0) })
    }

    func identify(_ head: HTTPRequestHead, body: UploadBody) throws(V1Error) -> (names: RequestNames, request: V1Operation) {
        guard case .form(let parameters, _, _) = body else { throw .malformedBody("the request ended before its parameters were read") }
        let command = try UploadCommand(v1: parameters)
        var names = Self.names(parameters, bodyComplete: true)
        names.command = command
        return (names, V1Operation(command: command, parameters: parameters))
    }

    func check(_ request: V1Operation, head: HTTPRequestHead) throws(V1Error) {
        guard request.command.method != head.method else { return }
        // The real service treats a POSTed STATUS as an upload without media.
        throw request.command == .status ? .missingParameter("media") : .methodNotAllowed(head.method, command: request.command.rawValue)
    }

    func perform(_ request: V1Operation, head: HTTPRequestHead, as requester: Requester, application: MockApplication,
                 headers: [(name: String, value: String)]) throws(V1Error) -> UploadReply {
        let answer = try request.perform(on: application.uploads, as: requester)
        // One array, sized once: the rate limits', x-mediaid, the answer's own, the JSON ones.
        var all: [(name: String, value: String)] = []
        all.reserveCapacity(headers.count + 1 + answer.headers.count + V1Error.jsonHeaders.count)
        all += headers
        if let id = answer.mediaID, answer.sendsMediaIDHeader { all.append(("x-mediaid", String(id))) }
        all += answer.headers
        var body = HTTPBody.empty
        if let json = answer.body {
            all += V1Error.jsonHeaders
            body = .bytes(json.serialized)
        }
        return UploadReply(reply: HTTPReply(status: answer.status, headers: all, body: body), mediaID: answer.mediaID,
                           storedMediaBytes: answer.storedMediaBytes)
    }
}
