/// Chooses the streaming parser for a request's Content-Type and feeds it.
enum FormBodyParser {
    case multipart(MultipartParser)
    case urlEncoded(URLEncodedFormParser)
    /// A body that carries no form fields (absent, or of a type forms do not use).
    case ignored

    /// The parser for `contentType`; throws for multipart without a usable boundary.
    init(contentType: String?) throws {
        let type = contentType?.split(separator: ";").first?.split(separator: ",").first?
            .trimmingASCIIWhitespace().lowercased() ?? ""
        switch type {
        case "multipart/form-data":
            self = .multipart(MultipartParser(boundary: try MultipartParser.boundary(fromContentType: contentType!)))
        case "application/x-www-form-urlencoded":
            self = .urlEncoded(URLEncodedFormParser())
        default:
            self = .ignored
        }
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (FormEvent) throws -> Void) throws {
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

    mutating func finish(_ onEvent: (FormEvent) throws -> Void) throws {
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
