import UploadMockDomain
import UploadMockJSON

/// A `pattern` of the spec, with its text for messages.
struct V2Pattern: Sendable {
    var text: String
    var matches: @Sendable (String) -> Bool

    /// `^[0-9]{1,19}$`: media ids and user ids.
    static let numericID = V2Pattern(text: "^[0-9]{1,19}$") { value in
        (1...19).contains(value.utf8.count) && value.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// `^[A-Z]{2}$`: subtitle language codes.
    static let languageCode = V2Pattern(text: "^[A-Z]{2}$") { value in
        value.utf8.count == 2 && value.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }
}

/// The part of the v2 spec's JSON Schemas that request bodies are checked against, refusing
/// with the messages of the JSON Schema validator the real service answers with
/// (`$.media.media_ids: string found, array expected`, recorded on `/2/tweets`;
/// docs/fidelity.md). Every violation is reported, each as one `errors` entry naming the
/// JSON path and the value sent.
indirect enum V2Schema: Sendable {
    /// `required` lists members that must be present; `closed` is `additionalProperties: false`.
    case object([(name: String, schema: V2Schema)], required: [String] = [], closed: Bool = false)
    case string(allowed: [String]? = nil, pattern: V2Pattern? = nil, maxLength: Int? = nil)
    case integer(ClosedRange<Int64>? = nil)
    case number
    case boolean
    case array(V2Schema)

    static var anyObject: V2Schema { .object([]) }

    /// Everything `value` breaks, in document order; empty when it conforms.
    ///
    /// - Parameter enforcesClosedObjects: false for form fields, which carry whatever a client
    ///   library adds; JSON bodies are held to `additionalProperties: false`.
    func violations(of value: JSONValue, at path: String = "$", enforcesClosedObjects: Bool = true) -> [V2ErrorEntry] {
        func refuse(_ message: String) -> [V2ErrorEntry] {
            [V2ErrorEntry("\(path): \(message)", parameters: [(path, [Self.asSent(value)])])]
        }
        switch self {
        case .object(let properties, let required, let closed):
            guard case .object(let object) = value else { return refuse(Self.typeMismatch(value, "object")) }
            var found: [V2ErrorEntry] = []
            for name in required where object[name] == nil {
                found.append(V2ErrorEntry("\(path).\(name): is missing but it is required", parameters: [("\(path).\(name)", [])]))
            }
            for member in object.members {
                let memberPath = "\(path).\(member.key)"
                if let property = properties.first(where: { $0.name == member.key }) {
                    found += property.schema.violations(of: member.value, at: memberPath, enforcesClosedObjects: enforcesClosedObjects)
                } else if closed && enforcesClosedObjects {
                    found.append(V2ErrorEntry(
                        "\(memberPath): is not defined in the schema and the schema does not allow additional properties",
                        parameters: [(memberPath, [Self.asSent(member.value)])]))
                }
            }
            return found
        case .string(let allowed, let pattern, let maxLength):
            guard case .string(let text) = value else { return refuse(Self.typeMismatch(value, "string")) }
            if let allowed, !allowed.contains(text) {
                return refuse("does not have a value in the enumeration [\(allowed.joined(separator: ", "))]")
            }
            if let pattern, !pattern.matches(text) { return refuse("does not match the regex pattern \(pattern.text)") }
            if let maxLength, text.unicodeScalars.count > maxLength { return refuse("may only be \(maxLength) characters long") }
            return []
        case .integer(let range):
            let number: Int64? = switch value {
            case .int(let int): int
            case .uint(let uint): Int64(exactly: uint) ?? .max
            default: nil
            }
            guard let number else { return refuse(Self.typeMismatch(value, "integer")) }
            if let range, number < range.lowerBound { return refuse("must have a minimum value of \(range.lowerBound)") }
            if let range, number > range.upperBound { return refuse("must have a maximum value of \(range.upperBound)") }
            return []
        case .number:
            switch value {
            case .int, .uint, .double: return []
            default: return refuse(Self.typeMismatch(value, "number"))
            }
        case .boolean:
            if case .bool = value { return [] }
            return refuse(Self.typeMismatch(value, "boolean"))
        case .array(let items):
            guard case .array(let elements) = value else { return refuse(Self.typeMismatch(value, "array")) }
            return elements.enumerated().flatMap { index, element in
                items.violations(of: element, at: "\(path)[\(index)]", enforcesClosedObjects: enforcesClosedObjects)
            }
        }
    }

    /// A value as the validator quotes it: its JSON text.
    private static func asSent(_ value: JSONValue) -> String {
        String(decoding: value.serialized(.plain), as: UTF8.self)
    }

    private static func typeMismatch(_ value: JSONValue, _ expected: String) -> String {
        let found = switch value {
        case .null: "null"
        case .bool: "boolean"
        case .int, .uint: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
        return "\(found) found, \(expected) expected"
    }
}

// MARK: - The request bodies of spec 2.167 (docs/api-v2.md)

extension V2Schema {
    /// The 15 `media_type` values of `initialize`.
    static let mediaTypes = [
        "video/mp4", "video/webm", "video/mp2t", "video/quicktime", "text/srt", "text/vtt", "image/jpeg", "image/gif",
        "image/bmp", "image/png", "image/webp", "image/pjpeg", "image/tiff", "model/gltf-binary", "model/vnd.usdz+zip",
    ]
    /// `initialize` takes every category; the one-shot upload all but `amplify_video`.
    static let initializeCategories = ["amplify_video", "tweet_gif", "tweet_image", "tweet_video", "dm_gif", "dm_image",
                                       "dm_video", "subtitles"]
    static let uploadCategories = ["tweet_image", "tweet_video", "tweet_gif", "dm_image", "dm_video", "dm_gif", "subtitles"]
    static let subtitleCategories = ["AmplifyVideo", "TweetVideo"]
    /// `total_bytes` may declare up to 16 GiB.
    static let totalBytesRange: ClosedRange<Int64> = 0...17_179_869_184

    /// `media_type` and `total_bytes` are optional in the spec but the upload needs them: the
    /// mock requires them with the same wording.
    static let initialize = V2Schema.object([
        ("media_type", .string(allowed: mediaTypes)),
        ("total_bytes", .integer(totalBytesRange)),
        ("media_category", .string(allowed: initializeCategories)),
        ("shared", .boolean),
        ("additional_owners", .array(.string(pattern: .numericID))),
    ], required: ["media_type", "total_bytes"], closed: true)

    static let append = V2Schema.object([
        ("media", .string()),
        ("segment_index", .integer(0...999)),
    ], required: ["media", "segment_index"], closed: true)

    /// The append schema with `segment_index` optional: multipart appends while
    /// `compatibility.infer_v2_segment_index` is on.
    static let appendWithoutIndex = V2Schema.object([
        ("media", .string()),
        ("segment_index", .integer(0...999)),
    ], required: ["media"], closed: true)

    static let upload = V2Schema.object([
        ("media", .string()),
        ("media_category", .string(allowed: uploadCategories)),
        ("additional_owners", .string()),
    ], required: ["media", "media_category"], closed: true)

    /// The members of `metadata` the spec defines; the mock keeps these and no others
    /// (docs/fidelity.md: the spec does not close the object, and what the real service does
    /// with other keys is unknown).
    static let metadataMembers: [(name: String, schema: V2Schema)] = [
        ("alt_text", .object([("text", .string(maxLength: UploadService.altTextLimit))], required: ["text"])),
        ("allow_download_status", .object([("allow_download", .boolean)])),
        ("audience_policy", .anyObject),
        ("content_expiration", .object([("timestamp_sec", .number)], required: ["timestamp_sec"])),
        ("domain_restrictions", .object([("whitelist", .array(.string()))], required: ["whitelist"])),
        ("found_media_origin", .object([("id", .string()), ("provider", .string())], required: ["id", "provider"])),
        ("geo_restrictions", .anyObject),
        ("management_info", .object([("managed", .boolean)], required: ["managed"])),
        ("preview_image", .object([("media_key", .anyObject)], required: ["media_key"])),
        ("sensitive_media_warning", .anyObject),
        ("shared_info", .object([("shared", .boolean)], required: ["shared"])),
        ("sticker_info", .object([("stickers", .array(.anyObject))], required: ["stickers"])),
        ("upload_source", .object([("upload_source", .string())], required: ["upload_source"])),
    ]

    static let metadata = V2Schema.object([
        ("id", .string(pattern: .numericID)),
        ("metadata", .object(metadataMembers)),
    ], required: ["id"])

    /// Nothing is required in the spec; attaching a track needs the video, the track's media id
    /// and its language, so the mock requires those.
    static let subtitlesCreate = V2Schema.object([
        ("id", .string(pattern: .numericID)),
        ("media_category", .string(allowed: subtitleCategories)),
        ("subtitles", .object([
            ("id", .string(pattern: .numericID)),
            ("language_code", .string(pattern: .languageCode)),
            ("display_name", .string()),
        ], required: ["id", "language_code"])),
    ], required: ["id", "subtitles"])

    static let subtitlesDelete = V2Schema.object([
        ("id", .string(pattern: .numericID)),
        ("media_category", .string()),
        ("language_code", .string()),
    ], required: ["id", "media_category", "language_code"])
}
