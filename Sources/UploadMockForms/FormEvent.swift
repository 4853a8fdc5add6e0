/// What a streaming form parser reports while a request body flows through it.
///
/// Both `MultipartParser` and `URLEncodedFormParser` speak this vocabulary, so the code
/// that collects parameters does not care which encoding the client chose. Value bytes are
/// only valid during the callback: copy what you keep.
package enum FormEvent {
    /// A new field starts. `filename` and `contentType` come from multipart part headers.
    case fieldBegin(FormFieldHead)
    /// The next piece of the current field's value (already percent-decoded for urlencoded).
    case fieldData(UnsafeRawBufferPointer)
    /// The current field's value is complete.
    case fieldEnd
}

package struct FormFieldHead: Equatable, Sendable {
    package var name: String
    package var filename: String?
    package var contentType: String?

    package init(name: String, filename: String? = nil, contentType: String? = nil) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
    }
}

/// A body that does not follow its declared encoding; `reason` says exactly what is wrong.
package struct FormParseError: Error, Equatable, Sendable {
    package var reason: String

    package init(reason: String) {
        self.reason = reason
    }
}
