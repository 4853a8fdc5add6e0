import UploadMockDomain
import UploadMockForms

/// The parameters of one form-encoded upload request (v1.1, or v2's multipart bodies and command
/// form), from the query string and the body together.
struct UploadParameters: Sendable {
    var fields: [String: String] = [:]
    /// Raw bytes of a `media` part.
    var media: [UInt8]?
    /// Decoded bytes of `media_data`, and how long the base64 text was as sent.
    var mediaData: [UInt8]?
    var mediaDataSentBytes = 0

    subscript(name: String) -> String? { fields[name] }

    var command: String? { fields["command"] }

    /// The one media payload, as the request sent it; nil when neither or both were sent.
    var payload: MediaPayload? {
        switch (media, mediaData) {
        case (let media?, nil): MediaPayload(bytes: media, parameter: "media", sentBytes: media.count)
        case (nil, let decoded?): MediaPayload(bytes: decoded, parameter: "media_data", sentBytes: mediaDataSentBytes)
        default: nil
        }
    }
}

/// The refusals a parameter collector can report, in each API dialect's own words.
protocol UploadParameterFailures: Error {
    static func duplicateParameter(_ name: String) -> Self
    static func parameterTooLong(_ name: String, limit: Int) -> Self
    static func tooManyParameters(limit: Int) -> Self
    static func invalidBase64(_ reason: String) -> Self
    init(_ failure: UploadFailure)
}

/// Turns form events into `UploadParameters`, storing each media byte once, as it streams in,
/// and refusing an oversize payload as soon as it passes the limit. The first refusal is kept
/// in `failure` and every later event ignored; the exchange answers it. Text parameters are
/// bounded in length and number (`limits.field_bytes`, `limits.max_fields`), so no body, however
/// long, pins more than those allow. Shared by the v1.1 endpoint and v2's form bodies;
/// `Failure` words the refusals for the dialect.
struct UploadParameterCollector<Failure: UploadParameterFailures> {
    private(set) var parameters = UploadParameters()
    private(set) var failure: Failure?
    /// The body's fields as sent, kept only when a signature must cover them (urlencoded).
    private(set) var signedBodyPairs: [(name: String, value: String)]?
    private var mediaDataText: [UInt8] = []
    private let limits: UploadLimits
    private let expectedBodyBytes: Int
    private var current: Field?
    /// The payload bytes buffered so far: `media` as sent, `media_data` decoded (and as sent,
    /// when a signature must cover it). Counted against `limits.max_memory_bytes`; text
    /// parameters are bounded by `limits.max_fields` and `limits.field_bytes` instead.
    var heldBytes: Int {
        (parameters.media?.count ?? 0) + (parameters.mediaData?.count ?? 0) + mediaDataText.count
    }

    /// The `media` or `media_data` field has begun: what comes before it (the parameters that
    /// name the request, in every client seen) is known.
    private(set) var mediaBegan = false
    private var base64 = Base64StreamDecoder()
    private var fieldCount = 0

    private enum Field {
        /// Its bytes collect in `text`.
        case text(name: String)
        case media(limit: Int)
        case mediaData(limit: Int)
    }
    /// The value of the text field being read; one buffer for all of them, emptied (not
    /// freed) after each, so a request's text fields cost one allocation between them.
    private var text: [UInt8] = []

    /// The command the endpoint itself implies (v2's `/append` is an APPEND without a
    /// `command` parameter); a `command` parameter wins.
    private let impliedCommand: String?

    init(query: [(name: String, value: String)], limits: UploadLimits, expectedBodyBytes: Int,
         keepsBodyPairs: Bool = false, impliedCommand: String? = nil) throws(Failure) {
        signedBodyPairs = keepsBodyPairs ? [] : nil
        self.impliedCommand = impliedCommand
        self.limits = limits
        self.expectedBodyBytes = expectedBodyBytes
        // Room for an upload's parameters (command, media_id, segment_index, total_bytes …) at
        // once, instead of three regrowths.
        parameters.fields.reserveCapacity(8)
        for (name, value) in query {
            try countField()
            try store(name: name, value: value)
        }
    }

    mutating func handle(_ event: FormEvent) {
        guard failure == nil else { return }
        do {
            try apply(event)
        } catch {
            failure = error
        }
    }

    private mutating func apply(_ event: FormEvent) throws(Failure) {
        switch event {
        case .fieldBegin(let head):
            try countField()
            switch head.name {
            case "media":
                guard parameters.media == nil else { throw .duplicateParameter("media") }
                mediaBegan = true
                parameters.media = []
                current = .media(limit: payloadLimit)
            case "media_data":
                guard parameters.mediaData == nil else { throw .duplicateParameter("media_data") }
                mediaBegan = true
                parameters.mediaData = []
                base64 = Base64StreamDecoder()
                current = .mediaData(limit: payloadLimit)
            default:
                text.removeAll(keepingCapacity: true)
                text.reserveCapacity(64)  // once: ids, indexes and commands fit
                current = .text(name: head.name)
            }
        case .fieldData(let bytes):
            switch current {
            case .text(let name):
                guard text.count + bytes.count <= limits.fieldBytes else {
                    throw .parameterTooLong(name, limit: limits.fieldBytes)
                }
                text.append(contentsOf: bytes)
            case .media(let limit):
                let stored = parameters.media?.count ?? 0
                guard stored + bytes.count <= limit else { throw tooLarge("media", limit: limit) }
                var media = parameters.media ?? []
                parameters.media = nil  // keeps `media` uniquely referenced while it grows
                PayloadBuffer.reserve(&media, adding: bytes.count, upTo: min(expectedBodyBytes, limit) + 1)
                media.appendStreaming(bytes)
                parameters.media = media
            case .mediaData(let limit):
                parameters.mediaDataSentBytes += bytes.count
                guard parameters.mediaDataSentBytes <= limit else { throw tooLarge("media_data", limit: limit) }
                if signedBodyPairs != nil { mediaDataText.append(contentsOf: bytes) }
                var decoded = parameters.mediaData ?? []
                parameters.mediaData = nil  // keeps `decoded` uniquely referenced while it grows
                defer { parameters.mediaData = decoded }
                PayloadBuffer.reserve(&decoded, adding: bytes.count * 3 / 4 + 3, upTo: min(expectedBodyBytes, limit) * 3 / 4 + 3)
                do {
                    try base64.decode(bytes, into: &decoded)
                } catch {
                    throw .invalidBase64(error.reason)
                }
            case nil:
                break
            }
        case .fieldEnd:
            switch current {
            case .text(let name):
                let value = String(decoding: text, as: UTF8.self)
                signedBodyPairs?.append((name, value))
                try store(name: name, value: value)
            case .mediaData:
                signedBodyPairs?.append(("media_data", String(decoding: mediaDataText, as: UTF8.self)))
                var decoded = parameters.mediaData ?? []
                parameters.mediaData = nil
                defer { parameters.mediaData = decoded }
                do {
                    try base64.finish(into: &decoded)
                } catch {
                    throw .invalidBase64(error.reason)
                }
            case .media, nil:
                break
            }
            current = nil
        }
    }

    private mutating func countField() throws(Failure) {
        fieldCount += 1
        guard fieldCount <= limits.maxFields else { throw .tooManyParameters(limit: limits.maxFields) }
    }

    /// The cap while streaming: an APPEND's chunk limit once the command is known, else the
    /// largest payload any command accepts. Commands check their own limit afterwards.
    private var payloadLimit: Int {
        command == "APPEND"
            ? limits.chunkBytes
            : limits.largestPayloadBytes
    }

    private var command: String? { parameters.command ?? impliedCommand }

    private func tooLarge(_ parameter: String, limit: Int) -> Failure {
        command == nil ? Failure(.oneShotTooLarge(limit: limit)) : Failure(.chunkTooLarge(parameter: parameter, limit: limit))
    }

    private mutating func store(name: String, value: String) throws(Failure) {
        switch name {
        case "media":
            guard parameters.media == nil else { throw .duplicateParameter(name) }
            parameters.media = Array(value.utf8)
        case "media_data":
            // The seed's own example sends media_data in the query string.
            guard parameters.mediaData == nil else { throw .duplicateParameter(name) }
            do {
                parameters.mediaData = try Base64StreamDecoder.decode(value)
            } catch {
                throw .invalidBase64(error.reason)
            }
            parameters.mediaDataSentBytes = value.utf8.count
        default:
            if let existing = parameters.fields[name], existing != value {
                throw .duplicateParameter(name)
            }
            parameters.fields[name] = value
        }
    }
}

/// How a payload's buffer grows as its bytes stream in (form media, media_data, v2 JSON media).
enum PayloadBuffer {
    /// Makes room for `count` more bytes as they arrive, never for bytes a client only
    /// declared: a Content-Length is a claim, and reserving it up front let a few headers pin
    /// the whole payload limit. Each growth makes room for twice what is needed (from the
    /// first piece on, so a second piece of the same size fits), while at most a sixteenth of
    /// `expected` (the declared size, capped by the limit) has arrived; the next growth goes
    /// straight to `expected`. A client must so send a sixteenth of what it claims before the
    /// rest is reserved, and an honest 5 MiB payload is copied through one small buffer
    /// (two allocations in all) instead of five doublings, which cost a third of a 5 MiB
    /// APPEND's speed. Past `expected` (a chunked body declares nothing) it simply doubles.
    static func reserve(_ buffer: inout [UInt8], adding count: Int, upTo expected: Int) {
        let needed = buffer.count + count
        guard needed > buffer.capacity else { return }
        let doubled = 2 * max(needed, buffer.capacity)
        switch needed {
        case ...(expected / 16): buffer.reserveCapacity(min(doubled, expected))
        case ...expected: grow(&buffer, to: expected)
        default: grow(&buffer, to: doubled)
        }
    }

    /// `reserveCapacity` for a large buffer: its bytes move with the streaming copy, as the
    /// pieces that follow them will (`reserveCapacity` moves them with `memcpy`, which keeps the
    /// new buffer's lines in the cache: a tenth of a 5 MiB APPEND's copying).
    private static func grow(_ buffer: inout [UInt8], to capacity: Int) {
        var grown: [UInt8] = []
        grown.reserveCapacity(capacity)
        buffer.withUnsafeBytes { grown.appendStreaming($0) }
        buffer = grown
    }

}
