import Testing
@testable import TwitterUploadMock

/// Feeds `body` in the given piece sizes and returns the fields, or the parse error.
func parseMultipart(_ body: [UInt8], boundary: String, pieces: [Int]? = nil) throws -> [(FormFieldHead, [UInt8])] {
    var parser = MultipartParser(boundary: boundary)
    var fields: [(FormFieldHead, [UInt8])] = []
    let collect: (FormEvent) throws -> Void = { event in
        switch event {
        case .fieldBegin(let head): fields.append((head, []))
        case .fieldData(let bytes): fields[fields.count - 1].1.append(contentsOf: bytes)
        case .fieldEnd: break
        }
    }
    var offset = 0
    var sizes = pieces ?? [body.count]
    while offset < body.count {
        let size = min(sizes.isEmpty ? body.count : sizes.removeFirst(), body.count - offset)
        try body[offset..<offset + size].withUnsafeBytes { try parser.feed($0, collect) }
        offset += size
    }
    try parser.finish(collect)
    return fields
}

@Suite("Multipart parser")
struct MultipartParserTests {
    static let binary: [UInt8] = Array("\r\n--boun\r\n-\r\n--".utf8) + (0..<300).map { UInt8(truncatingIfNeeded: $0 * 7) } + Array("\r\n--boun".utf8)

    static func body(final: String = "\r\n", preamble: String = "") -> [UInt8] {
        Array((preamble + "--bound\r\nContent-Disposition: form-data; name=\"command\"\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nAPPEND\r\n"
               + "--bound\r\ncontent-disposition: form-data; name=media; filename=\"C:\\\\path\\\\clip.mp4\"\r\n\r\n").utf8)
            + binary + Array("\r\n--bound--\(final)".utf8)
    }

    @Test("splitting the body at every position gives the same fields")
    func everySplitPoint() throws {
        let body = Self.body()
        let whole = try parseMultipart(body, boundary: "bound")
        #expect(whole.map(\.0.name) == ["command", "media"])
        #expect(whole[1].1 == Self.binary)
        #expect(whole[1].0.filename == "C:\\path\\clip.mp4")
        #expect(whole[0].0.contentType == "text/plain; charset=UTF-8")
        for split in 1..<body.count {
            let fields = try parseMultipart(body, boundary: "bound", pieces: [split])
            #expect(fields.map(\.1) == whole.map(\.1), "split at \(split)")
        }
        for size in [1, 2, 3, 5, 11, 64] {
            let fields = try parseMultipart(body, boundary: "bound", pieces: Array(repeating: size, count: body.count))
            #expect(fields.map(\.1) == whole.map(\.1), "pieces of \(size)")
        }
    }

    @Test("mutated and random bodies in random pieces never crash the parser")
    func fuzz() {
        var generator = SeededGenerator(seed: 11)
        let valid = Self.body()
        for round in 0..<2000 {
            var body = round % 4 == 0
                ? (0..<Int.random(in: 0..<400, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                : valid
            if round % 4 != 0 {
                for _ in 0..<Int.random(in: 1...6, using: &generator) {
                    body[Int.random(in: 0..<body.count, using: &generator)] = [13, 10, 45, 34, 59, 0, 98].randomElement(using: &generator)!
                }
                body = Array(body.prefix(Int.random(in: 0...body.count, using: &generator)))
            }
            let pieces = (0..<64).map { _ in Int.random(in: 1...40, using: &generator) }
            _ = try? parseMultipart(body, boundary: "bound", pieces: pieces)
        }
    }

    @Test("preamble, no final CRLF and an epilogue are accepted", arguments: ["", "\r\n", "\r\n\r\nepilogue"])
    func realClientEndings(_ ending: String) throws {
        let fields = try parseMultipart(Self.body(final: ending, preamble: "This is a preamble.\r\n"), boundary: "bound")
        #expect(fields.count == 2)
    }

    @Test("bare LF line ends are understood")
    func bareLF() throws {
        let body = Array("--b\nContent-Disposition: form-data; name=\"a\"\n\nvalue\n--b--\n".utf8)
        let fields = try parseMultipart(body, boundary: "b")
        #expect(fields.map(\.1) == [Array("value".utf8)])
    }

    @Test("filename* is decoded")
    func extendedFilename() throws {
        let body = Array("--b\r\nContent-Disposition: form-data; name=\"media\"; filename*=UTF-8''caf%C3%A9.png\r\n\r\nx\r\n--b--".utf8)
        #expect(try parseMultipart(body, boundary: "b")[0].0.filename == "café.png")
    }

    @Test("malformed bodies name what is wrong", arguments: [
        ("", "empty"),
        ("garbage", "no boundary line"),
        ("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue", "before the closing boundary"),
        ("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n", "inside the headers"),
        ("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "no Content-Disposition"),
        ("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "no field name"),
        ("--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--", "not form-data"),
        ("--bXYZ\r\n", "unexpected bytes after the boundary"),
    ])
    func malformed(_ text: String, _ reason: String) {
        #expect {
            _ = try parseMultipart(Array(text.utf8), boundary: "b")
        } throws: { error in
            (error as? FormParseError)?.reason.contains(reason) == true
        }
    }

    @Test("boundaries are found however the client wrote the Content-Type", arguments: [
        ("multipart/form-data; boundary=abc", "abc"),
        ("multipart/form-data; boundary=\"a b;c\"", "a b;c"),
        ("multipart/form-data, boundary=\"twurl\"", "twurl"),
        ("Multipart/Form-Data; Boundary=xyz; charset=utf-8", "xyz"),
        ("multipart/form-data;boundary=tight", "tight"),
    ])
    func boundaries(_ header: String, _ expected: String) throws {
        #expect(try MultipartParser.boundary(fromContentType: header) == expected)
    }

    @Test("unusable Content-Types are refused", arguments: [
        "multipart/form-data", "multipart/form-data; boundary=", "text/plain; boundary=x",
        "multipart/form-data; boundary=" + String(repeating: "x", count: 71),
    ])
    func badBoundaries(_ header: String) {
        #expect(throws: FormParseError.self) { try MultipartParser.boundary(fromContentType: header) }
    }
}

@Suite("Urlencoded parser and base64 decoder")
struct URLEncodedAndBase64Tests {
    func parse(_ text: String, pieces: Int) throws -> [(String, String)] {
        var parser = URLEncodedFormParser()
        var fields: [(String, [UInt8])] = []
        let collect: (FormEvent) throws -> Void = { event in
            switch event {
            case .fieldBegin(let head): fields.append((head.name, []))
            case .fieldData(let bytes): fields[fields.count - 1].1.append(contentsOf: bytes)
            case .fieldEnd: break
            }
        }
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: pieces) {
            try bytes[start..<min(start + pieces, bytes.count)].withUnsafeBytes { try parser.feed($0, collect) }
        }
        try parser.finish(collect)
        return fields.map { ($0.0, String(decoding: $0.1, as: UTF8.self)) }
    }

    @Test("escapes that straddle pieces decode the same", arguments: [1, 2, 3, 100])
    func straddlingEscapes(_ pieces: Int) throws {
        let fields = try parse("command=INIT&media_type=video%2Fmp4&&name+x=a+b%26c&flag", pieces: pieces)
        #expect(fields.map(\.0) == ["command", "media_type", "name x", "flag"])
        #expect(fields.map(\.1) == ["INIT", "video/mp4", "a b&c", ""])
    }

    @Test("invalid escapes name the field", arguments: ["a=%G1", "a=%4", "a=1%"])
    func invalidEscapes(_ text: String) {
        #expect {
            _ = try parse(text, pieces: 1)
        } throws: { error in
            (error as? FormParseError)?.reason.contains("'a'") == true
        }
    }

    func decode(_ text: String, pieces: Int = 1) throws -> [UInt8] {
        var decoder = Base64StreamDecoder()
        var output: [UInt8] = []
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: pieces) {
            try bytes[start..<min(start + pieces, bytes.count)].withUnsafeBytes { try decoder.decode($0, into: &output) }
        }
        try decoder.finish(into: &output)
        return output
    }

    @Test("base64 decodes in any piece size, with or without padding and line breaks")
    func base64() throws {
        for pieces in [1, 3, 7] {
            #expect(try decode("aGVsbG8gd29y\r\nbGQ=", pieces: pieces) == Array("hello world".utf8))
            #expect(try decode("aGVsbG8gd29ybGQ", pieces: pieces) == Array("hello world".utf8))
            #expect(try decode("YQ==", pieces: pieces) == [UInt8(ascii: "a")])
        }
    }

    @Test("invalid base64 is refused with the offset", arguments: ["NTY3*A==", "YQ==YQ==", "Y", "a-b_", "=YQ"])
    func invalidBase64(_ text: String) {
        #expect(throws: FormParseError.self) { _ = try decode(text) }
    }
}
