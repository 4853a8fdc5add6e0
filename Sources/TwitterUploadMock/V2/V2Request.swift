import UploadMockDomain
import UploadMockForms
import UploadMockJSON

/// A v2 request body as it arrived, decided by its Content-Type.
enum V2Body {
    /// No body, or one the endpoint ignores.
    case none
    /// `application/json`, read whole.
    case json([UInt8])
    /// `application/json` with base64 `media`, read as it streamed (V2StreamedJSON).
    case streamedJSON(V2StreamedJSON)
    /// Multipart (or, for the command form, urlencoded) fields, collected as they streamed.
    case form(UploadParameters, multipart: Bool)
    /// A body of any other type (including multipart declared with a comma before `boundary`).
    case other(contentType: String?)
}

/// One v2 request, read as the spec says, ready for the domain.
struct V2Request {
    enum Operation {
        case initialize(MediaDeclaration)
        /// A nil index: the client sent none, and the domain takes the next one.
        case append(mediaID: UInt64, segmentIndex: Int?, payload: MediaPayload)
        case finalize(mediaID: UInt64)
        case status(mediaID: UInt64)
        case upload(MediaPayload, MediaCategory)
        /// `kept` is the `metadata` object as sent, less members the spec does not define (their
        /// names are in `ignored`): echoed as `associated_metadata`.
        case metadata(mediaID: UInt64, altText: String?, other: JSONObject, kept: JSONObject, ignored: [String])
        case subtitlesCreate(videoID: UInt64, category: String?, track: SubtitleTrack)
        case subtitlesDelete(videoID: UInt64, languageCode: String)
    }

    var operation: Operation
    /// The 2025 command form (`POST /2/media/upload` with `command=`), answered with its own
    /// statuses.
    var isCommandForm = false
}

/// Reads a v2 request: the facts rules match on (leniently, before anything is refused), then
/// the request itself, refusing what the spec refuses with the real service's wording.
struct V2RequestReader {
    let endpoint: V2Endpoint
    /// The `{id}` path segment of append and finalize.
    let pathID: String?
    let query: [(name: String, value: String)]
    let body: V2Body
    /// The JSON body parsed once, when there is one.
    private let json: Result<JSONValue, ConfigurationError>?

    /// The command form's parameters, from the query string and form fields together.
    static let commandFormParameters = ["command", "media_id", "total_bytes", "media_type", "media_category",
                                        "additional_owners", "segment_index", "shared"]
    static let commands: [String: UploadCommand] = ["INIT": .initialize, "APPEND": .append, "FINALIZE": .finalize]

    init(endpoint: V2Endpoint, pathID: String?, query: [(name: String, value: String)], body: V2Body) {
        self.endpoint = endpoint
        self.pathID = pathID
        self.query = query
        self.body = body
        switch body {
        case .json(let bytes) where !bytes.isEmpty:
            json = Result { () throws(ConfigurationError) in try JSONParser.parse(bytes) }
        case .streamedJSON(let streamed):
            json = streamed.document
        default:
            json = nil
        }
    }

    // MARK: Facts (never refuse)

    private var formParameters: UploadParameters? {
        if case .form(let parameters, _) = body { return parameters }
        return nil
    }

    private var jsonObject: JSONObject? {
        if case .success(.object(let object)) = json { return object }
        return nil
    }

    /// The command-form `command`, from the query or a form field.
    private var commandParameter: String? {
        formParameters?["command"] ?? query.first { $0.name == "command" }?.value
    }

    var isCommandForm: Bool { endpoint == .upload && commandParameter != nil }

    /// The operation, as journals and rules name it; nil for a command form with an unknown command.
    var command: UploadCommand? {
        guard isCommandForm else { return endpoint.command }
        return commandParameter.flatMap { Self.commands[$0] }
    }

    var mediaID: UInt64? {
        switch endpoint {
        case .append, .finalize: pathID.flatMap { UInt64(decimal: $0) }
        case .status: query.first { $0.name == "media_id" }.flatMap { UInt64(decimal: $0.value) }
        case .upload: (formParameters?["media_id"] ?? query.first { $0.name == "media_id" }?.value).flatMap { UInt64(decimal: $0) }
        case .metadata, .subtitlesCreate, .subtitlesDelete: jsonObject?["id"]?.stringValue.flatMap { UInt64(decimal: $0) }
        case .initialize: nil
        }
    }

    var segmentIndex: Int? {
        if let text = formParameters?["segment_index"] { return Int(decimal: text) }
        if case .int(let index) = jsonObject?["segment_index"] { return Int(exactly: index) }
        return nil
    }

    // MARK: The request

    /// - Parameter compatibility: the departures from the real service's rules switched on for
    ///   the requester (docs/api-v2.md, Reading requests).
    func request(compatibility: Compatibility = Compatibility()) throws(V2Problem) -> V2Request {
        switch endpoint {
        case .initialize:
            try refuseQuery()
            let object = try jsonBody(V2Schema.initialize)
            return V2Request(operation: .initialize(Self.declaration(object)))
        case .append:
            let mediaID = try pathMediaID()
            try refuseQuery()
            return V2Request(operation: try append(mediaID: mediaID, compatibility: compatibility))
        case .finalize:
            let mediaID = try pathMediaID()
            try refuseQuery()
            // No body is expected; one declared as JSON must still be a JSON object.
            if case .json = body { _ = try jsonBody(.anyObject) }
            return V2Request(operation: .finalize(mediaID: mediaID))
        case .status:
            return V2Request(operation: .status(mediaID: try statusMediaID()))
        case .upload:
            if isCommandForm { return try commandForm() }
            try refuseQuery()
            return V2Request(operation: try upload())
        case .metadata:
            try refuseQuery()
            let object = try jsonBody(V2Schema.metadata)
            let sent = object["metadata"]?.objectOrEmpty ?? [:]
            let defined = Set(V2Schema.metadataMembers.map(\.name))
            let kept = JSONObject(sent.members.filter { defined.contains($0.key) }.map { ($0.key, $0.value) })
            let other = JSONObject(kept.members.filter { $0.key != "alt_text" }.map { ($0.key, $0.value) })
            let altText = kept["alt_text"]?.objectOrEmpty["text"]?.stringValue
            return V2Request(operation: .metadata(mediaID: try Self.bodyID(object), altText: altText, other: other, kept: kept,
                                                  ignored: sent.members.map(\.key).filter { !defined.contains($0) }))
        case .subtitlesCreate:
            try refuseQuery()
            let object = try jsonBody(V2Schema.subtitlesCreate)
            let subtitles = object["subtitles"]?.objectOrEmpty ?? [:]
            let track = SubtitleTrack(mediaID: try Self.bodyID(subtitles), languageCode: subtitles["language_code"]?.stringValue ?? "",
                                      displayName: subtitles["display_name"]?.stringValue)
            return V2Request(operation: .subtitlesCreate(videoID: try Self.bodyID(object),
                                                         category: object["media_category"]?.stringValue, track: track))
        case .subtitlesDelete:
            try refuseQuery()
            let object = try jsonBody(V2Schema.subtitlesDelete)
            return V2Request(operation: .subtitlesDelete(videoID: try Self.bodyID(object),
                                                         languageCode: object["language_code"]?.stringValue ?? ""))
        }
    }

    /// A JSON body that satisfies `schema`, or the recorded refusal of what it is instead.
    private func jsonBody(_ schema: V2Schema) throws(V2Problem) -> JSONObject {
        switch body {
        case .json, .streamedJSON:
            guard let json else { throw .mustBeJSONObject }
            let value: JSONValue
            do {
                value = try json.get()
            } catch {
                throw .notValidJSON(error.message)
            }
            guard case .object(let object) = value else { throw .mustBeJSONObject }
            let violations = schema.violations(of: value)
            guard violations.isEmpty else { throw .schemaViolations(violations) }
            return object
        case .none:
            throw .mustBeJSONObject
        case .form(_, let multipart):
            throw .bodyMustBeJSON(contentType: multipart ? "multipart/form-data" : "application/x-www-form-urlencoded")
        case .other(let contentType):
            throw .bodyMustBeJSON(contentType: contentType)
        }
    }

    /// Form fields checked against the JSON body's schema: numbers typed as the schema wants
    /// them, the binary `media` part present or not; extra fields are tolerated.
    private func formFields(_ parameters: UploadParameters, _ schema: V2Schema) throws(V2Problem) {
        var object = JSONObject()
        for (name, value) in parameters.fields.sorted(by: { $0.key < $1.key }) {
            let number = value.hasPrefix("-") ? Int64(decimal: value.dropFirst()).map { -$0 } : Int64(decimal: value)
            object[name] = name == "segment_index" ? number.map { .int($0) } ?? .string(value) : .string(value)
        }
        if parameters.media != nil { object["media"] = "" }
        let violations = schema.violations(of: .object(object), enforcesClosedObjects: false)
        guard violations.isEmpty else { throw .schemaViolations(violations) }
    }

    private func append(mediaID: UInt64, compatibility: Compatibility) throws(V2Problem) -> V2Request.Operation {
        switch body {
        case .form(let parameters, multipart: true):
            // Required by the spec since 2.139; python-twitter-v2 0.9.3 sends only the `media` part.
            let infersIndex = compatibility.infersV2SegmentIndex
            do {
                try formFields(parameters, infersIndex ? V2Schema.appendWithoutIndex : V2Schema.append)
            } catch let problem where parameters["segment_index"] == nil {
                throw problem.explained(by: Self.missingSegmentIndexExplanation)
            }
            guard let media = parameters.media else { throw .invalid("$.media: is missing but it is required") }
            return .append(mediaID: mediaID, segmentIndex: parameters["segment_index"].flatMap { Int(decimal: $0) },
                           payload: MediaPayload(bytes: media, parameter: "media", sentBytes: media.count))
        default:
            let object = try jsonBody(V2Schema.append)
            let index = object["segment_index"].flatMap { value -> Int? in
                if case .int(let index) = value { return Int(exactly: index) }
                return nil
            }
            return .append(mediaID: mediaID, segmentIndex: index, payload: try base64Media(object))
        }
    }

    private func upload() throws(V2Problem) -> V2Request.Operation {
        let payload: MediaPayload
        let category: String
        switch body {
        case .form(let parameters, multipart: true):
            try formFields(parameters, V2Schema.upload)
            guard let media = parameters.media, let value = parameters["media_category"] else {
                throw .invalid("$.media: is missing but it is required")
            }
            payload = MediaPayload(bytes: media, parameter: "media", sentBytes: media.count)
            category = value
        default:
            let object = try jsonBody(V2Schema.upload)
            payload = try base64Media(object)
            category = object["media_category"]?.stringValue ?? ""
        }
        guard let known = MediaCategory(rawValue: category) else {
            let known = V2Schema.uploadCategories.joined(separator: ", ")
            throw .invalid("$.media_category: does not have a value in the enumeration [\(known)]")
        }
        return .upload(payload, known)
    }

    /// Said in the journal and the log beside the refusal of a multipart append without
    /// `segment_index`, naming the switch that stores it instead.
    static let missingSegmentIndexExplanation = "the spec has required segment_index in every append since 2.139 "
        + "(2025-05-28); to store a multipart append without it as the next segment, as python-twitter-v2 0.9.3 needs, "
        + "turn on " + Compatibility.naming("infer_v2_segment_index", swift: "infersV2SegmentIndex")

    /// The 2025 form: `command=INIT|APPEND|FINALIZE` with the v1.1 parameters, in the query
    /// string or form fields, answered by the same operations.
    private func commandForm() throws(V2Problem) -> V2Request {
        let parameters: UploadParameters
        switch body {
        case .form(let collected, _): parameters = collected  // the query string is already merged in
        default:
            try refuseDuplicates()
            var fromQuery = UploadParameters()
            for (name, value) in query { fromQuery.fields[name] = value }
            parameters = fromQuery
        }
        if let unknown = query.first(where: { !Self.commandFormParameters.contains($0.name) }) {
            throw .unknownParameter(unknown.name, unknown.value, allowed: Self.commandFormParameters)
        }
        let commandText = parameters["command"] ?? ""
        guard let command = Self.commands[commandText] else {
            throw .parameterNotOneOf("command", commandText, allowed: ["INIT", "APPEND", "FINALIZE"])
        }
        func required(_ name: String) throws(V2Problem) -> String {
            guard let value = parameters[name], !value.isEmpty else { throw .missingParameter(name) }
            return value
        }
        func mediaID() throws(V2Problem) -> UInt64 {
            let text = try required("media_id")
            guard V2Pattern.numericID.matches(text), let id = UInt64(decimal: text) else { throw .invalidParameter("media_id", text) }
            return id
        }
        switch command {
        case .initialize:
            let totalText = try required("total_bytes")
            guard let total = Int64(decimal: totalText), V2Schema.totalBytesRange.contains(total) else {
                throw .invalidParameter("total_bytes", totalText)
            }
            let mediaType = try required("media_type")
            guard V2Schema.mediaTypes.contains(mediaType) else {
                throw .parameterNotOneOf("media_type", mediaType, allowed: V2Schema.mediaTypes)
            }
            var category: MediaCategory?
            if let text = parameters["media_category"] {
                guard let known = MediaCategory(rawValue: text) else {
                    throw .parameterNotOneOf("media_category", text, allowed: V2Schema.initializeCategories)
                }
                category = known
            }
            return V2Request(operation: .initialize(MediaDeclaration(totalBytes: Int(total), mediaType: mediaType, category: category)),
                             isCommandForm: true)
        case .append:
            let id = try mediaID()
            let indexText = try required("segment_index")
            guard let index = Int(decimal: indexText), index <= 999 else { throw .invalidParameter("segment_index", indexText) }
            guard let media = parameters.media else { throw .missingParameter("media") }
            return V2Request(operation: .append(mediaID: id, segmentIndex: index,
                                                payload: MediaPayload(bytes: media, parameter: "media", sentBytes: media.count)),
                             isCommandForm: true)
        default:
            return V2Request(operation: .finalize(mediaID: try mediaID()), isCommandForm: true)
        }
    }

    // MARK: Parameters

    /// The spec defines no query parameters for this endpoint: any is refused, as the real
    /// service refuses unknown ones.
    private func refuseQuery() throws(V2Problem) {
        if let first = query.first { throw .unknownParameter(first.name, first.value, allowed: []) }
    }

    private func refuseDuplicates() throws(V2Problem) {
        var seen: [String: [String]] = [:]
        for (name, value) in query { seen[name, default: []].append(value) }
        if let repeated = query.first(where: { seen[$0.name, default: []].count > 1 }) {
            throw .duplicateParameter(repeated.name, values: seen[repeated.name] ?? [])
        }
    }

    /// The `{id}` of the path, checked against `^[0-9]{1,19}$`; the real service calls path
    /// parameters "query parameters" too.
    private func pathMediaID() throws(V2Problem) -> UInt64 {
        let text = pathID ?? ""
        guard V2Pattern.numericID.matches(text), let id = UInt64(decimal: text) else { throw .invalidParameter("id", text) }
        return id
    }

    /// STATUS: `media_id` required, `command` optional and only `STATUS`, nothing else.
    private func statusMediaID() throws(V2Problem) -> UInt64 {
        let allowed = ["media_id", "command"]
        try refuseDuplicates()
        if let unknown = query.first(where: { !allowed.contains($0.name) }) {
            throw .unknownParameter(unknown.name, unknown.value, allowed: allowed)
        }
        if let command = query.first(where: { $0.name == "command" })?.value, command != "STATUS" {
            throw .parameterNotOneOf("command", command, allowed: ["STATUS"])
        }
        guard let text = query.first(where: { $0.name == "media_id" })?.value, !text.isEmpty else {
            throw .missingParameter("media_id")
        }
        guard V2Pattern.numericID.matches(text), let id = UInt64(decimal: text) else { throw .invalidParameter("media_id", text) }
        return id
    }

    /// An `id` the schema has already checked against `^[0-9]{1,19}$`.
    private static func bodyID(_ object: JSONObject) throws(V2Problem) -> UInt64 {
        let text = object["id"]?.stringValue ?? ""
        guard let id = UInt64(decimal: text) else { throw .invalid("$.id: does not match the regex pattern \(V2Pattern.numericID.text)") }
        return id
    }

    private static func declaration(_ object: JSONObject) -> MediaDeclaration {
        let total: Int = if case .int(let value) = object["total_bytes"] { Int(value) } else { 0 }
        return MediaDeclaration(totalBytes: total, mediaType: object["media_type"]?.stringValue ?? "",
                                category: object["media_category"]?.stringValue.flatMap(MediaCategory.init(rawValue:)), api: .v2)
    }

    /// `media` as base64 text in a JSON body, decoded (as it streamed, when it did); the chunk
    /// limit applies to the bytes.
    private func base64Media(_ object: JSONObject) throws(V2Problem) -> MediaPayload {
        let decoded: Result<[UInt8], FormParseError>
        if case .streamedJSON(let streamed) = body, let media = streamed.media {
            decoded = media
        } else {
            decoded = Result { () throws(FormParseError) in try Base64StreamDecoder.decode(object["media"]?.stringValue ?? "") }
        }
        switch decoded {
        case .success(let bytes):
            return MediaPayload(bytes: bytes, parameter: "media", sentBytes: bytes.count)
        case .failure(let error):
            throw .invalid("$.media: is not valid base64: \(error.reason)", parameters: [("$.media", [])])
        }
    }
}

extension JSONValue {
    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
