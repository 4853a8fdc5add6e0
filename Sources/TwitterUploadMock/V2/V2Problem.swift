import UploadMockDomain
import UploadMockHTTP
import UploadMockJSON

/// One entry of an `invalid-request` problem's `errors`: the message, and the parameters it
/// concerns with their values as sent (empty when the parameter is missing).
struct V2ErrorEntry: Sendable {
    var message: String
    var parameters: [(name: String, values: [String])]?

    init(_ message: String, parameters: [(name: String, values: [String])]? = nil) {
        self.message = message
        self.parameters = parameters
    }

    var json: JSONValue {
        var object = JSONObject()
        if let parameters {
            object["parameters"] = .object(JSONObject(parameters.map { ($0.name, .array($0.values.map { .string($0) })) }))
        }
        object["message"] = .string(message)
        return .object(object)
    }
}

/// Every refusal the X API v2 media endpoints answer, written once, in the real service's
/// shapes (docs/api-v2.md, Errors; docs/fidelity.md says where each comes from).
///
/// Where the real wording is known the wire carries exactly that and `explanation` says more
/// for the journal and the log; where it was never recorded, the message itself is precise.
struct V2Problem: Error, Sendable {
    enum Shape: Sendable {
        /// Compact `{"errors":[…],"title":"Invalid Request","detail":…,"type":…/invalid-request}`,
        /// `/` unescaped, as every recorded v2 validation refusal.
        case invalidRequest([V2ErrorEntry])
        /// Pretty-printed `{"title","type":"about:blank","status","detail"}`, as the recorded
        /// 401 and 403.
        case aboutBlank(detail: String)
        /// Pretty-printed, in the key order recorded for v2's 429 in 2025.
        case tooManyRequests(detail: String)
        /// Pretty-printed `unsupported-authentication`, recorded for an app-only token.
        case unsupportedAuthentication
        /// `{"errors":["…"]}`: plain strings, as the new endpoints answered a server fault.
        case plainErrors(String)
        /// A plain-text body, as the recorded `media type unrecognized`.
        case text(String)
    }

    var status: Int
    var shape: Shape
    /// What the journal's `error` says, when it should say more than the wire.
    var explanation: String?

    static let problemTypePrefix = "https://api.twitter.com/2/problems/"

    /// The same refusal, with `explanation` added to what the journal and the log say.
    func explained(by explanation: String) -> V2Problem {
        var explained = self
        explained.explanation = "\(description): \(explanation)"
        return explained
    }

    /// What the journal and the log say about it.
    var description: String {
        if let explanation { return explanation }
        switch shape {
        case .invalidRequest(let entries): return entries.map(\.message).joined(separator: " ")
        case .aboutBlank(let detail), .tooManyRequests(let detail): return detail
        case .unsupportedAuthentication: return Self.unsupportedAuthenticationDetail
        case .plainErrors(let message), .text(let message): return message
        }
    }

    func reply(requestPath: String, headers: [(name: String, value: String)]) -> HTTPReply {
        let (contentType, body) = rendered
        return HTTPReply(status: status, headers: headers + [("content-type", contentType)] + V2UploadDialect.commonHeaders,
                         body: .bytes(body))
    }

    private var rendered: (contentType: String, body: [UInt8]) {
        let title = Self.reasonPhrase(status)
        switch shape {
        case .invalidRequest(let entries):
            let problem: JSONValue = .object([
                "errors": .array(entries.map(\.json)), "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": .string(Self.problemTypePrefix + "invalid-request"),
            ])
            return ("application/problem+json", problem.serialized(.plain))
        case .aboutBlank(let detail):
            let problem: JSONValue = .object([
                "title": .string(title), "type": "about:blank", "status": .int(Int64(status)), "detail": .string(detail),
            ])
            return ("application/problem+json", problem.serialized(.pretty))
        case .tooManyRequests(let detail):
            let problem: JSONValue = .object([
                "title": .string(title), "detail": .string(detail), "type": "about:blank", "status": .int(Int64(status)),
            ])
            return ("application/problem+json", problem.serialized(.pretty))
        case .unsupportedAuthentication:
            let problem: JSONValue = .object([
                "title": "Unsupported Authentication", "detail": .string(Self.unsupportedAuthenticationDetail),
                "type": .string(Self.problemTypePrefix + "unsupported-authentication"), "status": .int(Int64(status)),
            ])
            return ("application/problem+json", problem.serialized(.pretty))
        case .plainErrors(let message):
            return ("application/json; charset=utf-8", JSONValue.object(["errors": .array([.string(message)])]).serialized(.plain))
        case .text(let message):
            return ("text/plain; charset=utf-8", Array(message.utf8))
        }
    }

    /// The titles of `about:blank` problems: the status line's reason phrase, so the two always
    /// agree. The recorded titles (401, 403, 429, …) are those phrases; for 413 the real title
    /// was never recorded (docs/fidelity.md).
    static func reasonPhrase(_ status: Int) -> String {
        HTTPStatus.reasonPhrase(status)
    }

    /// Two spaces after "endpoint.", as recorded.
    static let unsupportedAuthenticationDetail = "Authenticating with OAuth 2.0 Application-Only is forbidden for this "
        + "endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context]."

    static func invalid(_ message: String, parameters: [(name: String, values: [String])]? = nil,
                        explanation: String? = nil) -> V2Problem {
        V2Problem(status: 400, shape: .invalidRequest([V2ErrorEntry(message, parameters: parameters)]), explanation: explanation)
    }

    static func blank(_ status: Int, detail: String? = nil, explanation: String? = nil) -> V2Problem {
        V2Problem(status: status, shape: .aboutBlank(detail: detail ?? reasonPhrase(status)), explanation: explanation)
    }
}

// MARK: - Authentication and limits

extension V2Problem {
    static func unauthorized(because reason: String) -> V2Problem {
        .blank(401, explanation: "authentication failed: \(reason)")
    }

    static func unsupportedAuthentication(because reason: String) -> V2Problem {
        V2Problem(status: 403, shape: .unsupportedAuthentication, explanation: "authentication refused: \(reason)")
    }

    static let rateLimitExceeded = V2Problem(status: 429, shape: .tooManyRequests(detail: "Too Many Requests"))

    /// An error a fault rule asked for, in the shape the real service uses for that status.
    static func injected(status: Int, message: String?) -> V2Problem {
        switch status {
        case 400: .invalid(message ?? "Injected fault: HTTP 400.")
        case 429: V2Problem(status: 429, shape: .tooManyRequests(detail: message ?? reasonPhrase(429)))
        case 500: V2Problem(status: 500, shape: .plainErrors(message ?? "internal server error"))
        default: .blank(status, detail: message)
        }
    }

    static func bodyTooLarge(declared: Int?, limit: Int) -> V2Problem {
        let size = declared.map { "of \($0) bytes " } ?? ""
        return .blank(413, detail: "Request body \(size)exceeds the \(limit)-byte limit for this endpoint.")
    }

    static func methodNotAllowed(_ method: String, path: String, allowed: [String]) -> V2Problem {
        .blank(405, detail: "\(path) does not take \(method); it takes \(allowed.joined(separator: ", ")).")
    }
}

// MARK: - Bodies

extension V2Problem {
    /// The recorded answer to a body that is not JSON where JSON is required (including
    /// multipart declared with a comma before `boundary`).
    static func bodyMustBeJSON(contentType: String?) -> V2Problem {
        .invalid("Requests with bodies must have content-type of application/json.",
                 explanation: "the body's Content-Type is \(contentType.map { "'\($0)'" } ?? "missing"); "
                     + "this endpoint takes application/json")
    }

    static func notValidJSON(_ reason: String) -> V2Problem {
        .invalid("Request body is not valid JSON.", explanation: "Request body is not valid JSON: \(reason)")
    }

    static let mustBeJSONObject = V2Problem.invalid("Request body must be a JSON object.")

    static func malformedBody(_ reason: String) -> V2Problem {
        .invalid("Malformed request body: \(reason)")
    }

    /// The whole list of what the spec's schema refuses in a JSON (or multipart) body.
    static func schemaViolations(_ entries: [V2ErrorEntry]) -> V2Problem {
        V2Problem(status: 400, shape: .invalidRequest(entries))
    }
}

// MARK: - Query, path and form parameters (the real service's wording for them)

extension V2Problem {
    static func missingParameter(_ name: String) -> V2Problem {
        .invalid("The `\(name)` query parameter can not be empty", parameters: [(name, [])])
    }

    static func invalidParameter(_ name: String, _ value: String) -> V2Problem {
        .invalid("The `\(name)` query parameter value [\(value)] is not valid", parameters: [(name, [value])])
    }

    static func parameterNotOneOf(_ name: String, _ value: String, allowed: [String]) -> V2Problem {
        .invalid("The `\(name)` query parameter value [\(value)] is not one of [\(allowed.joined(separator: ","))]",
                 parameters: [(name, [value])])
    }

    static func unknownParameter(_ name: String, _ value: String, allowed: [String]) -> V2Problem {
        .invalid("The query parameter [\(name)] is not one of [\(allowed.joined(separator: ","))]", parameters: [(name, [value])])
    }

    static func duplicateParameter(_ name: String, values: [String]) -> V2Problem {
        .invalid("Duplicate parameters are not allowed: the `\(name)` query parameter", parameters: [(name, values)])
    }
}

// MARK: - The form collector's refusals (multipart and the command form)

extension V2Problem: UploadRefusal {
    static func invalidCredentials(because reason: String) -> V2Problem {
        .unauthorized(because: reason)
    }

    static func malformedCredentials(because reason: String) -> V2Problem {
        .invalid(reason, explanation: "authentication refused: \(reason)")
    }

    static func duplicateParameter(_ name: String) -> V2Problem {
        .invalid("Duplicate parameters are not allowed: the `\(name)` parameter", parameters: [(name, [])])
    }

    static func parameterTooLong(_ name: String, limit: Int) -> V2Problem {
        .invalid("The `\(name)` parameter is longer than \(limit) bytes (limits.field_bytes).", parameters: [(name, [])])
    }

    static func tooManyParameters(limit: Int) -> V2Problem {
        .invalid("The request carries more than \(limit) parameters (limits.max_fields).")
    }

    static func invalidBase64(_ reason: String) -> V2Problem {
        .invalid("The media is not valid base64: \(reason)", parameters: [("media", [])])
    }

    init(_ failure: UploadFailure) {
        self = Self.domain(failure, idParameter: "id")
    }
}

// MARK: - The domain's refusals

extension V2Problem {
    /// - Parameter idParameter: the parameter that carried the media id (`id` in paths and
    ///   bodies, `media_id` in STATUS's query), named when the id is not found.
    static func domain(_ failure: UploadFailure, idParameter: String) -> V2Problem {
        switch failure {
        case .unknownMediaID(let id):
            // The real service's words for media it cannot find (recorded for STATUS).
            .invalid("BadRequest: Not found", parameters: [(idParameter, [String(id)])], explanation: failure.message)
        case .notFinalized:
            .invalid("BadRequest: Not found", explanation: failure.message)
        case .ownedByAnotherUser:
            .blank(403, explanation: failure.message)
        case .mediaTypeUnrecognized:
            // Recorded as plain text for a file the service cannot read.
            V2Problem(status: 400, shape: .text("media type unrecognized"), explanation: failure.message)
        case .oneShotTooLarge:
            .blank(413, detail: failure.message)
        case .storageFailed:
            V2Problem(status: 500, shape: .plainErrors("internal server error"), explanation: failure.message)
        case .overCapacity:
            .blank(503, explanation: failure.message)
        case .expiredMediaID, .alreadyFinalized, .fileSizeExceeds, .segmentIndexOutOfRange, .chunkTooLarge,
             .exceedsTotalBytes, .segmentsDoNotAddUp, .largeFileNotSynchronous, .altTextTooLong, .uploadTextTooLarge, .notVideo,
             .notSubtitles, .noSubtitles:
            .invalid(failure.message)
        }
    }
}
