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
        if Self.hasMediaType(contentType, "multipart/form-data") {
            self = .multipart(try MultipartParser(contentType: contentType))
        } else if Self.hasMediaType(contentType, "application/x-www-form-urlencoded") {
            self = .urlEncoded(URLEncodedFormParser())
        } else {
            self = .ignored
        }
    }

    /// Whether the `type/subtype` of a Content-Type (without parameters, spaces and tabs
    /// ignored) is `expected` (lowercase ASCII), in any case; twurl separates the boundary with
    /// a comma instead of a semicolon. Compared byte by byte, so nothing is allocated.
    static func hasMediaType(_ contentType: String, _ expected: String) -> Bool {
        var rest = expected.utf8.makeIterator()
        for byte in contentType.utf8 {
            if byte == UInt8(ascii: ";") || byte == UInt8(ascii: ",") { break }
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { continue }
            let lowercased = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            guard rest.next() == lowercased else { return false }
        }
        return rest.next() == nil
    }

    package var isURLEncoded: Bool {
        if case .urlEncoded = self { return true }
        return false
    }

    package mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (FormEvent) -> Void) throws(FormParseError) {
        // Consumed, so the parser moves out: its buffers stay uniquely referenced while it
        // works, and its fields are not retained and released one by one for every piece.
        switch consume self {
        case .multipart(var parser):
            defer { self = .multipart(parser) }
            try parser.feed(bytes, onEvent)
        case .urlEncoded(var parser):
            defer { self = .urlEncoded(parser) }
            try parser.feed(bytes, onEvent)
        case .ignored:
            self = .ignored
        }
    }

    package mutating func finish(_ onEvent: (FormEvent) -> Void) throws(FormParseError) {
        switch consume self {  // as in `feed`
        case .multipart(var parser):
            defer { self = .multipart(parser) }
            try parser.finish(onEvent)
        case .urlEncoded(var parser):
            defer { self = .urlEncoded(parser) }
            try parser.finish(onEvent)
        case .ignored:
            self = .ignored
        }
    }
}
