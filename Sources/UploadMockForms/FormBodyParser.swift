/// Chooses the streaming parser for a request's Content-Type and feeds it.
package enum FormBodyParser {
    case multipart(MultipartParser)
    case urlEncoded(URLEncodedFormParser)
    /// A body that carries no form fields (absent, or of a type forms do not use).
    case ignored

    /// The parser for `contentType`; throws for multipart without a usable boundary.
    package init(contentType: String?) throws(FormParseError) {
        guard let contentType else {
            self = .ignored
            return
        }
        switch Self.mediaType(of: contentType) {
        case "multipart/form-data":
            self = .multipart(MultipartParser(boundary: try MultipartParser.boundary(fromContentType: contentType)))
        case "application/x-www-form-urlencoded":
            self = .urlEncoded(URLEncodedFormParser())
        default:
            self = .ignored
        }
    }

    /// `type/subtype` of a Content-Type, lowercased, without parameters; twurl separates the
    /// boundary with a comma instead of a semicolon.
    package static func mediaType(of contentType: String) -> String {
        let end = contentType.firstIndex { $0 == ";" || $0 == "," } ?? contentType.endIndex
        return contentType[..<end].filter { $0 != " " && $0 != "\t" }.lowercased()
    }

    package var isURLEncoded: Bool {
        if case .urlEncoded = self { return true }
        return false
    }

    package mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (FormEvent) -> Void) throws(FormParseError) {
        switch self {
        case .multipart(var parser):
            self = .ignored  // keeps the parser's buffers uniquely referenced while it works
            defer { self = .multipart(parser) }
            try parser.feed(bytes, onEvent)
        case .urlEncoded(var parser):
            self = .ignored
            defer { self = .urlEncoded(parser) }
            try parser.feed(bytes, onEvent)
        case .ignored:
            break
        }
    }

    package mutating func finish(_ onEvent: (FormEvent) -> Void) throws(FormParseError) {
        switch self {
        case .multipart(var parser):
            self = .ignored
            defer { self = .multipart(parser) }
            try parser.finish(onEvent)
        case .urlEncoded(var parser):
            self = .ignored
            defer { self = .urlEncoded(parser) }
            try parser.finish(onEvent)
        case .ignored:
            break
        }
    }
}
