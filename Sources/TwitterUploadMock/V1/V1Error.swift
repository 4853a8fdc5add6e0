import UploadMockDomain
import UploadMockHTTP
import UploadMockJSON

/// Every refusal the v1.1 endpoints answer, written once, in the real service's shapes
/// (docs/api.md, Errors; docs/fidelity.md says where each comes from).
///
/// Where the real wording is known the wire carries exactly that, and `explanation` says more
/// for the journal and the log; where it was never recorded, the message itself is precise.
struct V1Error: Error, Sendable {
    enum Shape: Sendable {
        /// `{"request":"/1.1/media/upload.json","error":"…"}`: upload-specific problems.
        case request(String)
        /// `{"errors":[{"code":N,"message":"…"}]}`: platform problems.
        case platform(code: Int, message: String)
        /// `{"errors":[{"message":"…","code":N}]}`: the same, message first, as the upload
        /// host has been quoted writing it.
        case platformMessageFirst(code: Int, message: String)
        /// No body at all, as the real service answers an oversize one-shot upload.
        case empty
    }

    var status: Int
    var shape: Shape
    /// What the journal's `error` says, when it should say more than the wire.
    var explanation: String?

    /// What the journal and the log say about it.
    var description: String {
        if let explanation { return explanation }
        switch shape {
        case .request(let message), .platform(_, let message), .platformMessageFirst(_, let message): return message
        case .empty: return "HTTP \(status)"
        }
    }

    /// The body, naming the endpoint in `request` as the real service does.
    func body(requestPath: String) -> JSONValue? {
        switch shape {
        case .request(let message):
            .object(["request": .string(requestPath), "error": .string(message)])
        case .platform(let code, let message):
            .object(["errors": .array([.object(["code": .int(Int64(code)), "message": .string(message)])])])
        case .platformMessageFirst(let code, let message):
            .object(["errors": .array([.object(["message": .string(message), "code": .int(Int64(code))])])])
        case .empty:
            nil
        }
    }

    static func request(_ message: String, status: Int = 400) -> V1Error {
        V1Error(status: status, shape: .request(message))
    }
}

// MARK: - The domain's refusals

extension V1Error: UploadParameterFailures {
    init(_ failure: UploadFailure) {
        switch failure {
        case .notFinalized:
            self = .request(failure.message, status: 404)
        case .ownedByAnotherUser:
            self = .request(failure.message, status: 403)
        case .oneShotTooLarge:
            self = V1Error(status: 413, shape: .empty, explanation: failure.message)
        case .storageFailed:
            self = V1Error(status: 500, shape: .platform(code: 131, message: "Internal error"), explanation: failure.message)
        case .overCapacity:
            self = V1Error(status: 503, shape: .platform(code: 130, message: "Over capacity"), explanation: failure.message)
        case .unknownMediaID, .expiredMediaID, .alreadyFinalized, .mediaTypeUnrecognized, .fileSizeExceeds,
             .segmentIndexOutOfRange, .chunkTooLarge, .exceedsTotalBytes, .segmentsDoNotAddUp, .largeFileNotSynchronous,
             .altTextTooLong, .uploadTextTooLarge, .notVideo, .notSubtitles, .noSubtitles:
            self = .request(failure.message)
        }
    }
}

// MARK: - Platform errors

extension V1Error {
    /// Code 38 is how the real service reports any missing required parameter.
    static func missingParameter(_ name: String) -> V1Error {
        V1Error(status: 400, shape: .platform(code: 38, message: "\(name) parameter is missing."))
    }

    static let rateLimitExceeded = V1Error(status: 429, shape: .platform(code: 88, message: "Rate limit exceeded"))

    static func couldNotAuthenticate(because reason: String) -> V1Error {
        V1Error(status: 401, shape: .platform(code: 32, message: "Could not authenticate you."),
                explanation: "authentication failed: \(reason)")
    }

    /// v1.1 upload takes OAuth 1.0a user context only; the real service answers 403 to other
    /// kinds of credential. Its body was never recorded, so this one is the mock's own.
    static func unsupportedAuthentication(because reason: String) -> V1Error {
        V1Error(status: 403, shape: .platform(code: 220, message: "Your credentials do not allow access to this resource."),
                explanation: "authentication refused: \(reason)")
    }

    /// RFC 5849 §3.2 answers a duplicated protocol parameter with 400; the real service's body
    /// for it was never recorded, so this one (code 32, status 400) is inferred.
    static func malformedAuthorization(because reason: String) -> V1Error {
        V1Error(status: 400, shape: .platform(code: 32, message: "Could not authenticate you."),
                explanation: "authentication refused: \(reason)")
    }

    static let pageDoesNotExist = V1Error(status: 404, shape: .platform(code: 34, message: "Sorry, that page does not exist."))

    /// STATUS of media that needs no processing (an image, a video finalized synchronously):
    /// the upload host's 404 as quoted (message first, no final period).
    static func noProcessingStatus(_ mediaID: UInt64) -> V1Error {
        V1Error(status: 404, shape: .platformMessageFirst(code: 34, message: "Sorry, that page does not exist"),
                explanation: "Media id \(mediaID) needs no processing (an image, or media finalized synchronously): "
                    + "the real service answers STATUS only for media whose FINALIZE returned processing_info.")
    }

    /// An error a fault rule asked for, in the shape the real service uses for that status.
    static func injected(status: Int, message: String?) -> V1Error {
        switch status {
        case 401: V1Error(status: 401, shape: .platform(code: 32, message: message ?? "Could not authenticate you."))
        case 429: V1Error(status: 429, shape: .platform(code: 88, message: message ?? "Rate limit exceeded"))
        case 503: V1Error(status: 503, shape: .platform(code: 130, message: message ?? "Over capacity"))
        case 500...: V1Error(status: status, shape: .platform(code: 131, message: message ?? "Internal error"))
        default: .request(message ?? "Injected fault: HTTP \(status).", status: status)
        }
    }
}

// MARK: - Requests

extension V1Error {
    static func unknownCommand(_ command: String) -> V1Error {
        .request("Invalid command '\(command)': commands are case sensitive and must be one of INIT, APPEND, FINALIZE, STATUS.")
    }

    static func methodNotAllowed(_ method: String, command: String?) -> V1Error {
        let expected = command == "STATUS" ? "GET" : "POST"
        return .request("\(command ?? "Upload") must be sent with \(expected), not \(method).", status: 405)
    }

    /// `declared` is nil for a chunked body, refused once the bytes that arrived pass the limit.
    static func bodyTooLarge(declared: Int?, limit: Int) -> V1Error {
        let size = declared.map { "of \($0) bytes " } ?? ""
        return .request("Request body \(size)exceeds the \(limit)-byte limit for this endpoint.", status: 413)
    }

    static func malformedBody(_ reason: String) -> V1Error {
        .request("Malformed request body: \(reason)")
    }

    static func duplicateParameter(_ name: String) -> V1Error {
        .request("Parameter \(name) was sent more than once with different values.")
    }

    static func parameterTooLong(_ name: String, limit: Int) -> V1Error {
        .request("Parameter \(name) is longer than \(limit) bytes (limits.field_bytes).")
    }

    static func tooManyParameters(limit: Int) -> V1Error {
        .request("The request carries more than \(limit) parameters (limits.max_fields).")
    }

    /// The real service's text for a media id it cannot parse.
    static func invalidMediaID(_ value: String) -> V1Error {
        .request("Invalid media_id: Some(\(value)).")
    }

    static func invalidTotalBytes(_ value: String) -> V1Error {
        .request("total_bytes must be a positive decimal integer, got '\(value)'.")
    }

    static func invalidMediaCategory(_ value: String) -> V1Error {
        let known = MediaCategory.allCases.map(\.rawValue).joined(separator: ", ")
        return .request("Invalid media_category '\(value)': expected one of \(known), in any case, with or without underscores (TweetVideo).")
    }

    static func segmentIndexNotInteger(_ value: String) -> V1Error {
        .request("segment_index must be a decimal integer between 0 and 999, got '\(value)'.")
    }

    static let bothMediaAndMediaData = V1Error.request(
        "Send exactly one of media (raw bytes) or media_data (base64), not both.")

    static func invalidBase64(_ reason: String) -> V1Error {
        .request("media_data is not valid base64: \(reason)")
    }
}

// MARK: JSON endpoints (metadata, subtitles)

extension V1Error {
    /// The real service's answer to a body it cannot read as the JSON it expects (recorded for
    /// malformed and form-encoded bodies); the journal says what was wrong.
    static func invalidJSONPayload(because reason: String) -> V1Error {
        V1Error(status: 400, shape: .request("Invalid json payload."), explanation: "Invalid json payload: \(reason)")
    }

    static func jsonBodyTooLarge(limit: Int) -> V1Error {
        .request("Request body exceeds the \(limit)-byte limit for this endpoint.", status: 413)
    }
}

// MARK: - On the wire

extension V1Error: UploadRefusal {
    static func invalidCredentials(because reason: String) -> V1Error {
        .couldNotAuthenticate(because: reason)
    }

    static func malformedCredentials(because reason: String) -> V1Error {
        .malformedAuthorization(because: reason)
    }

    func reply(requestPath: String, headers: [(name: String, value: String)] = []) -> HTTPReply {
        guard let json = body(requestPath: requestPath) else { return HTTPReply(status: status, headers: headers) }
        return HTTPReply(status: status, headers: headers + Self.jsonHeaders, body: .bytes(json.serialized))
    }

    /// On every v1.1 JSON answer, as recorded.
    static let jsonHeaders: [(name: String, value: String)] = [
        ("content-type", "application/json;charset=utf-8"),
        ("content-disposition", "attachment; filename=json.json"),
    ]
}
