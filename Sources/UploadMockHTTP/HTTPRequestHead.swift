/// Header fields in arrival order, looked up without regard to case.
package struct HTTPHeaders: Sendable, Sequence {
    package private(set) var fields: [(name: String, value: String)] = []

    package init(_ fields: [(name: String, value: String)] = []) {
        self.fields = fields
    }

    package mutating func add(name: String, value: String) {
        // Room for a typical request's headers at once, rather than four regrowths.
        if fields.capacity == 0 { fields.reserveCapacity(16) }
        fields.append((name, value))
    }

    /// The first value of `name`, compared case-insensitively as HTTP requires.
    package subscript(name: String) -> String? {
        fields.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    package func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }
}

/// Everything known about a request before its body arrives.
package struct HTTPRequestHead: Sendable {
    package var method: String
    /// The path exactly as sent, without the query string.
    package var path: String
    /// The raw query string after `?` (still percent-encoded), empty when absent.
    package var query: String
    package var headers: HTTPHeaders {
        didSet { (contentLength, isChunked) = Self.framing(headers) }
    }
    /// The declared body length; nil when absent or unparsable. Read once with the headers:
    /// every step of a request asks.
    package private(set) var contentLength: Int?
    package private(set) var isChunked: Bool

    package init(method: String, path: String, query: String, headers: HTTPHeaders) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        (contentLength, isChunked) = Self.framing(headers)
    }

    private static func framing(_ headers: HTTPHeaders) -> (contentLength: Int?, isChunked: Bool) {
        (headers["content-length"].flatMap { Int($0.trimmingASCIIWhitespace()) },
         headers["transfer-encoding"]?.lowercased().contains("chunked") ?? false)
    }

    /// Splits a request target such as `/a/b?x=1` into path and raw query.
    package init(method: String, target: String, headers: HTTPHeaders) {
        if let mark = target.firstIndex(of: "?") {
            self.init(method: method, path: String(target[..<mark]),
                      query: String(target[target.index(after: mark)...]), headers: headers)
        } else {
            self.init(method: method, path: target, query: "", headers: headers)
        }
    }

    /// Whether the client waits for `100 Continue` before sending its body.
    package var expectsContinue: Bool {
        headers["expect"]?.lowercased().contains("100-continue") ?? false
    }

    /// The Content-Type's `type/subtype`, lowercased, without parameters (RFC 9110 §8.3.1);
    /// nil without a Content-Type.
    package var mediaType: String? {
        headers["content-type"].map { contentType in
            let end = contentType.firstIndex(of: ";") ?? contentType.endIndex
            return contentType[..<end].trimmingASCIIWhitespace().lowercased()
        }
    }

    /// Whether `mediaType` is `expected` (lowercase ASCII), without building the lowercased copy.
    package func hasMediaType(_ expected: String) -> Bool {
        guard let contentType = headers["content-type"] else { return false }
        let end = contentType.firstIndex(of: ";") ?? contentType.endIndex
        return contentType[..<end].trimmingASCIIWhitespace().caseInsensitiveEquals(expected)
    }

    /// Whether a body follows the headers at all.
    package var hasBody: Bool {
        isChunked || (contentLength ?? 0) > 0
    }
}

extension StringProtocol {
    /// ASCII letters compared without regard to case, every other byte exactly (header names
    /// and tokens are ASCII); no String is built, so a lookup allocates nothing.
    package func caseInsensitiveEquals(_ other: some StringProtocol) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        // Compared in the strings' own storage where they have it (native and small Strings
        // do): two UTF-8 view iterators cost several times the instructions per byte, and every
        // header lookup of every request comes here.
        if let inPlace = utf8.withContiguousStorageIfAvailable({ mine in
            other.utf8.withContiguousStorageIfAvailable { theirs in
                zip(mine, theirs).allSatisfy { ($0 | Self.asciiCaseBit(of: $0)) == ($1 | Self.asciiCaseBit(of: $1)) }
            }
        }), let equal = inPlace {
            return equal
        }
        return utf8.elementsEqual(other.utf8) { ($0 | Self.asciiCaseBit(of: $0)) == ($1 | Self.asciiCaseBit(of: $1)) }
    }

    /// Whether the string starts with `prefix`, ASCII letters compared without regard to case
    /// (an Authorization scheme, say), without building a lowercased copy.
    package func hasCaseInsensitivePrefix(_ prefix: some StringProtocol) -> Bool {
        utf8.count >= prefix.utf8.count && utf8.prefix(prefix.utf8.count).elementsEqual(prefix.utf8) {
            ($0 | Self.asciiCaseBit(of: $0)) == ($1 | Self.asciiCaseBit(of: $1))
        }
    }

    /// 0x20 for an ASCII letter (setting it lowercases), 0 for any other byte.
    private static func asciiCaseBit(of byte: UInt8) -> UInt8 {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") ? 0x20 : 0
    }

    package func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        let text = Substring(self)
        guard let first = text.firstIndex(where: { !isSpace($0) }),
              let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return text[first...last]
    }
}
