/// Every error the upload endpoint answers, written once, in the real service's shapes.
///
/// Messages the real service is known to use are copied exactly; where its wording was never
/// recorded (oversize chunks, expired ids...), the message says precisely what was wrong.
public struct UploadError: Error, Sendable, Equatable {
    public enum Shape: Sendable, Equatable {
        /// `{"request":"/1.1/media/upload.json","error":"…"}`: upload-specific problems.
        case request(String)
        /// `{"errors":[{"code":N,"message":"…"}]}`: platform problems.
        case platform(code: Int, message: String)
        /// No body at all, as the real service answers an oversize simple upload.
        case empty
    }

    public var status: Int
    public var shape: Shape

    public var message: String {
        switch shape {
        case .request(let message), .platform(_, let message): message
        case .empty: "HTTP \(status)"
        }
    }

    static let requestPath = "/1.1/media/upload.json"

    public var body: JSONValue? {
        switch shape {
        case .request(let message):
            .object(["request": .string(Self.requestPath), "error": .string(message)])
        case .platform(let code, let message):
            .object(["errors": .array([.object(["code": .int(Int64(code)), "message": .string(message)])])])
        case .empty:
            nil
        }
    }

    static func request(_ message: String, status: Int = 400) -> UploadError {
        UploadError(status: status, shape: .request(message))
    }
}

// MARK: - Platform errors

extension UploadError {
    /// Code 38 is how the real service reports any missing required parameter.
    static func missingParameter(_ name: String) -> UploadError {
        UploadError(status: 400, shape: .platform(code: 38, message: "\(name) parameter is missing."))
    }

    public static let rateLimitExceeded = UploadError(status: 429, shape: .platform(code: 88, message: "Rate limit exceeded"))
    public static let couldNotAuthenticate = UploadError(status: 401, shape: .platform(code: 32, message: "Could not authenticate you."))
    public static let internalError = UploadError(status: 500, shape: .platform(code: 131, message: "Internal error"))
    /// An error a fault rule asked for, in the shape the real service uses for that status.
    public static func injected(status: Int, message: String?) -> UploadError {
        switch status {
        case 401: UploadError(status: 401, shape: .platform(code: 32, message: message ?? "Could not authenticate you."))
        case 429: UploadError(status: 429, shape: .platform(code: 88, message: message ?? "Rate limit exceeded"))
        case 503: UploadError(status: 503, shape: .platform(code: 130, message: message ?? "Over capacity"))
        case 500...: UploadError(status: status, shape: .platform(code: 131, message: message ?? "Internal error"))
        default: .request(message ?? "Injected fault: HTTP \(status).", status: status)
        }
    }

    static let pageDoesNotExist = UploadError(status: 404, shape: .platform(code: 34, message: "Sorry, that page does not exist."))
}

// MARK: - Requests

extension UploadError {
    static func unknownCommand(_ command: String) -> UploadError {
        .request("Invalid command '\(command)': commands are case sensitive and must be one of INIT, APPEND, FINALIZE, STATUS.")
    }

    static func methodNotAllowed(_ method: String, command: String?) -> UploadError {
        let expected = command == "STATUS" ? "GET" : "POST"
        return .request("\(command ?? "Upload") must be sent with \(expected), not \(method).", status: 405)
    }

    static func bodyTooLarge(declared: Int, limit: Int) -> UploadError {
        .request("Request body of \(declared) bytes exceeds the \(limit)-byte limit for this endpoint.", status: 413)
    }

    static func malformedBody(_ reason: String) -> UploadError {
        .request("Malformed request body: \(reason)")
    }

    static func duplicateParameter(_ name: String) -> UploadError {
        .request("Parameter \(name) was sent more than once with different values.")
    }

    static func parameterTooLong(_ name: String, limit: Int) -> UploadError {
        .request("Parameter \(name) is longer than \(limit) bytes.")
    }
}

// MARK: - Media ids

extension UploadError {
    /// The real service's text for a media id it cannot parse.
    static func invalidMediaID(_ value: String) -> UploadError {
        .request("Invalid media_id: Some(\(value)).")
    }

    static func unknownMediaID(_ id: UInt64) -> UploadError {
        .request("Invalid media_id: Some(\(id)). No upload with this media_id was initialized (or it was reset).")
    }

    static func expiredMediaID(_ id: UInt64, after seconds: Int) -> UploadError {
        .request("Media id \(id) expired: it was valid for \(seconds) seconds after INIT. Start a new upload with INIT.")
    }

    static func alreadyFinalized(_ id: UInt64) -> UploadError {
        .request("Media id \(id) is already finalized: APPEND is only accepted between INIT and FINALIZE.")
    }

    static func notFinalized(_ id: UInt64) -> UploadError {
        .request("Media id \(id) has not been finalized: STATUS is available after FINALIZE.", status: 404)
    }

    static func ownedByAnotherUser(_ id: UInt64) -> UploadError {
        .request("Media id \(id) belongs to another user.", status: 403)
    }
}

// MARK: - INIT

extension UploadError {
    static func invalidTotalBytes(_ value: String) -> UploadError {
        .request("total_bytes must be a positive decimal integer, got '\(value)'.")
    }

    static let mediaTypeUnrecognized = UploadError.request("media type unrecognized.")

    static func invalidMediaCategory(_ value: String) -> UploadError {
        let known = MediaCategory.allCases.map(\.rawValue).joined(separator: ", ")
        return .request("Invalid media_category '\(value)': expected one of \(known).")
    }

    static func fileSizeExceeds(_ limit: Int) -> UploadError {
        .request("File size exceeds \(limit) bytes.")
    }
}

// MARK: - APPEND

extension UploadError {
    /// The real service's text for an index outside 0–999.
    static let segmentIndexOutOfRange = UploadError.request("SegmentIndex must be between 0 and 999.")

    static func segmentIndexNotInteger(_ value: String) -> UploadError {
        .request("segment_index must be a decimal integer between 0 and 999, got '\(value)'.")
    }

    static let bothMediaAndMediaData = UploadError.request(
        "Send exactly one of media (raw bytes) or media_data (base64), not both.")

    static func invalidBase64(_ reason: String) -> UploadError {
        .request("media_data is not valid base64: \(reason)")
    }

    static func chunkTooLarge(parameter: String, limit: Int) -> UploadError {
        .request("The \(parameter) parameter exceeds the \(limit)-byte limit for one APPEND segment.")
    }

    static func exceedsTotalBytes(segment: Int, bytes: Int, wouldBe: Int, total: Int) -> UploadError {
        .request("Segment \(segment) of \(bytes) bytes would bring this upload to \(wouldBe) bytes, more than the total_bytes of \(total) declared at INIT.")
    }
}

// MARK: - FINALIZE and simple upload

extension UploadError {
    static let segmentsDoNotAddUp = UploadError.request("Segments do not add up to provided total file size.")
    static let largeFileNotSynchronous = UploadError.request("Large file can not be finalized synchronously.")
    /// The real service answers an oversize simple upload with 413 and no body.
    static let simpleUploadTooLarge = UploadError(status: 413, shape: .empty)
}
