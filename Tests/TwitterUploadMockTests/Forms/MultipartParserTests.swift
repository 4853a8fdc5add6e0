import Testing
import UploadMockDomain
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import UploadMockForms

@Suite("Multipart parser")
struct MultipartParserTests {
    /// One field as the events reported it.
    struct Field: Equatable, CustomStringConvertible {
        var head: FormFieldHead
        var value: [UInt8]

        /// Short, so a failed comparison of large payloads stays readable.
        var description: String {
            "\(head): \(value.count) bytes, \(value.prefix(24).map(String.init))\(value.count > 24 ? "…" : "")"
        }
    }

    /// What parsing a body gave: its fields, or the reason it was refused.
    enum Outcome: Equatable {
        case fields([Field])
        case refused(String)
    }


    /// Feeds `body` in pieces of the given sizes (the last size repeats; none = one piece),
    /// checks that the events are well formed, and returns the fields.
    static func parse(_ body: [UInt8], boundary: String = "b", pieces: [Int] = [],
                      filter: CandidateFilter = .best) throws -> [Field] {
        var parser = MultipartParser(boundary: boundary, filter: filter)
        var fields: [Field] = []
        var open = false
        let collect: (FormEvent) -> Void = { event in
            switch event {
            case .fieldBegin(let head):
                #expect(!open, "a field began before the previous one ended")
                fields.append(Field(head: head, value: []))
                open = true
            case .fieldData(let bytes):
                #expect(open && !bytes.isEmpty, "data outside a field, or empty data")
                fields[fields.count - 1].value.append(contentsOf: bytes)
            case .fieldEnd:
                #expect(open, "a field ended that had not begun")
                open = false
            }
        }
        try feedInPieces(body, pieces: pieces) { try parser.feed($0, collect) }
        try parser.finish(collect)
        #expect(!open, "the body was accepted with a field still open")
        return fields
    }

    static func outcome(_ body: [UInt8], boundary: String = "b", pieces: [Int] = [],
                        filter: CandidateFilter = .best) -> Outcome {
        do {
            return .fields(try parse(body, boundary: boundary, pieces: pieces, filter: filter))
        } catch let error as FormParseError {
            return .refused(error.reason)
        } catch {
            Issue.record("unexpected error \(error)")
            return .refused("\(error)")
        }
    }

    static func reason(_ text: String, boundary: String = "b") -> String? {
        if case .refused(let reason) = outcome(Array(text.utf8), boundary: boundary) { return reason }
        return nil
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Binary data full of near-delimiters for boundary "bound": `\r\n--`, `\r\n--boun`, a
    /// lone CR, `--bound` not preceded by a line end, and every byte value.
    static let trickyPayload: [UInt8] = bytes("\r\n--boun\r\n-\r\n--\r\r\n--bounX--bound\r\n\n--bound")
        + (0...255).map { UInt8($0) } + bytes("\r\n--boun")

    /// An APPEND as xurl sends it (text fields first, media last), with a tricky payload.
    static let appendBody: [UInt8] = bytes("""
        --bound\r
        Content-Disposition: form-data; name="command"\r
        Content-Type: text/plain; charset=UTF-8\r
        \r
        APPEND\r
        --bound\r
        Content-Disposition: form-data; name="media_id"\r
        \r
        1349803915521482754\r
        --bound\r
        Content-Disposition: form-data; name="segment_index"\r
        \r
        0\r
        --bound\r
        Content-Disposition: form-data; name="media"; filename="clip.mp4"\r
        Content-Type: application/octet-stream\r
        \r

        """) + trickyPayload + bytes("\r\n--bound--\r\n")

    static let appendFields: [Field] = [
        Field(head: FormFieldHead(name: "command", contentType: "text/plain; charset=UTF-8"), value: bytes("APPEND")),
        Field(head: FormFieldHead(name: "media_id"), value: bytes("1349803915521482754")),
        Field(head: FormFieldHead(name: "segment_index"), value: bytes("0")),
        Field(head: FormFieldHead(name: "media", filename: "clip.mp4", contentType: "application/octet-stream"),
              value: trickyPayload),
    ]

    // MARK: - Content-Type

    @Test("the boundary is found however the client wrote the Content-Type", arguments: [
        ("multipart/form-data; boundary=abc", "abc"),
        ("multipart/form-data; boundary=\"a b;c\"", "a b;c"),
        ("multipart/form-data, boundary=\"twurl-boundary\"", "twurl-boundary"),
        ("multipart/form-data; Boundary=xyz", "xyz"),
        ("Multipart/Form-Data; BOUNDARY=xyz; charset=utf-8", "xyz"),
        ("multipart/form-data; charset=utf-8; boundary=last", "last"),
        ("  multipart/form-data ;   boundary =  spaced  ; charset=utf-8 ", "spaced"),
        ("multipart/form-data;boundary=tight", "tight"),
        ("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", "----WebKitFormBoundary7MA4YWxkTrZu0gW"),
        ("multipart/form-data; boundary=\"q\\\"uote\"", "q\"uote"),
        ("multipart/form-data; boundary=" + String(repeating: "7", count: 70), String(repeating: "7", count: 70)),
    ])
    func boundaries(_ header: String, _ expected: String) throws {
        #expect(try MultipartParser.boundary(fromContentType: header) == expected)
    }

    @Test("unusable Content-Types are refused with the reason", arguments: [
        ("text/plain; boundary=x", "is not multipart/form-data"),
        ("multipart/mixed; boundary=x", "is not multipart/form-data"),
        ("", "is not multipart/form-data"),
        ("multipart/form-data", "has no boundary parameter"),
        ("multipart/form-data; charset=utf-8", "has no boundary parameter"),
        ("multipart/form-data; boundary=", "has an empty boundary"),
        ("multipart/form-data; boundary=\"\"", "has an empty boundary"),
        ("multipart/form-data; boundary=a; boundary=b", "more than one boundary"),
        ("multipart/form-data; boundary=\"open", "a quoted value is not closed"),
        ("multipart/form-data; boundary=\"a\"b", "after the quoted value of boundary"),
        ("multipart/form-data; boundary=" + String(repeating: "x", count: 71), "71 bytes long; RFC 2046 allows at most 70"),
        ("multipart/form-data; boundary=caf\u{E9}", "has bytes other than printable ASCII"),
        ("multipart/form-data; boundary=\"a\tb\"", "has bytes other than printable ASCII"),
    ])
    func badContentTypes(_ header: String, _ reason: String) {
        #expect {
            try MultipartParser.boundary(fromContentType: header)
        } throws: { error in
            (error as? FormParseError)?.reason.contains(reason) == true
        }
    }

    // MARK: - Splitting

    @Test("an APPEND body gives its four fields, the payload byte for byte")
    func appendBody() throws {
        #expect(try Self.parse(Self.appendBody, boundary: "bound") == Self.appendFields)
    }

    @Test("splitting the body in two at every position gives the same fields")
    func everySplitPoint() {
        for split in 1..<Self.appendBody.count {
            #expect(Self.outcome(Self.appendBody, boundary: "bound", pieces: [split, Self.appendBody.count]) == .fields(Self.appendFields),
                    "split at \(split)")
        }
    }

    @Test("splitting the body in three at every pair of positions gives the same fields")
    func everyPairOfSplitPoints() {
        let body = Self.bytes("--bound\r\nContent-Disposition: form-data; name=m\r\n\r\n") + Self.bytes("x\r\n--boun\r\n-\r\n--bound--")
        let expected = Self.outcome(body, boundary: "bound")
        #expect(expected == .fields([Field(head: FormFieldHead(name: "m"), value: Self.bytes("x\r\n--boun\r\n-"))]))
        for first in 1..<body.count {
            for second in 1..<(body.count - first) {
                #expect(Self.outcome(body, boundary: "bound", pieces: [first, second, body.count]) == expected,
                        "pieces \(first), \(second), rest")
            }
        }
    }

    @Test("pieces of every fixed size give the same fields")
    func everyPieceSize() {
        for size in 1...Self.appendBody.count {
            #expect(Self.outcome(Self.appendBody, boundary: "bound", pieces: [size]) == .fields(Self.appendFields), "pieces of \(size)")
        }
    }

    @Test("a large body in random pieces gives the same fields, with each delimiter filter the CPU runs",
          arguments: CandidateFilter.available)
    func randomPieces(_ filter: CandidateFilter) throws {
        var generator = SeededGenerator(seed: 2024)
        let boundary = "----------------------------7d8c2f1e3b9a40c6a5e1"
        var payload = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // Sprinkle near-delimiters through the payload.
        let near = Self.bytes("\r\n--" + boundary.dropLast())
        for _ in 0..<200 {
            let at = Int.random(in: 0..<(payload.count - near.count), using: &generator)
            let length = Int.random(in: 1...near.count, using: &generator)
            payload.replaceSubrange(at..<at + length, with: near.prefix(length))
        }
        let body = Self.bytes("--\(boundary)\r\nContent-Disposition: form-data; name=\"media\"; filename=\"blob\"\r\n\r\n")
            + payload + Self.bytes("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"command\"\r\n\r\nAPPEND\r\n--\(boundary)--")
        let expected: Outcome = .fields([Field(head: FormFieldHead(name: "media", filename: "blob"), value: payload),
                                         Field(head: FormFieldHead(name: "command"), value: Self.bytes("APPEND"))])
        for round in 0..<40 {
            let limit = [3, 60, 700, 20_000][round % 4]
            let pieces = (0..<2_000).map { _ in Int.random(in: 1...limit, using: &generator) }
            #expect(Self.outcome(body, boundary: boundary, pieces: pieces, filter: filter) == expected, "round \(round)")
        }
    }

    /// The delimiter scan looks at 16 (and 64) positions at a time through the needle's first and last
    /// bytes: the delimiter must be found at every position within such a block, behind near
    /// misses that share those two bytes (or the first two), for boundaries of every allowed length.
    @Test("boundaries of 1 to 70 characters are found at every offset, behind near misses, with each filter",
          arguments: CandidateFilter.available, [1, 2, 3, 8, 16, 31, 32, 40, 69, 70])
    func everyBoundaryLengthAndOffset(_ filter: CandidateFilter, _ length: Int) throws {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?".utf8)
        let boundary = String(decoding: (0..<length).map { alphabet[($0 * 7 + length) % alphabet.count] }, as: UTF8.self)
        let delimiter = Self.bytes("\r\n--" + boundary)
        var nearMiss = delimiter
        nearMiss[nearMiss.count / 2 + 1] ^= 0x20  // first, second and last bytes right, one in between wrong
        var secondWrong = delimiter
        secondWrong[1] = UInt8(ascii: "x")  // first and last bytes right, the second wrong
        let head = Self.bytes("--\(boundary)\r\nContent-Disposition: form-data; name=\"media\"\r\n\r\n")
        let tail = Self.bytes("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n1\r\n--\(boundary)--")
        for offset in 0..<136 {
            var payload = (0..<offset).map { UInt8(truncatingIfNeeded: $0 &* 37) } + secondWrong
            if length > 1 { payload += nearMiss }
            payload += [0x0D, 0x0D, 0x0A] + (0..<offset).map { UInt8(truncatingIfNeeded: $0 &* 11 &+ 1) }
            let expected: Outcome = .fields([Field(head: FormFieldHead(name: "media"), value: payload),
                                             Field(head: FormFieldHead(name: "n"), value: Self.bytes("1"))])
            let body = head + payload + tail
            #expect(Self.outcome(body, boundary: boundary, filter: filter) == expected, "boundary of \(length), offset \(offset)")
            #expect(Self.outcome(body, boundary: boundary, pieces: [head.count + offset + 3, 17], filter: filter) == expected,
                    "boundary of \(length), offset \(offset), in pieces")
        }
    }

    @Test("mutated bodies give the same fields or the same error in any pieces, and never crash")
    func mutatedBodies() {
        var generator = SeededGenerator(seed: 11)
        let alphabet = Self.bytes("\r\n-bound\";=: ")
        for round in 0..<1_500 {
            var body = Self.appendBody
            if round % 5 == 0 {
                body = (0..<Int.random(in: 0..<300, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            } else {
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    body[Int.random(in: 0..<body.count, using: &generator)] = alphabet.randomElement(using: &generator)!
                }
                body = Array(body.prefix(Int.random(in: (body.count - 40)...body.count, using: &generator)))
            }
            let whole = Self.outcome(body, boundary: "bound")
            let pieces = (0..<100).map { _ in Int.random(in: 1...12, using: &generator) }
            #expect(Self.outcome(body, boundary: "bound", pieces: pieces) == whole, "round \(round)")
        }
    }

    // MARK: - Real clients

    @Test("python-twitter's body with nothing after the closing boundary, Twitter4J's extra CRLF, and an epilogue",
          arguments: ["", "\r\n", "\r\n\r\n", "\r\nThis is the epilogue.\r\n--b--\r\n", "  trailing garbage"])
    func endings(_ ending: String) throws {
        let fields = try Self.parse(Self.bytes("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--" + ending))
        #expect(fields == [Field(head: FormFieldHead(name: "a"), value: Self.bytes("1"))])
    }

    @Test("a preamble and a blank first line are skipped", arguments: [
        "This is a multi-part message in MIME format.\r\n", "\r\n", "preamble line 1\r\nline 2 mentions --b inside\r\n",
    ])
    func preamble(_ preamble: String) throws {
        let fields = try Self.parse(Self.bytes(preamble + "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--"))
        #expect(fields.map(\.value) == [Self.bytes("1")])
    }

    @Test("a preamble of exactly the limit is accepted, one byte more is refused")
    func preambleLimit() throws {
        let part = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--"
        let preamble = String(repeating: "p", count: MultipartParser.maximumPreambleBytes - 2) + "\r\n"
        #expect(try Self.parse(Self.bytes(preamble + part), pieces: [100]).count == 1)
        #expect(Self.reason("x" + preamble + part)?.contains("does not start with the boundary line '--b' (none in its first 4096 bytes, which start 'xppp") == true)
    }

    @Test("part headers as real clients write them", arguments: [
        // tweepy (requests/urllib3): full path, backslashes doubled inside the quotes.
        ("Content-Disposition: form-data; name=\"media\"; filename=\"C:\\\\Users\\\\me\\\\clip.mp4\"",
         FormFieldHead(name: "media", filename: "C:\\Users\\me\\clip.mp4")),
        // curl and browsers: backslashes as they are.
        ("Content-Disposition: form-data; name=\"media\"; filename=\"C:\\Users\\me\\clip.mp4\"",
         FormFieldHead(name: "media", filename: "C:\\Users\\me\\clip.mp4")),
        ("Content-Disposition: form-data; name=\"media\"; filename=\"/home/me/pic.png\"\r\nContent-Type: image/png",
         FormFieldHead(name: "media", filename: "/home/me/pic.png", contentType: "image/png")),
        ("Content-Disposition: form-data; name=\"media\"; filename=\"say \\\"cheese\\\".png\"",
         FormFieldHead(name: "media", filename: "say \"cheese\".png")),
        ("Content-Disposition: form-data; name=\"media\"; filename=\"a%22b.png\"",
         FormFieldHead(name: "media", filename: "a%22b.png")),
        ("Content-Disposition: form-data; name=\"media\"; filename=\"\"", FormFieldHead(name: "media", filename: "")),
        ("Content-Disposition: form-data; name=media; filename=pic.png", FormFieldHead(name: "media", filename: "pic.png")),
        ("Content-Disposition: form-data; name=\"a;b\"", FormFieldHead(name: "a;b")),
        ("content-disposition: FORM-DATA; NAME=\"media\"\r\nCONTENT-TYPE: video/mp4", FormFieldHead(name: "media", contentType: "video/mp4")),
        ("Content-Disposition:form-data;name=\"x\"", FormFieldHead(name: "x")),
        ("Content-Disposition: form-data ; name = \"x\" ; ", FormFieldHead(name: "x")),
        ("Content-Disposition: form-data; name=\"x\"; size=3; creation-date=\"Wed, 12 Feb 1997 16:29:51 -0500\"", FormFieldHead(name: "x")),
        // Twitter4J's text parts.
        ("Content-Disposition: form-data; name=\"command\"\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit",
         FormFieldHead(name: "command", contentType: "text/plain; charset=UTF-8")),
        ("Content-Transfer-Encoding: binary\r\nX-Custom: 1\r\nContent-Disposition: form-data; name=\"media\"", FormFieldHead(name: "media")),
        ("Content-Disposition: form-data; name=\"media\"; filename*=UTF-8''caf%C3%A9%20cr%C3%A8me.png",
         FormFieldHead(name: "media", filename: "café crème.png")),
        ("Content-Disposition: form-data; name=\"media\"; filename=\"cafe.png\"; filename*=utf-8'fr'caf%C3%A9.png",
         FormFieldHead(name: "media", filename: "café.png")),
        ("Content-Disposition: form-data; name=\"media\"; filename*=ISO-8859-1''caf%E9+1.png", FormFieldHead(name: "media", filename: "café+1.png")),
        ("Content-Disposition: form-data; name=\"media\"; filename=\"caf\u{E9}.png\"", FormFieldHead(name: "media", filename: "café.png")),
    ])
    func partHeaders(_ headers: String, _ expected: FormFieldHead) throws {
        let fields = try Self.parse(Self.bytes("--b\r\n\(headers)\r\n\r\nvalue\r\n--b--"))
        #expect(fields == [Field(head: expected, value: Self.bytes("value"))])
    }

    @Test("a filename in ISO-8859-1 bytes is read as such, not replaced")
    func latin1Filename() throws {
        let body = Self.bytes("--b\r\nContent-Disposition: form-data; name=\"media\"; filename=\"caf") + [0xE9]
            + Self.bytes(".png\"\r\n\r\nx\r\n--b--")
        #expect(try Self.parse(body).first?.head.filename == "café.png")
    }

    @Test("transport padding after a boundary, and empty values")
    func paddingAndEmptyValues() throws {
        let fields = try Self.parse(Self.bytes("--b \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--b\t\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n\r\n\r\n--b-- "))
        #expect(fields == [Field(head: FormFieldHead(name: "a"), value: []), Field(head: FormFieldHead(name: "c"), value: Self.bytes("\r\n"))])
    }

    @Test("a bare-LF body is read with bare-LF delimiters; a CR before them is data")
    func bareLFBody() throws {
        let lfPayload = Self.bytes("\n--boun\r\n--bounX\n-\n--") + (0...255).map { UInt8($0) } + Self.bytes("\n--boun")
        let body = Self.bytes("--bound\nContent-Disposition: form-data; name=\"a\"\n\nvalue\n--bound\ncontent-disposition: form-data; name=media\n\n")
            + lfPayload + Self.bytes("\r\n--bound--\n")
        let expected: Outcome = .fields([Field(head: FormFieldHead(name: "a"), value: Self.bytes("value")),
                                         Field(head: FormFieldHead(name: "media"), value: lfPayload + [13])])
        for size in [1, 2, 5, body.count] {
            #expect(Self.outcome(body, boundary: "bound", pieces: [size]) == expected)
        }
    }

    @Test("header lines may end in bare LF in a CRLF body")
    func bareLFHeaders() throws {
        let body = Self.bytes("--b\r\nContent-Disposition: form-data; name=\"a\"\nContent-Type: text/plain\n\nx\ny\r\n--b--")
        #expect(try Self.parse(body) == [Field(head: FormFieldHead(name: "a", contentType: "text/plain"), value: Self.bytes("x\ny"))])
    }

    @Test("zero copy: part data are slices of the caller's buffer")
    func zeroCopy() throws {
        var parser = MultipartParser(boundary: "bound")
        try Self.appendBody.withUnsafeBytes { body in
            let range = UInt(bitPattern: body.baseAddress!)..<UInt(bitPattern: body.baseAddress! + body.count)
            var slices = 0
            try parser.feed(body) { event in
                if case .fieldData(let bytes) = event {
                    #expect(range.contains(UInt(bitPattern: bytes.baseAddress!)))
                    slices += 1
                }
            }
            #expect(slices == 4)
        }
        try parser.finish { _ in Issue.record("finish reported an event") }
    }


    // MARK: - Refusals

    @Test("bodies that end early say where", arguments: [
        ("", "the multipart body is empty"),
        ("--b", "ended on its first boundary line, before any part"),
        ("--b\r", "ended on its first boundary line, before any part"),
        ("--b\r\n", "ended inside the headers of part 1"),
        ("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n", "ended inside the headers of part 1 (\"a\")"),
        ("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; name=\"media\"\r\nContent-Ty",
         "ended inside the headers of part 2 (\"media\")"),
        ("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue", "ended inside part 1 (\"a\") before the closing boundary '--b--'"),
        ("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--", "ended inside part 1 (\"a\") before the closing boundary"),
        ("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--b", "ended after part 1 (\"a\"), on a boundary line without the closing '--b--'"),
        ("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--b-", "ended inside the closing boundary '--b--' after part 1 (\"a\")"),
        ("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--b\r\n", "ended inside the headers of part 2"),
    ])
    func truncated(_ body: String, _ reason: String) {
        #expect(Self.reason(body)?.contains(reason) == true, "\(String(describing: Self.reason(body)))")
    }

    @Test("malformed bodies are refused with a precise reason", arguments: [
        ("garbage", "has no boundary line '--b' (it starts 'garbage')"),
        ("--other\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--other--", "has no boundary line '--b' (it starts '--other\\r\\nContent"),
        ("x--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b--", "closes at its first boundary line, before any part"),
        ("--b--", "closes at its first boundary line, before any part"),
        ("--bXYZ\r\n", "the first boundary line '--b' is followed by 'X' where a line end or '--' should be"),
        ("--b-x", "the first boundary line '--b' is followed by 'x' where a second '-' to close the body should be"),
        ("--b\rx", "is followed by 'x' where LF after CR should be"),
        ("--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--bX", "the boundary line '--b' after part 1 (\"a\") is followed by 'X'"),
        ("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "part 1 has no Content-Disposition header"),
        ("--b\r\n\r\nx\r\n--b--", "part 1 has no Content-Disposition header"),
        ("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "part 1 has no field name in its Content-Disposition 'form-data'"),
        ("--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--b--", "part 1 has no field name"),
        ("--b\r\nContent-Disposition: form-data; filename=\"a.png\"\r\n\r\nx\r\n--b--", "part 1 has no field name"),
        ("--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--", "part 1 has Content-Disposition 'attachment; name=a', which is not form-data"),
        ("--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--", "part 1 has a malformed Content-Disposition 'form-data; name=\"a': a quoted value is not closed"),
        ("--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n--b--", "more than one 'name'"),
        ("--b\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n\r\nx\r\n--b--", "part 1 (\"a\") has more than one Content-Disposition header"),
        ("--b\r\nContent-Type: a\r\nContent-Type: b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b--", "more than one Content-Type header"),
        ("--b\r\nContent-Disposition: form-data; name=media; filename*=UTF-8''%FF.png\r\n\r\nx\r\n--b--", "has a filename* that is not"),
        ("--b\r\nContent-Disposition: form-data; name=media; filename*=koi8-r''a.png\r\n\r\nx\r\n--b--", "has a filename* that is not"),
        ("--b\r\nContent-Disposition: form-data; name=media; filename*=a.png\r\n\r\nx\r\n--b--", "has a filename* that is not"),
        ("--b\r\nContent-Disposition: form-data; name=a\r\nno colon here\r\n\r\nx\r\n--b--", "part 1 (\"a\") has a header line without ':' ('no colon here')"),
        ("--b\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nx\r\n--b--", "has a folded header line"),
        ("--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b\nContent-Disposition: form-data; name=c\r\n\r\n2\r\n--b--",
         "the boundary line after part 1 (\"a\") ends in a bare LF, but the first one ended in CRLF"),
        ("--b\nContent-Disposition: form-data; name=a\n\n1\n--b\r\nContent-Disposition: form-data; name=c\n\n2\n--b--",
         "the boundary line after part 1 (\"a\") ends in CRLF, but the first one ended in a bare LF"),
        ("--b \r\n", "ended inside the headers of part 1"),
    ])
    func malformed(_ body: String, _ reason: String) {
        let actual = Self.reason(body)
        #expect(actual?.contains(reason) == true, "\(actual ?? "accepted")")
    }

    @Test("a header block over 16 KiB is refused as soon as it is seen; one of exactly 16 KiB is read")
    func headerLimit() throws {
        let disposition = "Content-Disposition: form-data; name=\"a\"\r\n"
        let filler = { (count: Int) in "X-Filler: " + String(repeating: "f", count: count - 12) + "\r\n" }
        let exact = disposition + filler(MultipartParser.maximumHeaderBytes - disposition.utf8.count - 2) + "\r\n"
        #expect(exact.utf8.count == MultipartParser.maximumHeaderBytes)
        #expect(try Self.parse(Self.bytes("--b\r\n" + exact + "x\r\n--b--"), pieces: [1000]).count == 1)
        let over = disposition + filler(MultipartParser.maximumHeaderBytes - disposition.utf8.count - 1) + "\r\n"
        var parser = MultipartParser(boundary: "b")
        #expect {
            try Self.bytes("--b\r\n" + over).withUnsafeBytes { try parser.feed($0) { _ in } }
        } throws: { error in
            (error as? FormParseError)?.reason == "the headers of part 1 (\"a\") are longer than 16384 bytes"
        }
    }
}

/// Throughput, for a person to run by hand in release mode (a timed unit test would be flaky):
/// `FORM_PARSER_THROUGHPUT=1 swift test -c release -Xswiftc -enable-testing --filter Throughput`
@Suite("Form parser throughput", .enabled(if: getenv("FORM_PARSER_THROUGHPUT") != nil))
struct FormParserThroughput {
    /// Runs `body` `rounds` times over `bytes` bytes each and prints the rate.
    static func measure(_ label: String, bytes: Int, rounds: Int, _ body: () throws -> Void) rethrows {
        try body()  // warm-up
        let elapsed = try ContinuousClock().measure {
            for _ in 0..<rounds { try body() }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(bytes * rounds) / seconds / 1e9
        print("\(label): \((rate * 100).rounded() / 100) GB/s (\(rounds) × \(bytes) bytes in \((seconds * 1000).rounded()) ms)")
    }

    @Test("a 5 MiB multipart APPEND in 256 KiB pieces")
    func multipartAppend() throws {
        var generator = SeededGenerator(seed: 1)
        let boundary = "------------------------d74496d66958873e"
        let head = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"command\"\r\n\r\nAPPEND\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"media_id\"\r\n\r\n1349803915521482754\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"segment_index\"\r\n\r\n0\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"media\"; filename=\"blob\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        let binary = (0..<5 * 1024 * 1024).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // Text that shares many bytes with the delimiter: hex digits, dashes and CRLF lines.
        let text = (0..<5 * 1024 * 1024).map { index in
            index % 78 == 76 ? 13 : index % 78 == 77 ? 10 : Array("0123456789abcdef-".utf8).randomElement(using: &generator)!
        }
        var received: [UInt8] = []
        received.reserveCapacity(binary.count)
        for (media, copying) in [(binary, false), (binary, true), (text, false)] {
            let body = head + media + Array("\r\n--\(boundary)--\r\n".utf8)
            let label = "multipart, \(media == binary ? "random bytes" : "hex text lines"), \(copying ? "data copied out" : "parse only")"
            try Self.measure(label, bytes: body.count, rounds: 200) {
                var parser = MultipartParser(boundary: boundary)
                var total = 0
                received.removeAll(keepingCapacity: true)
                let handle: (FormEvent) -> Void = { event in
                    if case .fieldData(let bytes) = event {
                        total += bytes.count
                        if copying { received.append(contentsOf: bytes) }
                    }
                }
                try body.withUnsafeBytes { whole in
                    for start in stride(from: 0, to: whole.count, by: 256 * 1024) {
                        try parser.feed(UnsafeRawBufferPointer(rebasing: whole[start..<min(whole.count, start + 256 * 1024)]), handle)
                    }
                }
                try parser.finish(handle)
                #expect(total == media.count + 6 + 19 + 1)
            }
        }
    }

    @Test("a 5 MiB base64 media_data APPEND, urlencoded, in 256 KiB pieces, decoded as it streams")
    func urlEncodedMediaData() throws {
        var generator = SeededGenerator(seed: 2)
        let media = (0..<5 * 1024 * 1024).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let base64 = Base64StreamDecoderTests.encode(media)
        let escaped = base64.map { character in
            switch character {
            case "+": "%2B"
            case "/": "%2F"
            case "=": "%3D"
            default: String(character)
            }
        }.joined()
        var decoded: [UInt8] = []
        decoded.reserveCapacity(media.count)
        let plain = Array(base64.utf8)
        try Self.measure("base64 decoder alone", bytes: plain.count, rounds: 50) {
            var decoder = Base64StreamDecoder()
            decoded.removeAll(keepingCapacity: true)
            try plain.withUnsafeBytes { whole in
                for start in stride(from: 0, to: whole.count, by: 256 * 1024) {
                    try decoder.decode(UnsafeRawBufferPointer(rebasing: whole[start..<min(whole.count, start + 256 * 1024)]), into: &decoded)
                }
            }
            try decoder.finish(into: &decoded)
            #expect(decoded.count == media.count)
        }
        let body = Array("command=APPEND&media_id=1349803915521482754&segment_index=0&media_data=\(escaped)".utf8)
        try Self.measure("urlencoded media_data, percent- and base64-decoded", bytes: body.count, rounds: 50) {
            var parser = URLEncodedFormParser()
            var decoder = Base64StreamDecoder()
            var inMedia = false
            decoded.removeAll(keepingCapacity: true)
            let handle: (FormEvent) -> Void = { event in
                switch event {
                case .fieldBegin(let head): inMedia = head.name == "media_data"
                case .fieldData(let bytes): if inMedia { #expect(throws: Never.self) { try decoder.decode(bytes, into: &decoded) } }
                case .fieldEnd: if inMedia { #expect(throws: Never.self) { try decoder.finish(into: &decoded) } }
                }
            }
            try body.withUnsafeBytes { whole in
                for start in stride(from: 0, to: whole.count, by: 256 * 1024) {
                    try parser.feed(UnsafeRawBufferPointer(rebasing: whole[start..<min(whole.count, start + 256 * 1024)]), handle)
                }
            }
            try parser.finish(handle)
            #expect(decoded.count == media.count)
        }
    }
}
