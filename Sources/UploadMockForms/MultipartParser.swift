import CVectorKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A streaming `multipart/form-data` parser (RFC 7578, RFC 2046 §5.1): bytes in, `FormEvent`s
/// out, no I/O.
///
/// Part data is handed on as slices of the caller's buffer, found with one SIMD scan per piece
/// (`ByteSearch`); only a tail that might begin a delimiter (shorter than one) is copied and
/// held for the next piece, and part headers are collected line by line (at most 16 KiB a part).
///
/// What real clients send is accepted: a preamble of up to 4 KiB before the first boundary
/// line; transport padding (spaces, tabs) after a boundary; no line end after the closing
/// `--boundary--` (python-twitter) or an extra one and any epilogue (Twitter4J), all ignored;
/// header names in any case and extra headers (Content-Transfer-Encoding …, ignored); quoted
/// or bare parameter values; `filename*=UTF-8''…` (RFC 5987, preferred over `filename`);
/// filenames kept as sent, including Windows paths, where a backslash escapes only `"` and `\`.
///
/// Line ends: the first boundary line decides. After `--boundary\r\n` every delimiter is
/// `\r\n--boundary` (RFC 2046); after `--boundary\n` (a bare-LF client) every delimiter is
/// `\n--boundary`, and a later boundary line ending the other way is an error. Header lines may
/// end in CRLF or bare LF either way, which is unambiguous. Everything else is an error whose
/// reason names the part: a part without Content-Disposition, one that is not form-data or has
/// no name, a header block over 16 KiB, anything but padding, a line end or `--` after a
/// boundary (so part data containing `\r\n--boundary` is refused, as RFC 2046 forbids it), no
/// boundary line at the start of a line within the first 4 KiB, a body without any part, and a
/// body that ends before the closing boundary.
package struct MultipartParser: Sendable {
    /// The longest header block of one part; real clients send a few hundred bytes.
    static let maximumHeaderBytes = 16 * 1024
    /// The longest preamble before the first boundary line; real clients send none.
    static let maximumPreambleBytes = 4 * 1024
    /// RFC 2046 §5.1.1: a boundary has 1 to 70 characters.
    static let maximumBoundaryLength = 70

    private enum State {
        /// Before the first boundary line.
        case preamble
        /// Just after `--boundary`: transport padding, then a line end or the closing `--`.
        case boundaryLine(BoundaryLineProgress)
        /// Inside the header block of part `partNumber`.
        case headers
        /// Inside the data of part `partNumber`.
        case data
        /// After the closing boundary: everything is ignored.
        case epilogue
    }

    private enum BoundaryLineProgress {
        case start
        case padding
        case carriageReturn
        case dash
    }

    private enum LineEnd {
        case crlf
        case lf
    }

    /// `--boundary`, as it opens the body.
    private let dashBoundary: ByteSearch
    /// What ends part data: `\r\n--boundary`, or `\n--boundary` for a bare-LF client.
    private var delimiter: ByteSearch
    /// Set by the first boundary line.
    private var lineEnd: LineEnd?
    private var state = State.preamble
    /// The end of the previous piece, which may begin a delimiter (or the first boundary);
    /// `feed` joins it with the next piece in the same buffer.
    private var heldBack: [UInt8] = []

    /// 1-based number of the part being read; 0 before the first.
    private var partNumber = 0
    private var partName: String?
    private var partFilename: String?
    private var partExtendedFilename: String?
    private var partContentType: String?
    /// Whether the part has a Content-Disposition; when it names no field, that header
    /// quoted for the message.
    private var partHasDisposition = false
    private var unnamedDisposition = ""
    private var headerLine: [UInt8] = []
    private var headerBytes = 0

    private var preambleBytes = 0
    private var preambleEndsLine = true
    /// The first bytes of the body, to show in the error when no boundary line turns up.
    private var bodyStart: [UInt8] = []

    /// A parser for a body whose Content-Type declares `boundary` (see `boundary(fromContentType:)`).
    package init(boundary: String) {
        self.init(boundaryBytes: boundary.utf8, filter: .best)
    }

    /// The same with the delimiter scan's filter chosen: tests run each one the CPU has.
    init(boundary: String, filter: CandidateFilter) {
        self.init(boundaryBytes: boundary.utf8, filter: filter)
    }

    /// A parser for the boundary a `multipart/form-data` Content-Type value declares, by
    /// `boundary(fromContentType:)`'s rules, without the boundary as a String in between.
    package init(contentType: String) throws(FormParseError) {
        self.init(boundaryBytes: try Self.boundaryBytes(fromContentType: contentType), filter: .best)
    }

    private init(boundaryBytes boundary: some Collection<UInt8>, filter: CandidateFilter) {
        var delimiter: [UInt8] = []
        delimiter.reserveCapacity(4 + boundary.count)
        delimiter.append(contentsOf: "\r\n--".utf8)
        delimiter.append(contentsOf: boundary)
        // `--boundary` is the delimiter without its CRLF: one array holds both.
        dashBoundary = ByteSearch(delimiter.dropFirst(2), filter: filter)
        self.delimiter = ByteSearch(delimiter[...], filter: filter)
    }

    // MARK: - Content-Type

    /// The boundary of a `multipart/form-data` Content-Type value, however the client wrote it:
    /// quoted or not, `Boundary=` in any case, not the last parameter, and after a comma
    /// instead of a semicolon (twurl's `multipart/form-data, boundary="…"`).
    package static func boundary(fromContentType value: String) throws(FormParseError) -> String {
        String(decoding: try boundaryBytes(fromContentType: value), as: UTF8.self)
    }

    private static func boundaryBytes(fromContentType value: String) throws(FormParseError) -> ArraySlice<UInt8> {
        // The first boundary and how many there are, in the one walk that checks the value.
        var firstBoundary: ArraySlice<UInt8>?
        var boundaries = 0
        let header: ParameterizedValue
        do {
            header = try ParameterizedValue(Array(value.utf8)[...], commaSeparates: true) { parameter in
                guard asciiCaseInsensitiveEquals(parameter.name, "boundary") else { return }
                if boundaries == 0 { firstBoundary = parameter.value }
                boundaries += 1
            }
        } catch {
            throw FormParseError(reason: "Content-Type '\(value)' cannot be read: \(error.reason)")
        }
        guard asciiCaseInsensitiveEquals(header.value, "multipart/form-data") else {
            throw FormParseError(reason: "Content-Type '\(value)' is not multipart/form-data")
        }
        guard let boundary = firstBoundary else {
            throw FormParseError(reason: "Content-Type '\(value)' has no boundary parameter")
        }
        guard boundaries == 1 else {
            throw FormParseError(reason: "Content-Type '\(value)' has more than one boundary parameter")
        }
        guard !boundary.isEmpty else {
            throw FormParseError(reason: "Content-Type '\(value)' has an empty boundary")
        }
        guard boundary.count <= maximumBoundaryLength else {
            throw FormParseError(reason: "the multipart boundary is \(boundary.count) bytes long; RFC 2046 allows at most \(maximumBoundaryLength)")
        }
        // RFC 2046 allows fewer characters still, but clients stray; bytes that are not
        // printable ASCII would not even survive the round trip through a String.
        guard boundary.allSatisfy({ (0x20..<0x7F).contains($0) }) else {
            throw FormParseError(reason: "the multipart boundary \(quotedForMessage(boundary)) has bytes other than printable ASCII")
        }
        return boundary
    }

    // MARK: - Feeding

    /// Parses the next piece of the body, of any size, calling `onEvent` for what it completes.
    /// `.fieldData` slices point into `bytes` (or, rarely, into a small internal buffer) and are
    /// valid only during the call. Errors thrown by `onEvent` propagate unchanged; after any
    /// error the parser must be discarded.
    package mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (FormEvent) -> Void) throws(FormParseError) {
        var rest = bytes
        if !heldBack.isEmpty {
            // Settle the held bytes with just enough of the new piece to complete a delimiter,
            // joined in the same buffer (room for two delimiters, made once: no allocation per
            // piece, and one at most per body).
            var joined = heldBack
            heldBack = []
            defer { heldBack = joined }
            let held = joined.count
            let taken = min(rest.count, delimiter.count)
            joined.reserveCapacity(2 * delimiter.count)
            joined.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest.prefix(taken)))
            // withUnsafeBytes rethrows untyped errors; Result keeps the parser's error type.
            let consumed = try joined.withUnsafeBytes { buffer in
                Result { () throws(FormParseError) in try process(buffer, onEvent) }
            }.get()
            guard consumed >= held else {
                // Only when the whole piece was shorter than a delimiter: keep holding.
                joined.removeSubrange(..<consumed)
                return
            }
            joined.removeAll(keepingCapacity: true)
            // What `joined` left unconsumed is the start of the new piece: read it from there.
            rest = UnsafeRawBufferPointer(rebasing: rest[(consumed - held)...])
        }
        guard !rest.isEmpty else { return }
        let consumed = try process(rest, onEvent)
        if consumed < rest.count {
            heldBack.reserveCapacity(2 * delimiter.count)
            heldBack.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[consumed...]))
        }
    }

    /// The body has ended: throws unless it ended after the closing boundary. Nothing is left
    /// to report at that point, so `onEvent` is never called; it keeps the shape of
    /// `URLEncodedFormParser.finish`.
    package mutating func finish(_ onEvent: (FormEvent) -> Void) throws(FormParseError) {
        var closing: String { "'\(String(decoding: dashBoundary.needle, as: UTF8.self))--'" }
        switch state {
        case .epilogue:
            return
        case .preamble:
            bodyStart.append(contentsOf: heldBack.prefix(48 - bodyStart.count))
            guard !bodyStart.isEmpty else { throw FormParseError(reason: "the multipart body is empty") }
            throw FormParseError(reason: "the multipart body has no boundary line '\(String(decoding: dashBoundary.needle, as: UTF8.self))' (it starts \(quotedForMessage(bodyStart)))")
        case .boundaryLine(.dash):
            throw FormParseError(reason: "the multipart body ended inside the closing boundary \(closing) after \(partLabel)")
        case .boundaryLine where partNumber == 0:
            throw FormParseError(reason: "the multipart body ended on its first boundary line, before any part")
        case .boundaryLine:
            throw FormParseError(reason: "the multipart body ended after \(partLabel), on a boundary line without the closing \(closing)")
        case .headers:
            throw FormParseError(reason: "the multipart body ended inside the headers of \(partLabel)")
        case .data:
            throw FormParseError(reason: "the multipart body ended inside \(partLabel) before the closing boundary \(closing)")
        }
    }

    /// `part 2 ("media")`, or `part 2` while its name is not known.
    private var partLabel: String {
        partName.map { "part \(partNumber) (\"\($0)\")" } ?? "part \(partNumber)"
    }

    /// Consumes what it can of `buffer` and returns how many bytes; the caller holds back the
    /// rest (at most a delimiter's length less one) for the next piece.
    private mutating func process(_ buffer: UnsafeRawBufferPointer, _ onEvent: (FormEvent) -> Void) throws(FormParseError) -> Int {
        var position = 0
        while position < buffer.count {
            let window = UnsafeRawBufferPointer(rebasing: buffer[position...])
            switch state {
            case .preamble:
                guard let found = try findFirstBoundaryLine(in: window) else {
                    return position + window.count - dashBoundary.partialMatchLength(atEndOf: window)
                }
                position += found + dashBoundary.count
                state = .boundaryLine(.start)

            case .boundaryLine(let progress):
                try readBoundaryLine(window[0], progress)
                position += 1
                if case .epilogue = state { return buffer.count }

            case .headers:
                let lineFeed = firstOffset(of: UInt8(ascii: "\n"), in: window)
                let length = lineFeed.map { $0 + 1 } ?? window.count
                headerBytes += length
                guard headerBytes <= Self.maximumHeaderBytes else {
                    throw FormParseError(reason: "the headers of \(partLabel) are longer than \(Self.maximumHeaderBytes) bytes")
                }
                if headerLine.capacity == 0 { headerLine.reserveCapacity(256) }  // one allocation for every line
                headerLine.append(contentsOf: UnsafeRawBufferPointer(rebasing: window.prefix(lineFeed ?? window.count)))
                position += length
                if lineFeed != nil { try endHeaderLine(onEvent) }

            case .data:
                if let found = delimiter.firstOffset(in: window) {
                    if found > 0 { onEvent(.fieldData(UnsafeRawBufferPointer(rebasing: window.prefix(found)))) }
                    onEvent(.fieldEnd)
                    position += found + delimiter.count
                    state = .boundaryLine(.start)
                } else {
                    let safe = window.count - delimiter.partialMatchLength(atEndOf: window)
                    if safe > 0 { onEvent(.fieldData(UnsafeRawBufferPointer(rebasing: window.prefix(safe)))) }
                    return position + safe
                }

            case .epilogue:
                return buffer.count
            }
        }
        return position
    }

    // MARK: - Boundary lines

    /// The offset of the first `--boundary` at the start of a line; the preamble before it is
    /// counted, and so is everything but a possible partial match when there is none.
    private mutating func findFirstBoundaryLine(in window: UnsafeRawBufferPointer) throws(FormParseError) -> Int? {
        var searchFrom = 0
        while let found = dashBoundary.firstOffset(in: UnsafeRawBufferPointer(rebasing: window[searchFrom...])).map({ $0 + searchFrom }) {
            if found == 0 ? preambleEndsLine : window[found - 1] == UInt8(ascii: "\n") {
                try countPreamble(UnsafeRawBufferPointer(rebasing: window.prefix(found)))
                return found
            }
            searchFrom = found + 1
        }
        let partial = dashBoundary.partialMatchLength(atEndOf: window)
        try countPreamble(UnsafeRawBufferPointer(rebasing: window.prefix(window.count - partial)))
        return nil
    }

    private mutating func countPreamble(_ bytes: UnsafeRawBufferPointer) throws(FormParseError) {
        guard let last = bytes.last else { return }
        bodyStart.append(contentsOf: bytes.prefix(48 - bodyStart.count))
        preambleBytes += bytes.count
        preambleEndsLine = last == UInt8(ascii: "\n")
        guard preambleBytes <= Self.maximumPreambleBytes else {
            throw FormParseError(reason: "the multipart body does not start with the boundary line '\(String(decoding: dashBoundary.needle, as: UTF8.self))' (none in its first \(Self.maximumPreambleBytes) bytes, which start \(quotedForMessage(bodyStart)))")
        }
    }

    /// One byte after `--boundary`: padding, a line end (the next part's headers follow) or
    /// `--` (the body is complete).
    private mutating func readBoundaryLine(_ byte: UInt8, _ progress: BoundaryLineProgress) throws(FormParseError) {
        switch (progress, byte) {
        case (.start, UInt8(ascii: "-")):
            state = .boundaryLine(.dash)
        case (.dash, UInt8(ascii: "-")):
            // RFC 2046 requires one part at least; a body without any is not an upload.
            guard partNumber > 0 else {
                throw FormParseError(reason: "the multipart body closes at its first boundary line, before any part")
            }
            state = .epilogue
        case (.start, UInt8(ascii: " ")), (.start, UInt8(ascii: "\t")),
             (.padding, UInt8(ascii: " ")), (.padding, UInt8(ascii: "\t")):
            state = .boundaryLine(.padding)
        case (.start, UInt8(ascii: "\r")), (.padding, UInt8(ascii: "\r")):
            state = .boundaryLine(.carriageReturn)
        case (.carriageReturn, UInt8(ascii: "\n")):
            try beginPart(after: .crlf)
        case (.start, UInt8(ascii: "\n")), (.padding, UInt8(ascii: "\n")):
            try beginPart(after: .lf)
        default:
            let line = String(decoding: dashBoundary.needle, as: UTF8.self)
            let place = partNumber == 0 ? "the first boundary line '\(line)'" : "the boundary line '\(line)' after \(partLabel)"
            let expected = switch progress {
            case .dash: "a second '-' to close the body"
            case .carriageReturn: "LF after CR"
            case .start, .padding: "a line end or '--'"
            }
            throw FormParseError(reason: "\(place) is followed by \(quotedForMessage([byte])) where \(expected) should be")
        }
    }

    private mutating func beginPart(after ending: LineEnd) throws(FormParseError) {
        if let lineEnd, lineEnd != ending {
            let first = lineEnd == .crlf ? "CRLF" : "a bare LF"
            let this = ending == .crlf ? "CRLF" : "a bare LF"
            throw FormParseError(reason: "the boundary line after \(partLabel) ends in \(this), but the first one ended in \(first)")
        }
        if lineEnd == nil, ending == .lf {
            delimiter = ByteSearch(([UInt8(ascii: "\n")] + dashBoundary.needle)[...], filter: dashBoundary.filter)
        }
        lineEnd = ending
        partNumber += 1
        partName = nil
        partFilename = nil
        partExtendedFilename = nil
        partContentType = nil
        partHasDisposition = false
        headerBytes = 0
        state = .headers
    }

    // MARK: - Part headers

    /// A header line is complete in `headerLine` (without its LF): a blank line ends the block.
    private mutating func endHeaderLine(_ onEvent: (FormEvent) -> Void) throws(FormParseError) {
        if headerLine.last == UInt8(ascii: "\r") { headerLine.removeLast() }
        defer { headerLine.removeAll(keepingCapacity: true) }
        guard headerLine.isEmpty else {
            try readHeader(headerLine[...])
            return
        }
        guard partHasDisposition else {
            throw FormParseError(reason: "\(partLabel) has no Content-Disposition header")
        }
        // Checked only now, so that a folded continuation line is reported as such.
        guard let partName else {
            throw FormParseError(reason: "\(partLabel) has no field name in its Content-Disposition \(unnamedDisposition)")
        }
        state = .data
        onEvent(.fieldBegin(FormFieldHead(name: partName, filename: partExtendedFilename ?? partFilename,
                                              contentType: partContentType)))
    }

    private mutating func readHeader(_ line: ArraySlice<UInt8>) throws(FormParseError) {
        guard let first = line.first, first != UInt8(ascii: " "), first != UInt8(ascii: "\t") else {
            throw FormParseError(reason: "\(partLabel) has a folded header line \(quotedForMessage(line)) (obsolete line folding is not accepted)")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw FormParseError(reason: "\(partLabel) has a header line without ':' (\(quotedForMessage(line)))")
        }
        // Names compared as bytes: lowercasing them into Strings cost an allocation a header.
        let name = trimmingSpaceAndTab(line[..<colon])
        let value = trimmingSpaceAndTab(line[(colon + 1)...])
        if asciiCaseInsensitiveEquals(name, "content-disposition") {
            guard !partHasDisposition else {
                throw FormParseError(reason: "\(partLabel) has more than one Content-Disposition header")
            }
            partHasDisposition = true
            try readContentDisposition(value)
            // Quoted now, as the line goes with the next one, but only for the message.
            if partName == nil { unnamedDisposition = quotedForMessage(value) }
        } else if asciiCaseInsensitiveEquals(name, "content-type") {
            guard partContentType == nil else {
                throw FormParseError(reason: "\(partLabel) has more than one Content-Type header")
            }
            partContentType = Self.headerText(value)
        }
        // Anything else (Content-Transfer-Encoding and the like): RFC 7578 says to ignore it.
    }

    private mutating func readContentDisposition(_ bytes: ArraySlice<UInt8>) throws(FormParseError) {
        // The parameters are walked once, as the value is checked: reading them again for each
        // parameter, and again for each known one's count, was most of a part's header cost.
        var seen = SeenDispositionParameters()
        let disposition: ParameterizedValue
        do {
            disposition = try ParameterizedValue(bytes, commaSeparates: false) { seen.note($0) }
        } catch {
            // Quoted for a message only when there is one to write: on the success path it cost
            // allocations and formatting for every part.
            throw FormParseError(reason: "\(partLabel) has a malformed Content-Disposition \(quotedForMessage(bytes)): \(error.reason)")
        }
        guard asciiCaseInsensitiveEquals(disposition.value, "form-data") else {
            throw FormParseError(reason: "\(partLabel) has Content-Disposition \(quotedForMessage(bytes)), which is not form-data")
        }
        for index in 0..<seen.count {
            guard let (known, value) = seen.inOrder[index] else { continue }
            guard seen.occurrences[known.rawValue] == 1 else {
                throw FormParseError(reason: "\(partLabel) has more than one '\(known.spelling)' in its Content-Disposition \(quotedForMessage(bytes))")
            }
            switch known {
            case .name:
                // An empty name stays nil, reported as no name at the end of the header block.
                partName = value.isEmpty ? nil : Self.headerText(value)
            case .filename:
                partFilename = Self.headerText(value)
            case .extendedFilename:
                guard let decoded = Self.decodeExtendedValue(value) else {
                    throw FormParseError(reason: "\(partLabel) has a filename* that is not charset''percent-encoded UTF-8 or ISO-8859-1 (\(quotedForMessage(value)))")
                }
                partExtendedFilename = decoded
            }
        }
    }

    /// The Content-Disposition parameters a part's head is made of; the rest are ignored.
    private enum DispositionParameter: Int {
        case name
        case filename
        case extendedFilename

        init?(spelledAs name: ArraySlice<UInt8>) {
            if asciiCaseInsensitiveEquals(name, "name") {
                self = .name
            } else if asciiCaseInsensitiveEquals(name, "filename") {
                self = .filename
            } else if asciiCaseInsensitiveEquals(name, "filename*") {
                self = .extendedFilename
            } else {
                return nil
            }
        }

        var spelling: StaticString {
            switch self {
            case .name: "name"
            case .filename: "filename"
            case .extendedFilename: "filename*"
            }
        }
    }

    /// What one walk over a Content-Disposition's parameters found of the known ones: each
    /// one's first value, in the order they first came (the first duplicate or bad `filename*`
    /// met is the one reported), and how many times each came. Inline: nothing is allocated.
    private struct SeenDispositionParameters {
        private(set) var inOrder = InlineArray<3, (DispositionParameter, ArraySlice<UInt8>)?>(repeating: nil)
        private(set) var count = 0
        private(set) var occurrences = InlineArray<3, Int>(repeating: 0)

        mutating func note(_ parameter: ParameterizedValue.Parameter) {
            guard let known = DispositionParameter(spelledAs: parameter.name) else { return }
            if occurrences[known.rawValue] == 0 {
                inOrder[count] = (known, parameter.value)
                count += 1
            }
            occurrences[known.rawValue] += 1
        }
    }

    /// RFC 5987 `UTF-8''caf%C3%A9.png` → `café.png`; nil if malformed or in a charset other
    /// than UTF-8 or ISO-8859-1.
    private static func decodeExtendedValue(_ value: ArraySlice<UInt8>) -> String? {
        let fields = value.split(separator: UInt8(ascii: "'"), maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3, let decoded = URLEncodedFormParser.percentDecodedBytes(Array(fields[2]), plusIsSpace: false) else {
            return nil
        }
        switch String(decoding: fields[0], as: UTF8.self).lowercased() {
        case "utf-8": return String(validating: decoded, as: UTF8.self)
        case "iso-8859-1": return latin1(decoded)
        default: return nil
        }
    }

    // MARK: - Byte helpers

    /// Header bytes as text: UTF-8 when valid, else ISO-8859-1 (older clients' filenames), so
    /// no byte is silently replaced.
    private static func headerText(_ bytes: ArraySlice<UInt8>) -> String {
        // Field names and most filenames are ASCII, which needs no validation: `String(validating:)`
        // cost about 2,500 instructions a call (generic metadata lookups included).
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        return String(validating: bytes, as: UTF8.self) ?? latin1(bytes)
    }

    private static func latin1(_ bytes: some Collection<UInt8>) -> String {
        String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    /// `name="va\"lue"` or `name=value` → `("name", "va\"lue")`; the OAuth `Authorization`
    /// header uses the same parameter syntax.
    package static func nameAndValue(_ piece: Substring) -> (String, String) {
        let (name, value) = nameAndValue(bytes: Array(piece.utf8)[...])
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// `nameAndValue` in place: nothing is allocated but the unescaped copy of a quoted value
    /// with backslash escapes.
    package static func nameAndValue(bytes: ArraySlice<UInt8>) -> (name: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else { return (trimmingSpaceAndTab(bytes), []) }
        let name = trimmingSpaceAndTab(bytes[..<equals])
        let raw = trimmingSpaceAndTab(bytes[(equals + 1)...])
        if raw.first == UInt8(ascii: "\""), let value = try? ParameterizedValue.unquote(raw).value {
            return (name, value)
        }
        return (name, raw)
    }
}

/// A header value such as `form-data; name="media"; filename="a.png"`: its leading token, and
/// its parameters handed one by one to whoever reads the value, in place: nothing is stored and
/// nothing allocated but the unescaped copy of a quoted value with backslash escapes. Names are
/// kept as sent; readers compare them without regard to ASCII case.
private struct ParameterizedValue {
    typealias Parameter = (name: ArraySlice<UInt8>, value: ArraySlice<UInt8>)

    /// The leading token, e.g. `form-data`.
    let value: ArraySlice<UInt8>

    /// Splits at `;` (and `,` when `commaSeparates`) outside quotes; empty parameters (`a;;b`,
    /// a trailing `;`) are skipped, a parameter without `=` has an empty value.
    /// `visit` sees each parameter as it is checked, in order, quoted values unquoted: a caller
    /// that needs them all needs no second walk.
    init(_ bytes: ArraySlice<UInt8>, commaSeparates: Bool, visit: (Parameter) -> Void) throws(FormParseError) {
        let end = Self.tokenEnd(bytes, from: bytes.startIndex, commaSeparates: commaSeparates, stopsAtEquals: false)
        value = trimmingSpaceAndTab(bytes[..<end])
        var index = end
        while let parameter = try Self.parameter(in: bytes, after: index, commaSeparates: commaSeparates) {
            visit((parameter.name, parameter.value))
            index = parameter.end
        }
    }

    /// The first parameter after `index` (a separator, or the end) and where it ends; nil when
    /// none is left.
    private static func parameter(in bytes: ArraySlice<UInt8>, after start: Int, commaSeparates: Bool)
        throws(FormParseError) -> (name: ArraySlice<UInt8>, value: ArraySlice<UInt8>, end: Int)? {
        var index = start
        while index < bytes.endIndex {
            index += 1  // the separator
            while index < bytes.endIndex, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
            guard index < bytes.endIndex, !isSeparator(bytes[index], commaSeparates) else { continue }
            let end = tokenEnd(bytes, from: index, commaSeparates: commaSeparates, stopsAtEquals: true)
            let name = trimmingSpaceAndTab(bytes[index..<end])
            index = end
            guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "=") else { return (name, [], index) }
            index += 1
            while index < bytes.endIndex, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
            guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "\"") else {
                let valueEnd = tokenEnd(bytes, from: index, commaSeparates: commaSeparates, stopsAtEquals: false)
                return (name, trimmingSpaceAndTab(bytes[index..<valueEnd]), valueEnd)
            }
            let (unquoted, length) = try unquote(bytes[index...])
            index += length
            while index < bytes.endIndex, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
            guard index == bytes.endIndex || isSeparator(bytes[index], commaSeparates) else {
                let shownName = String(decoding: name, as: UTF8.self).lowercased()
                throw FormParseError(reason: "unexpected \(quotedForMessage(bytes[index...])) after the quoted value of \(shownName)")
            }
            return (name, unquoted, index)
        }
        return nil
    }

    private static func isSeparator(_ byte: UInt8, _ commaSeparates: Bool) -> Bool {
        byte == UInt8(ascii: ";") || (commaSeparates && byte == UInt8(ascii: ","))
    }

    private static func tokenEnd(_ bytes: ArraySlice<UInt8>, from start: Int, commaSeparates: Bool, stopsAtEquals: Bool) -> Int {
        var end = start
        while end < bytes.endIndex, !isSeparator(bytes[end], commaSeparates),
              !(stopsAtEquals && bytes[end] == UInt8(ascii: "=")) {
            end += 1
        }
        return end
    }

    /// Reads the quoted string at the start of `bytes` (which begins with `"`): returns its
    /// content and how many bytes it took, quotes included. A backslash escapes only `"` and
    /// `\`; before anything else it is a literal backslash, so the unescaped Windows paths
    /// that curl and browsers send (`C:\Users\a.png`) survive, as in Go's mime package. The
    /// content is a slice of `bytes` unless an escape had to be removed.
    static func unquote(_ bytes: ArraySlice<UInt8>) throws(FormParseError) -> (value: ArraySlice<UInt8>, length: Int) {
        let start = bytes.startIndex + 1
        var escaped: [UInt8]?
        var index = start
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                return (escaped.map { $0[...] } ?? bytes[start..<index], index + 1 - bytes.startIndex)
            }
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.endIndex,
               bytes[index + 1] == UInt8(ascii: "\"") || bytes[index + 1] == UInt8(ascii: "\\") {
                if escaped == nil { escaped = Array(bytes[start..<index]) }
                index += 1
                escaped?.append(bytes[index])
            } else {
                escaped?.append(byte)
            }
            index += 1
        }
        throw FormParseError(reason: "a quoted value is not closed")
    }
}

/// Whether `bytes` spell `text` (ASCII), letters compared without regard to case. Lengths
/// first, then bytes in place: most comparisons are of different names (each part's header
/// lines and parameters against the few that matter), and the generic `elementsEqual` over
/// a String's UTF-8 view cost about 2,000 instructions per part.
private func asciiCaseInsensitiveEquals(_ bytes: ArraySlice<UInt8>, _ text: StaticString) -> Bool {
    guard bytes.count == text.utf8CodeUnitCount else { return false }
    return bytes.withUnsafeBufferPointer { bytes in
        let text = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        return zip(bytes, text).allSatisfy { lowercasedASCII($0) == lowercasedASCII($1) }
    }
}

private func lowercasedASCII(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
}

/// How `ByteSearch` skips positions where the needle cannot start: 16 at a time with the SSE2
/// compares every x86-64 CPU has, or 64 at a time with AVX2 (a C kernel, CVectorKernels) where the
/// CPU has it.
enum CandidateFilter: Sendable, CaseIterable {
    case sse2
    case avx2

    /// The filter of the kernel level in force (`VectorKernel.best`: below AVX2, SSE2's).
    static var best: CandidateFilter { VectorKernel.best.level >= VectorKernel.avx2.level ? .avx2 : .sse2 }

    /// The filters this CPU runs, whatever the cap.
    static let available: [CandidateFilter] = VectorKernel.cpuBest.level >= VectorKernel.avx2.level ? [.sse2, .avx2] : [.sse2]
}

/// A fixed needle (3 to 74 bytes: a delimiter or the first boundary line), found by a SIMD
/// filter 16 positions at a time: a position is a candidate only when both the needle's first
/// byte and its last byte (length - 1 further on) are there, which in random media happens about
/// once per 64 KiB, whatever the needle's length. Candidates are confirmed by the second byte,
/// then `memcmp`. On 5 MiB of random bytes (docs/performance.md) it runs 15-16 GB/s for any
/// needle, where the Boyer-Moore-Horspool scan it replaces ran 1.6 GB/s for a 1-character
/// boundary, 11 GB/s for 32 characters and 21 GB/s for 70: its steps are the needle's length.
/// Bytes built to be candidates everywhere (`\r` and the last byte, alternating) slow it to
/// about 1 GB/s, still linear.
private struct ByteSearch: Sendable {
    let needle: ArraySlice<UInt8>
    let filter: CandidateFilter

    /// `needle` starts with `--` or a line end and `--`, so it always has a second byte.
    init(_ needle: ArraySlice<UInt8>, filter: CandidateFilter) {
        self.needle = needle
        self.filter = filter
    }

    var count: Int { needle.count }

    /// The offset of the first occurrence of the needle in `haystack`. Offsets use wrapping
    /// arithmetic: every one stays below `haystack.count`, and overflow checks would double the
    /// instructions of the loop.
    func firstOffset(in haystack: UnsafeRawBufferPointer) -> Int? {
        guard let base = haystack.baseAddress, haystack.count >= needle.count else { return nil }
        return needle.withUnsafeBufferPointer { needle in
            guard let needleBase = needle.baseAddress else { return nil }
            let length = needle.count
            let first = needle[0], second = needle[1], last = needle[length - 1]
            let bytes = base.assumingMemoryBound(to: UInt8.self)
            let lastStart = haystack.count &- length
            let lastOffset = length &- 1
            let firstBytes = SIMD16<UInt8>(repeating: first), lastBytes = SIMD16<UInt8>(repeating: last)
            /// The 16 positions from `start` as two words, a byte 0xFF where the first and last
            /// bytes match (`any` on a mask is a call to a reduction; this is an OR and a test).
            /// Both loads stay inside the haystack while start + 15 <= lastStart.
            func candidates(_ start: Int) -> SIMD2<UInt64> {
                let heads = base.loadUnaligned(fromByteOffset: start, as: SIMD16<UInt8>.self)
                let tails = base.loadUnaligned(fromByteOffset: start &+ lastOffset, as: SIMD16<UInt8>.self)
                return unsafeBitCast((heads .== firstBytes) .& (tails .== lastBytes), to: SIMD2<UInt64>.self)
            }
            /// The first candidate that is the needle, confirmed by its second byte, then whole.
            func match(in lanes: SIMD2<UInt64>, from start: Int) -> Int? {
                for half in 0..<2 {
                    var word = lanes[half]
                    while word != 0 {
                        let bit = word.trailingZeroBitCount & ~7
                        let candidate = start &+ half &* 8 &+ bit &>> 3
                        if bytes[candidate &+ 1] == second, memcmp(bytes + candidate, needleBase, length) == 0 {
                            return candidate
                        }
                        word &= ~(0xFF << UInt64(bit))
                    }
                }
                return nil
            }
            /// The first needle among the 64 positions from `start` (only where a filter saw a
            /// candidate: it recomputes the four blocks' candidates).
            func match(inBlockAt start: Int) -> Int? {
                match(in: candidates(start), from: start) ?? match(in: candidates(start &+ 16), from: start &+ 16)
                    ?? match(in: candidates(start &+ 32), from: start &+ 32) ?? match(in: candidates(start &+ 48), from: start &+ 48)
            }
            var start = 0
            if filter == .avx2 {
                // The C kernel skips blocks of 64 positions without a candidate at twice the
                // speed of the SSE2 loop below; a block it stops at is confirmed here.
                while start &+ 63 <= lastStart {
                    start = cmedia_first_candidate_block(bytes, start, lastStart &+ 1, first, last, lastOffset)
                    guard start &+ 63 <= lastStart else { break }
                    if let found = match(inBlockAt: start) { return found }
                    start &+= 64
                }
            }
            // 64 positions per step, one test for all four blocks: in random media a block has
            // a candidate about once per 64 KiB.
            while start &+ 63 <= lastStart {
                let a = candidates(start), b = candidates(start &+ 16)
                let c = candidates(start &+ 32), d = candidates(start &+ 48)
                let any = a | b | c | d
                if any[0] | any[1] != 0, let found = match(inBlockAt: start) { return found }
                start &+= 64
            }
            while start &+ 15 <= lastStart {
                let lanes = candidates(start)
                if lanes[0] | lanes[1] != 0, let found = match(in: lanes, from: start) { return found }
                start &+= 16
            }
            while start <= lastStart {
                if bytes[start] == first, bytes[start &+ lastOffset] == last, bytes[start &+ 1] == second,
                   memcmp(bytes + start, needleBase, length) == 0 {
                    return start
                }
                start &+= 1
            }
            return nil
        }
    }

    /// The length of the longest tail of `window` that is a proper prefix of the needle: bytes
    /// that may turn out to start it once the next piece arrives.
    func partialMatchLength(atEndOf window: UnsafeRawBufferPointer) -> Int {
        guard let base = window.baseAddress else { return 0 }
        return needle.withUnsafeBytes { needle in
            guard let needleBase = needle.baseAddress else { return 0 }
            var start = max(0, window.count - needle.count + 1)
            while start < window.count {
                guard let hit = memchr(base + start, Int32(needle[0]), window.count - start) else { return 0 }
                start = UnsafeRawPointer(hit) - base
                if memcmp(base + start, needleBase, window.count - start) == 0 {
                    return window.count - start
                }
                start += 1
            }
            return 0
        }
    }
}

/// The offset of the first `byte` in `bytes`, found with `memchr`.
private func firstOffset(of byte: UInt8, in bytes: UnsafeRawBufferPointer) -> Int? {
    guard let base = bytes.baseAddress, let hit = memchr(base, Int32(byte), bytes.count) else { return nil }
    return UnsafeRawPointer(hit) - base
}

private func trimmingSpaceAndTab(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else {
        return []
    }
    return bytes[first...last]
}

/// Bytes for an error message: `'text'` with CR, LF and other control bytes escaped, cut at
/// 80 bytes.
private func quotedForMessage(_ bytes: some Collection<UInt8>) -> String {
    var text = ""
    for byte in bytes.prefix(80) {
        switch byte {
        case UInt8(ascii: "\r"): text += "\\r"
        case UInt8(ascii: "\n"): text += "\\n"
        case 0x20..<0x7F: text.unicodeScalars.append(Unicode.Scalar(byte))
        default: text += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        }
    }
    return "'\(text)\(bytes.count > 80 ? "…" : "")'"
}
