/// What a streaming form parser reports while a request body flows through it.
///
/// Both `MultipartParser` and `URLEncodedFormParser` speak this vocabulary, so the code
/// that collects parameters does not care which encoding the client chose. Value bytes are
/// only valid during the callback: copy what you keep.
enum FormEvent {
    /// A new field starts. `filename` and `contentType` come from multipart part headers.
    case fieldBegin(FormFieldHead)
    /// The next piece of the current field's value (already percent-decoded for urlencoded).
    case fieldData(UnsafeRawBufferPointer)
    /// The current field's value is complete.
    case fieldEnd
}

struct FormFieldHead: Equatable, Sendable {
    var name: String
    var filename: String?
    var contentType: String?
}

/// A body that does not follow its declared encoding; `reason` says exactly what is wrong.
struct FormParseError: Error, Equatable, Sendable {
    var reason: String
}
