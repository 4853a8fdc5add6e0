#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization
import UploadMockChaos
import UploadMockDomain
import UploadMockHTTP
import UploadMockJSON

/// The v1.1 companions of `media/upload.json` that take a JSON body: alt text and subtitles
/// (docs/api.md, Alt text and subtitles).
enum V1JSONEndpoint: Sendable, CaseIterable {
    case metadataCreate
    case subtitlesCreate
    case subtitlesDelete

    var path: String {
        switch self {
        case .metadataCreate: "/1.1/media/metadata/create.json"
        case .subtitlesCreate: "/1.1/media/subtitles/create.json"
        case .subtitlesDelete: "/1.1/media/subtitles/delete.json"
        }
    }

    var command: UploadCommand {
        switch self {
        case .metadataCreate: .metadata
        case .subtitlesCreate: .subtitlesCreate
        case .subtitlesDelete: .subtitlesDelete
        }
    }

    /// Ample for 1000 characters of alt text or a list of subtitle tracks.
    static let maximumBodyBytes = 64 * 1024

    /// Reads the body whole, then answers it; the journal learns how it ended.
    func exchange(for head: HTTPRequestHead, application: MockApplication) -> any HTTPExchange {
        var entry = JournalEntry(arriving: head, api: .v1, clock: application.clock)
        entry.command = command.rawValue
        let draft = JournalDraft(entry)
        let request = V1JSONRequest(endpoint: self, head: head, application: application, draft: draft)
        return BufferedExchange(
            head: head, maximumBodyBytes: Self.maximumBodyBytes,
            tooLarge: { request.reply(for: .jsonBodyTooLarge(limit: Self.maximumBodyBytes)) },
            completed: { completion in application.record(draft.finished(completion)) },
            respond: { _, body in request.answer(body) })
    }
}

/// One exchange's journal entry, filled in by the closures that answer it.
final class JournalDraft: Sendable {
    private let entry: Mutex<JournalEntry>

    init(_ entry: JournalEntry) {
        self.entry = Mutex(entry)
    }

    func update<Result>(_ change: (inout JournalEntry) -> Result) -> Result {
        entry.withLock { change(&$0) }
    }

    func finished(_ completion: HTTPCompletion) -> JournalEntry {
        entry.withLock { entry in
            entry.complete(completion)
            return entry
        }
    }
}

/// One request to a JSON endpoint: authenticated like any v1.1 request (the JSON body is
/// never signed), rate limited and faulted by its command, then validated and handed to the
/// domain. Success is 200 with an empty body, as recorded for metadata/create and documented
/// for subtitles.
struct V1JSONRequest: Sendable {
    let endpoint: V1JSONEndpoint
    let head: HTTPRequestHead
    let application: MockApplication
    let draft: JournalDraft

    func answer(_ body: [UInt8]) -> HTTPReply {
        let requester: Requester
        switch application.authenticator.authenticate(head, bodyParameters: [], accepts: .oauth1,
                                                      realBaseURLs: V1Exchange.realBaseURLs) {
        case .accepted(let user): requester = application.requester(head, user: user)
        case .unsupported(let reason): return reply(for: .unsupportedAuthentication(because: reason))
        case .invalid(let reason): return reply(for: .couldNotAuthenticate(because: reason))
        case .malformed(let reason): return reply(for: .malformedAuthorization(because: reason))
        }
        let document: JSONObject
        do {
            document = try Self.document(head, body: body)
        } catch {
            return reply(for: error)
        }
        // The media id as the rules see it; a malformed one is refused after the limits count.
        let mediaID = try? JSONBody.mediaID(document["media_id"], field: "media_id")
        let facts = RequestFacts(api: .v1, method: head.method, path: head.path, command: endpoint.command,
                                 mediaID: mediaID, user: requester.user, scope: requester.scope)
        let limits = draft.update { application.applyRateLimits(facts, entry: &$0) }
        let headers = limits.headers
        if limits.exceeded { return reply(for: .rateLimitExceeded, headers: headers) }
        guard let fault = draft.update({ application.fireFault(facts, entry: &$0) }) else {
            return perform(document, as: requester, headers: headers)
        }
        return fault.reply(
            realAnswer: { perform(document, as: requester, headers: headers) },
            error: { status, message in reply(for: .injected(status: status, message: message), headers: headers) })
    }

    private func perform(_ document: JSONObject, as requester: Requester, headers: [(name: String, value: String)]) -> HTTPReply {
        do {
            try V1JSONOperation(endpoint: endpoint, document: document).perform(on: application.uploads, as: requester)
            return HTTPReply(status: 200, headers: headers)
        } catch {
            return reply(for: error, headers: headers)
        }
    }

    /// The documented content types are `application/json` and `text/plain` (with
    /// `charset=UTF-8`); anything else, or a body that is not one JSON object, is an invalid
    /// payload.
    static func document(_ head: HTTPRequestHead, body: [UInt8]) throws(V1Error) -> JSONObject {
        guard let mediaType = head.mediaType, mediaType == "application/json" || mediaType == "text/plain" else {
            let contentType = head.headers["content-type"] ?? "(none)"
            throw .invalidJSONPayload(because: "Content-Type \(contentType) is neither application/json nor text/plain")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw .invalidJSONPayload(because: "the body is not JSON: \(error.message)")
        }
        guard case .object(let object) = value else { throw .invalidJSONPayload(because: "the body is not a JSON object") }
        return object
    }

    func reply(for error: V1Error, headers: [(name: String, value: String)] = []) -> HTTPReply {
        draft.update { $0.error = error.description }
        return V1Exchange.render(error, requestPath: head.path, headers: headers)
    }
}

/// What a JSON endpoint asks of the domain, read from its body.
struct V1JSONOperation {
    var endpoint: V1JSONEndpoint
    var document: JSONObject

    func perform(on uploads: UploadService, as requester: Requester) throws(V1Error) {
        let mediaID = try JSONBody.mediaID(document["media_id"], field: "media_id")
        switch endpoint {
        case .metadataCreate:
            // `{"media_id": …, "alt_text": {"text": "…"}}`; a plain-string alt_text is refused (400).
            guard let altText = document["alt_text"] else { throw .invalidJSONPayload(because: "alt_text is missing") }
            guard case .object(let object) = altText else {
                throw .invalidJSONPayload(because: #"alt_text must be an object {"text": "…"}"#)
            }
            let text = try JSONBody.string(object["text"], field: "alt_text.text")
            try domain { () throws(UploadFailure) in try uploads.setMetadata(mediaID: mediaID, altText: text, by: requester) }
        case .subtitlesCreate:
            try checkCategory()
            let tracks = try subtitles().map { (subtitle) throws(V1Error) in
                SubtitleTrack(mediaID: try JSONBody.mediaID(subtitle["media_id"], field: "subtitle_info.subtitles[].media_id"),
                              languageCode: try JSONBody.string(subtitle["language_code"], field: "subtitle_info.subtitles[].language_code"),
                              displayName: try subtitle["display_name"].map { (value) throws(V1Error) in
                                  try JSONBody.string(value, field: "subtitle_info.subtitles[].display_name")
                              })
            }
            _ = try domain { () throws(UploadFailure) in try uploads.addSubtitles(videoID: mediaID, tracks: tracks, by: requester) }
        case .subtitlesDelete:
            try checkCategory()
            let languages = try subtitles().map { (subtitle) throws(V1Error) in
                try JSONBody.string(subtitle["language_code"], field: "subtitle_info.subtitles[].language_code")
            }
            try domain { () throws(UploadFailure) in try uploads.removeSubtitles(videoID: mediaID, languageCodes: languages, by: requester) }
        }
    }

    /// `media_category` is optional; when sent it may be spelt any way clients spell it
    /// (`TweetVideo`, `tweet_video`, `amplify_video`).
    private func checkCategory() throws(V1Error) {
        guard let value = document["media_category"] else { return }
        _ = try V1Operation.category(try JSONBody.string(value, field: "media_category"))
    }

    /// `subtitle_info.subtitles`: a non-empty list of objects.
    private func subtitles() throws(V1Error) -> [JSONObject] {
        guard case .object(let info)? = document["subtitle_info"] else {
            throw .invalidJSONPayload(because: "subtitle_info must be an object holding a subtitles list")
        }
        guard case .array(let list)? = info["subtitles"], !list.isEmpty else {
            throw .invalidJSONPayload(because: "subtitle_info.subtitles must be a non-empty list")
        }
        return try list.map { (item) throws(V1Error) in
            guard case .object(let subtitle) = item else {
                throw .invalidJSONPayload(because: "each of subtitle_info.subtitles must be an object")
            }
            return subtitle
        }
    }

    /// A domain refusal in v1.1's shapes; subtitles document 404 for a wrong media id.
    private func domain<Result>(_ operation: () throws(UploadFailure) -> Result) throws(V1Error) -> Result {
        do {
            return try operation()
        } catch {
            var refusal = V1Error(error)
            if case .unknownMediaID = error, endpoint != .metadataCreate { refusal.status = 404 }
            throw refusal
        }
    }
}

/// Field readers for v1.1 JSON bodies.
enum JSONBody {
    /// A media id as a decimal string (`media_id_string`) or an integer. A JavaScript client
    /// that read `media_id` as a number sends a rounded id, which is then unknown.
    static func mediaID(_ value: JSONValue?, field: String) throws(V1Error) -> UInt64 {
        switch value {
        case nil:
            throw .invalidJSONPayload(because: "\(field) is missing")
        case .string(let text)?:
            guard let id = UInt64(decimal: text) else { throw .invalidMediaID(text) }
            return id
        case .int(let number)? where number >= 0:
            return UInt64(number)
        case .uint(let number)?:
            return number
        case let other?:
            throw .invalidJSONPayload(because: "\(field) must be a decimal string or an integer, not \(other.text)")
        }
    }

    static func string(_ value: JSONValue?, field: String) throws(V1Error) -> String {
        guard let value else { throw .invalidJSONPayload(because: "\(field) is missing") }
        guard case .string(let text) = value else { throw .invalidJSONPayload(because: "\(field) must be a string, not \(value.text)") }
        return text
    }
}
