#if canImport(Glibc)
import Glibc
#endif

/// A streaming multipart/form-data parser: bytes in, `FormEvent`s out, no I/O.
///
/// Part data is reported as slices of the caller's buffer wherever possible, and the
/// delimiter is found with `memmem`, so a 5 MiB media part costs one scan and no copy. Only a
/// few bytes at the end of a piece that might begin a delimiter, and header blocks, are held.
/// It accepts what real clients send (preamble, no final CRLF, epilogue, bare LF line ends,
/// unquoted names, `filename*`) and rejects the rest with a reason naming the part.
struct MultipartParser {
    static let maximumHeaderBytes = 16 * 1024
    static let maximumPreambleBytes = 64 * 1024

    private enum State {
        case preamble
        case afterDelimiter
        case headers
        case body
        case epilogue
    }

    private let boundary: [UInt8]
    /// `\r\n--boundary`, or `\n--boundary` once a client is seen to use bare LF line ends.
    private var delimiter: [UInt8]
    private var state = State.preamble
    private var carry: [UInt8] = []
    private var partNumber = 0
    private var partName = ""
    private var preambleBytes = 0

    init(boundary: String) {
        self.boundary = Array("--\(boundary)".utf8)
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    /// The boundary of a `multipart/form-data` Content-Type, however the client wrote it.
    static func boundary(fromContentType value: String) throws -> String {
        // twurl separates parameters with a comma; others put boundary before charset.
        let pieces = splitParameters(value, separators: [";", ","])
        guard let type = pieces.first?.trimmingASCIIWhitespace().lowercased(), type == "multipart/form-data" else {
            throw FormParseError(reason: "Content-Type '\(value)' is not multipart/form-data")
        }
        for piece in pieces.dropFirst() {
            let (name, parameter) = nameAndValue(piece)
            guard name.lowercased() == "boundary" else { continue }
            guard !parameter.isEmpty else { throw FormParseError(reason: "the multipart boundary is empty") }
            guard parameter.utf8.count <= 70 else {
                throw FormParseError(reason: "the multipart boundary is longer than 70 characters (RFC 2046)")
            }
            return parameter
        }
        throw FormParseError(reason: "Content-Type '\(value)' has no boundary parameter")
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (FormEvent) throws -> Void) throws {
        var rest = bytes
        // Held-back bytes first: top them up from the new piece until they are settled.
        while !carry.isEmpty, !rest.isEmpty {
            let take = min(rest.count, 4096 + delimiter.count)
            carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest.prefix(take)))
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(take))
            let held = carry
            carry = []
            let consumed = try held.withUnsafeBytes { try process($0, onEvent) }
            carry = Array(held[consumed...])
            try checkHeldBytes()
        }
        if !rest.isEmpty {
            let consumed = try process(rest, onEvent)
            carry = Array(rest[consumed...])
            try checkHeldBytes()
        }
    }

    /// The body has ended; throws unless the closing boundary was seen.
    mutating func finish(_ onEvent: (FormEvent) throws -> Void) throws {
        switch state {
        case .epilogue:
            return
        case .preamble:
            throw FormParseError(reason: partNumber == 0 && preambleBytes == 0 && carry.isEmpty
                ? "the multipart body is empty" : "the multipart body contains no boundary line")
        case .afterDelimiter where carry.isEmpty || carry == [UInt8(ascii: "-")]:
            throw FormParseError(reason: "the multipart body ended after a boundary without the closing '--'")
        case .headers, .afterDelimiter:
            throw FormParseError(reason: "the multipart body ended inside the headers of part \(partNumber + 1)")
        case .body:
            throw FormParseError(reason: "the multipart body ended inside part \(partNumber) (\"\(partName)\") before the closing boundary")
        }
    }

    private func checkHeldBytes() throws {
        if state == .headers, carry.count > Self.maximumHeaderBytes {
            throw FormParseError(reason: "the headers of part \(partNumber + 1) are longer than \(Self.maximumHeaderBytes) bytes")
        }
    }

    /// Consumes what it can of `buffer` and returns how many bytes; the rest is held back.
    private mutating func process(_ buffer: UnsafeRawBufferPointer, _ onEvent: (FormEvent) throws -> Void) throws -> Int {
        var position = 0
        while position < buffer.count {
            let window = UnsafeRawBufferPointer(rebasing: buffer[position...])
            switch state {
            case .preamble:
                guard let found = Self.find(boundary, in: window) else {
                    let keep = min(window.count, boundary.count - 1)
                    preambleBytes += window.count - keep
                    if preambleBytes > Self.maximumPreambleBytes {
                        throw FormParseError(reason: "no multipart boundary line in the first \(Self.maximumPreambleBytes) bytes")
                    }
                    return position + window.count - keep
                }
                preambleBytes += found
                position += found + boundary.count
                state = .afterDelimiter

            case .afterDelimiter:
                var index = 0
                while index < window.count, window[index] == UInt8(ascii: " ") || window[index] == UInt8(ascii: "\t") {
                    index += 1
                }
                guard index + 1 < window.count else { return position }
                if window[index] == UInt8(ascii: "-") && window[index + 1] == UInt8(ascii: "-") {
                    state = .epilogue
                    return buffer.count
                }
                if window[index] == UInt8(ascii: "\r") && window[index + 1] == UInt8(ascii: "\n") {
                    position += index + 2
                } else if window[index] == UInt8(ascii: "\n") {
                    position += index + 1
                } else {
                    throw FormParseError(reason: "unexpected bytes after the boundary line of part \(partNumber + 1)")
                }
                state = .headers

            case .headers:
                guard let (length, terminator) = Self.headerBlockEnd(in: window) else {
                    return position
                }
                let block = String(decoding: UnsafeRawBufferPointer(rebasing: window.prefix(length)), as: UTF8.self)
                if terminator == 2 { delimiter = Array("\n".utf8) + boundary }  // a bare-LF client
                partNumber += 1
                let head = try parsePartHeaders(block)
                partName = head.name
                position += length + terminator
                state = .body
                try onEvent(.fieldBegin(head))

            case .body:
                if let found = Self.find(delimiter, in: window) {
                    if found > 0 { try onEvent(.fieldData(UnsafeRawBufferPointer(rebasing: window.prefix(found)))) }
                    try onEvent(.fieldEnd)
                    position += found + delimiter.count
                    state = .afterDelimiter
                    continue
                }
                let safe = Self.safePrefixLength(window, delimiter: delimiter)
                if safe > 0 { try onEvent(.fieldData(UnsafeRawBufferPointer(rebasing: window.prefix(safe)))) }
                return position + safe

            case .epilogue:
                return buffer.count
            }
        }
        return position
    }

    /// Length of the header block and of the blank line ending it (4 for CRLF, 2 for bare LF).
    private static func headerBlockEnd(in window: UnsafeRawBufferPointer) -> (length: Int, terminator: Int)? {
        if window.starts(with: [UInt8(ascii: "\r"), UInt8(ascii: "\n")]) { return (0, 2) }  // no headers at all
        let crlf = find(Array("\r\n\r\n".utf8), in: window)
        if let lf = find(Array("\n\n".utf8), in: window), lf < (crlf ?? Int.max) { return (lf, 2) }
        return crlf.map { ($0, 4) }
    }

    /// How much of `window` certainly precedes any delimiter: everything but a tail that is a
    /// prefix of the delimiter.
    private static func safePrefixLength(_ window: UnsafeRawBufferPointer, delimiter: [UInt8]) -> Int {
        let start = max(0, window.count - delimiter.count + 1)
        var candidate = start
        while candidate < window.count {
            let tail = window.count - candidate
            if window[candidate] == delimiter[0],
               delimiter.withUnsafeBytes({ memcmp(window.baseAddress! + candidate, $0.baseAddress!, tail) == 0 }) {
                return candidate
            }
            candidate += 1
        }
        return window.count
    }

    /// The first occurrence of `needle`: `memchr` jumps to each candidate first byte (rare in
    /// binary data for the delimiter's CR), `memcmp` confirms.
    static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Int? {
        guard haystack.count >= needle.count, let base = haystack.baseAddress else { return nil }
        return needle.withUnsafeBytes { needleBytes in
            let last = haystack.count - needle.count
            var position = 0
            while position <= last {
                guard let hit = memchr(base + position, Int32(needleBytes[0]), last - position + 1) else { return nil }
                let candidate = UnsafeRawPointer(hit) - base
                if memcmp(base + candidate, needleBytes.baseAddress!, needle.count) == 0 { return candidate }
                position = candidate + 1
            }
            return nil
        }
    }

    private func parsePartHeaders(_ block: String) throws -> FormFieldHead {
        var disposition: String?
        var contentType: String?
        for line in block.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let text = line.hasSuffix("\r") ? line.dropLast() : line[...]
            guard let colon = text.firstIndex(of: ":") else {
                throw FormParseError(reason: "part \(partNumber) has a header line without ':' (\(text.prefix(60)))")
            }
            let name = text[..<colon].trimmingASCIIWhitespace().lowercased()
            let value = String(text[text.index(after: colon)...].trimmingASCIIWhitespace())
            if name == "content-disposition" { disposition = value }
            if name == "content-type" { contentType = value }
        }
        guard let disposition else {
            throw FormParseError(reason: "part \(partNumber) has no Content-Disposition header")
        }
        let pieces = Self.splitParameters(disposition, separators: [";"])
        guard pieces.first?.trimmingASCIIWhitespace().lowercased() == "form-data" else {
            throw FormParseError(reason: "part \(partNumber) has Content-Disposition '\(disposition)', not form-data")
        }
        var name: String?
        var filename: String?
        for piece in pieces.dropFirst() {
            let (key, value) = Self.nameAndValue(piece)
            switch key.lowercased() {
            case "name": name = value
            case "filename": filename = filename ?? value
            case "filename*": filename = Self.decodeExtendedValue(value) ?? filename
            default: break
            }
        }
        guard let name, !name.isEmpty else {
            throw FormParseError(reason: "part \(partNumber) has no field name in its Content-Disposition")
        }
        return FormFieldHead(name: name, filename: filename, contentType: contentType)
    }

    /// Splits `a; b="x;y"; c` at separators outside quotes.
    static func splitParameters(_ text: String, separators: Set<Character>) -> [Substring] {
        var pieces: [Substring] = []
        var start = text.startIndex
        var quoted = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "\"" { quoted.toggle() }
            else if character == "\\", quoted { index = text.index(after: index) }
            else if !quoted, separators.contains(character) {
                pieces.append(text[start..<index])
                start = text.index(after: index)
            }
            if index < text.endIndex { index = text.index(after: index) }
        }
        pieces.append(text[start...])
        return pieces.filter { !$0.trimmingASCIIWhitespace().isEmpty }
    }

    /// `name="va\"lue"` or `name=value` → ("name", "va\"lue").
    static func nameAndValue(_ piece: Substring) -> (String, String) {
        guard let equals = piece.firstIndex(of: "=") else { return (String(piece.trimmingASCIIWhitespace()), "") }
        let name = String(piece[..<equals].trimmingASCIIWhitespace())
        var value = piece[piece.index(after: equals)...].trimmingASCIIWhitespace()
        if value.count >= 2, value.first == "\"", value.last == "\"" {
            value = value.dropFirst().dropLast()
            var unescaped = ""
            var escaping = false
            for character in value {
                if escaping || character != "\\" {
                    unescaped.append(character)
                    escaping = false
                } else {
                    escaping = true
                }
            }
            return (name, unescaped)
        }
        return (name, String(value))
    }

    /// RFC 5987 `UTF-8''file%20name.png` → `file name.png`.
    private static func decodeExtendedValue(_ value: String) -> String? {
        let parts = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        return try? URLEncodedFormParser.percentDecode(parts[2], plusIsSpace: false)
    }
}
