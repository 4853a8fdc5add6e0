import UploadMockForms
import UploadMockJSON

/// A v2 JSON body whose `media` is base64 text (append, and the one-shot upload), read as it
/// streamed in (docs/api-v2.md): the media is decoded as its text arrives, straight into the
/// buffer that is stored, and the body is never held whole.
struct V2StreamedJSON {
    /// The document with `media` as an empty string when it was a string (its bytes are in
    /// `media`), or the reason it is not valid JSON; nil when there was no body. Valid JSON
    /// that is not an object stands as `null`: only an object is read further.
    var document: Result<JSONValue, ConfigurationError>?
    /// The decoded media, or why its text is not base64; nil when `media` was not a string.
    var media: Result<[UInt8], FormParseError>?
}

/// Feeds a body through `JSONMediaBodyReader` and the base64 decoder. Refusals wait for the
/// end of the body and keep `JSONParser`'s order: the JSON's own error first, then (in
/// `V2RequestReader`) the schema's, then the base64's.
struct V2StreamedJSONReader {
    private var reader = JSONMediaBodyReader()
    private var decoder = Base64StreamDecoder()
    private var members: [(String, JSONValue)] = []
    private var media: [UInt8]?
    /// The JSON text of the members other than `media`, as handed on.
    private var memberBytes = 0
    private var base64Failure: FormParseError?
    private var jsonFailure: FormParseError?
    /// The most media bytes the body can hold, for the buffer's growth (PayloadBuffer).
    private let expectedMediaBytes: Int

    /// `expectedBodyBytes`: the Content-Length (0 when chunked), `maximumBodyBytes` its bound.
    init(expectedBodyBytes: Int, maximumBodyBytes: Int) {
        expectedMediaBytes = min(expectedBodyBytes, maximumBodyBytes) * 3 / 4 + 3
    }

    /// What the body holds so far: the decoded media, the other members, the reader's buffers.
    var heldBytes: Int { (media?.count ?? 0) + memberBytes + reader.bufferedBytes }

    mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        guard jsonFailure == nil else { return }
        // The reader is taken out while it calls back into `handle`, which changes `self`.
        var reader = self.reader
        self.reader = JSONMediaBodyReader()
        defer { self.reader = reader }
        do {
            try reader.feed(bytes) { handle($0) }
        } catch {
            jsonFailure = error
        }
    }

    mutating func finish() -> V2StreamedJSON {
        if let jsonFailure { return V2StreamedJSON(document: .failure(ConfigurationError(jsonFailure.reason))) }
        let shape: JSONMediaBodyReader.Shape
        var reader = self.reader
        do {
            shape = try reader.finish { handle($0) }
        } catch {
            return V2StreamedJSON(document: .failure(ConfigurationError(error.reason)))
        }
        if let jsonFailure { return V2StreamedJSON(document: .failure(ConfigurationError(jsonFailure.reason))) }
        let decoded: Result<[UInt8], FormParseError>? = media.map { bytes in base64Failure.map { .failure($0) } ?? .success(bytes) }
        switch shape {
        case .empty: return V2StreamedJSON(document: nil)
        case .notObject: return V2StreamedJSON(document: .success(.null))
        case .object: return V2StreamedJSON(document: .success(.object(JSONObject(members))), media: decoded)
        }
    }

    private mutating func handle(_ event: JSONMediaBodyReader.Event) {
        switch event {
        case .mediaBegin:
            members.append(("media", .string("")))
            media = []
        case .mediaText(let text):
            guard base64Failure == nil, var decoded = media else { return }
            media = nil  // keeps `decoded` uniquely referenced while it grows
            defer { media = decoded }
            PayloadBuffer.reserve(&decoded, adding: text.count * 3 / 4 + 3, upTo: expectedMediaBytes)
            do {
                try decoder.decode(text, into: &decoded)
            } catch {
                base64Failure = error
            }
        case .mediaEnd:
            guard base64Failure == nil, var decoded = media else { return }
            media = nil
            defer { media = decoded }
            do {
                try decoder.finish(into: &decoded)
            } catch {
                base64Failure = error
            }
        case .member(let name, let json):
            memberBytes += json.count
            // The reader checked the text as JSONParser would: reading it again cannot fail.
            do {
                members.append((name, try JSONParser.parse(json)))
            } catch {
                jsonFailure = FormParseError(reason: error.message)
            }
        }
    }
}
