import UploadMockDomain
import UploadMockJSON

extension UploadCommand {
    /// The command a v1.1 request asks for; `append` and other near misses are errors, not
    /// aliases. A request without `command` is a one-shot upload.
    init(v1 parameters: UploadParameters) throws(V1Error) {
        guard let value = parameters.command else {
            self = .simpleUpload
            return
        }
        guard let command = UploadCommand(rawValue: value), command != .simpleUpload else {
            throw .unknownCommand(value)
        }
        self = command
    }

    /// The method v1.1 expects for it.
    var method: String { self == .status ? "GET" : "POST" }
}

/// A successful v1.1 answer, before it is dressed as HTTP.
struct V1Answer: Sendable {
    var status: Int
    var body: JSONValue?
    /// For the journal, and for `x-mediaid` unless `sendsMediaIDHeader` is false.
    var mediaID: UInt64?
    /// The recordings carry `x-mediaid` on INIT, APPEND and a synchronous FINALIZE only.
    var sendsMediaIDHeader = true
    var headers: [(name: String, value: String)] = []
    /// The bytes an APPEND stored (its segment, decoded), for the upload's attempt history.
    var storedMediaBytes: Int?
}

/// One v1.1 command: its parameters read as the real service reads them, handed to the
/// domain, and the domain's answer rendered in v1.1's shapes.
struct V1Operation {
    var command: UploadCommand
    var parameters: UploadParameters

    func perform(on uploads: UploadService, as requester: Requester) throws(V1Error) -> V1Answer {
        switch command {
        case .initialize:
            let declaration = try declaration()
            let media = try domain { () throws(UploadFailure) in try uploads.initialize(declaration, by: requester) }
            return V1Answer(status: 202, body: .object(V1Rendering.initialized(media)), mediaID: media.mediaID)
        case .append:
            let mediaID = try mediaID()
            guard let indexText = parameters["segment_index"] else { throw .missingParameter("segment_index") }
            let index = try Self.segmentIndex(indexText)
            let payload = try payload()
            _ = try domain { () throws(UploadFailure) in
                try uploads.append(mediaID: mediaID, segmentIndex: index, payload: payload, by: requester)
            }
            return V1Answer(status: 204, body: nil, mediaID: mediaID, headers: V1Rendering.appendedHeaders,
                            storedMediaBytes: payload.bytes.count)
        case .finalize:
            let mediaID = try mediaID()
            let media = try domain { () throws(UploadFailure) in try uploads.finalize(mediaID: mediaID, by: requester) }
            // Recorded: a synchronous FINALIZE is 201 with x-mediaid, one that starts
            // processing 200 without it.
            let processing = media.processing != nil
            return V1Answer(status: processing ? 200 : 201, body: .object(render(media, uploads)), mediaID: media.mediaID,
                            sendsMediaIDHeader: !processing)
        case .status:
            let mediaID = try mediaID()
            let media = try domain { () throws(UploadFailure) in try uploads.status(mediaID: mediaID, by: requester) }
            guard media.processing != nil else { throw .noProcessingStatus(mediaID) }
            return V1Answer(status: 200, body: .object(render(media, uploads)), mediaID: media.mediaID)
        case .simpleUpload:
            let payload = try payload()
            let category = try parameters["media_category"].map { (text) throws(V1Error) in try Self.category(text) }
            let media = try domain { () throws(UploadFailure) in try uploads.uploadOneShot(payload, category: category, api: .v1, by: requester) }
            return V1Answer(status: 200, body: .object(render(media, uploads)), mediaID: media.mediaID, sendsMediaIDHeader: false)
        case .metadata, .subtitlesCreate, .subtitlesDelete:
            // Served by their own endpoints; `command=` never names them.
            throw .unknownCommand(command.rawValue)
        }
    }

    private func render(_ media: MediaSnapshot, _ uploads: UploadService) -> JSONObject {
        V1Rendering.media(media, processing: uploads.settings.processing)
    }

    /// `media_category` in any spelling clients use: `TweetVideo` (the v1.1 docs,
    /// node-twitter-api-v2), `tweet_video`, `TWEET_VIDEO`.
    static func category(_ text: String) throws(V1Error) -> MediaCategory {
        guard let category = MediaCategory(lenient: text) else { throw .invalidMediaCategory(text) }
        return category
    }

    /// Runs a domain operation, its refusal rendered as v1.1 renders it.
    private func domain<Result>(_ operation: () throws(UploadFailure) -> Result) throws(V1Error) -> Result {
        do {
            return try operation()
        } catch {
            throw V1Error(error)
        }
    }

    private func declaration() throws(V1Error) -> MediaDeclaration {
        guard let totalText = parameters["total_bytes"] else { throw .missingParameter("total_bytes") }
        guard let totalBytes = Int(decimal: totalText), totalBytes > 0 else { throw .invalidTotalBytes(totalText) }
        guard let mediaType = parameters["media_type"] else { throw .missingParameter("media_type") }
        let category = try parameters["media_category"].map { (text) throws(V1Error) in try Self.category(text) }
        return MediaDeclaration(totalBytes: totalBytes, mediaType: mediaType, category: category, api: .v1)
    }

    private func mediaID() throws(V1Error) -> UInt64 {
        guard let text = parameters["media_id"] else { throw .missingParameter("media_id") }
        guard let id = UInt64(decimal: text) else { throw .invalidMediaID(text) }
        return id
    }

    private func payload() throws(V1Error) -> MediaPayload {
        if parameters.media != nil && parameters.mediaData != nil { throw .bothMediaAndMediaData }
        guard let payload = parameters.payload else { throw .missingParameter("media") }
        return payload
    }

    /// `segment_index` as the real service reads it: a plain decimal integer from 0 to 999.
    static func segmentIndex(_ text: String) throws(V1Error) -> Int {
        let negative = text.hasPrefix("-")
        guard let value = Int(decimal: negative ? text.dropFirst() : Substring(text)) else {
            throw .segmentIndexNotInteger(text)
        }
        guard !negative, value <= 999 else { throw V1Error(.segmentIndexOutOfRange(negative ? -value : value)) }
        return value
    }
}
