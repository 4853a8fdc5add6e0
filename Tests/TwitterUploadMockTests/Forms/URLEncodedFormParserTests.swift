import Testing
import UploadMockDomain
@testable import UploadMockForms

@Suite("Urlencoded form parser")
struct URLEncodedFormParserTests {
    struct Field: Equatable, CustomStringConvertible {
        var name: String
        var value: [UInt8]

        var description: String { "\(name)=\(String(decoding: value.prefix(40), as: UTF8.self)) (\(value.count) bytes)" }

        init(_ name: String, _ value: String) {
            self.name = name
            self.value = Array(value.utf8)
        }

        init(name: String, value: [UInt8]) {
            self.name = name
            self.value = value
        }
    }


    /// Feeds `body` in pieces of the given sizes (the last size repeats; none = one piece),
    /// checks that the events are well formed, and returns the fields and how many
    /// `.fieldData` events carried them.
    static func parse(_ body: [UInt8], pieces: [Int] = [],
                      kernel: VectorKernel = .best) throws -> (fields: [Field], dataEvents: Int) {
        var parser = URLEncodedFormParser(kernel: kernel)
        var fields: [Field] = []
        var open = false
        var dataEvents = 0
        let collect: (FormEvent) -> Void = { event in
            switch event {
            case .fieldBegin(let head):
                #expect(!open && head.filename == nil && head.contentType == nil)
                fields.append(Field(name: head.name, value: []))
                open = true
            case .fieldData(let bytes):
                #expect(open && !bytes.isEmpty, "data outside a field, or empty data")
                fields[fields.count - 1].value.append(contentsOf: bytes)
                dataEvents += 1
            case .fieldEnd:
                #expect(open)
                open = false
            }
        }
        try feedInPieces(body, pieces: pieces) { try parser.feed($0, collect) }
        try parser.finish(collect)
        #expect(!open)
        return (fields, dataEvents)
    }

    static func fields(_ text: String, pieces: [Int] = []) throws -> [Field] {
        try parse(Array(text.utf8), pieces: pieces).fields
    }

    static let body = "command=INIT&total_bytes=1577963&media_type=video%2Fmp4&&media+category=tweet_video&a%26b=c%3Dd+e%2b&flag&=anonymous&x=y=z&"
    static let expected = [
        Field("command", "INIT"), Field("total_bytes", "1577963"), Field("media_type", "video/mp4"),
        Field("media category", "tweet_video"), Field("a&b", "c=d e+"), Field("flag", ""), Field("", "anonymous"), Field("x", "y=z"),
    ]

    /// Values are decoded sixteen bytes at a time, then eight, from the first `%` or `+` in a
    /// block on: an escape or a plus at every offset of such blocks, and two in one.
    @Test("an escape or a '+' at every offset of the sixteen- and eight-byte steps")
    func everyOffsetOfTheFastPath() throws {
        let plain = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"
        for offset in 0...plain.count {
            for (encoded, decoded) in [("%2B", "+"), ("+", " "), ("%2F%3d", "/="), ("+%41+", " A ")] {
                let value = String(plain.prefix(offset)) + encoded + plain.dropFirst(offset)
                let expected = String(plain.prefix(offset)) + decoded + plain.dropFirst(offset)
                #expect(try Self.fields("v=" + value + "&w=1") == [Field("v", expected), Field("w", "1")], "\(value)")
            }
        }
    }

    @Test("pairs, '+', escapes, empty pairs, names without '=' and empty names")
    func rules() throws {
        #expect(try Self.fields(Self.body) == Self.expected)
        #expect(try Self.fields("") == [])
        #expect(try Self.fields("&&&") == [])
        #expect(try Self.fields("a=") == [Field("a", "")])
        #expect(try Self.fields("a") == [Field("a", "")])
        #expect(try Self.fields("caf%C3%A9=cr%C3%A8me") == [Field("café", "crème")])
        #expect(try Self.fields("bin=%00%FF%0d%0A") == [Field(name: "bin", value: [0, 0xFF, 13, 10])])
    }

    @Test("splitting the body at every position, or into pieces of any size, gives the same fields")
    func everySplit() throws {
        let body = Array(Self.body.utf8)
        for split in 1..<body.count {
            #expect(try Self.parse(body, pieces: [split, body.count]).fields == Self.expected, "split at \(split)")
        }
        for size in 1...8 {
            #expect(try Self.parse(body, pieces: [size]).fields == Self.expected, "pieces of \(size)")
        }
    }

    @Test("random bodies give the same fields or the same error in any pieces")
    func randomBodies() {
        var generator = SeededGenerator(seed: 5)
        let alphabet = Array("ab=&%+2Fg".utf8)
        let outcome = { (body: [UInt8], pieces: [Int]) -> String in
            do {
                return "\(try Self.parse(body, pieces: pieces).fields)"
            } catch {
                return "\(error)"
            }
        }
        for round in 0..<2_000 {
            let body = (0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let pieces = (0..<40).map { _ in Int.random(in: 1...4, using: &generator) }
            #expect(outcome(body, pieces) == outcome(body, []), "round \(round): \(String(decoding: body, as: UTF8.self))")
        }
    }

    @Test("invalid escapes are refused naming the field, wherever the piece ends", arguments: [
        ("a=%G1", "form field 'a' has an invalid percent-escape '%G'"),
        ("a=%4G&b=1", "form field 'a' has an invalid percent-escape '%4G'"),
        ("a=%4", "form field 'a' ends inside the percent-escape '%4'"),
        ("a=1%", "form field 'a' ends inside the percent-escape '%'"),
        ("a=1%&b=2", "form field 'a' ends inside the percent-escape '%'"),
        ("x=1&media_data=QUJD%2", "form field 'media_data' ends inside the percent-escape '%2'"),
        ("n%G=1", "form field name 'n%G' has an invalid percent-escape"),
        ("n%4", "form field name 'n%4' has an invalid percent-escape"),
    ])
    func invalidEscapes(_ body: String, _ reason: String) {
        for size in [1, 2, 3, body.utf8.count] {
            #expect {
                _ = try Self.fields(body, pieces: [size])
            } throws: { error in
                (error as? FormParseError)?.reason == reason
            }
        }
    }

    @Test("a field name longer than the limit is refused")
    func longName() throws {
        let limit = URLEncodedFormParser.maximumNameBytes
        #expect(try Self.fields(String(repeating: "n", count: limit) + "=1").first?.name.count == limit)
        #expect(throws: FormParseError.self) { try Self.fields(String(repeating: "n", count: limit + 1) + "=1") }
    }

    @Test("a large value streams: literal runs are slices of the input, escaped ones come in bounded pieces")
    func streaming() throws {
        var generator = SeededGenerator(seed: 7)
        let literal = (0..<3_000_000).map { _ in UInt8(ascii: "a") + UInt8.random(in: 0..<26, using: &generator) }
        var parser = URLEncodedFormParser()
        try (Array("media_data=".utf8) + literal).withUnsafeBytes { body in
            let range = UInt(bitPattern: body.baseAddress!)..<UInt(bitPattern: body.baseAddress! + body.count)
            try parser.feed(body) { event in
                if case .fieldData(let bytes) = event { #expect(range.contains(UInt(bitPattern: bytes.baseAddress!))) }
            }
        }
        let escaped = Array(String(repeating: "%41b", count: 1_000_000).utf8)
        let (fields, events) = try Self.parse(Array("media_data=".utf8) + escaped, pieces: [262_144])
        #expect(fields.first?.value.count == 2_000_000)
        #expect(events >= 2_000_000 / (64 * 1024))
    }

    @Test("base64 media_data, percent-encoded, decodes back to the bytes through the streaming base64 decoder")
    func mediaDataPipeline() throws {
        var generator = SeededGenerator(seed: 99)
        let media = (0..<30_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // As a form encoder writes base64: `+`, `/` and `=` escaped.
        let encoded = Base64StreamDecoderTests.encode(media).map { character in
            switch character {
            case "+": "%2B"
            case "/": "%2F"
            case "=": "%3D"
            default: String(character)
            }
        }.joined()
        let body = Array("command=APPEND&media_id=1&segment_index=0&media_data=\(encoded)".utf8)
        for round in 0..<8 {
            let largest = [2, 50, 3_000, 70_000][round % 4]
            var parser = URLEncodedFormParser()
            var decoder = Base64StreamDecoder()
            var decoded: [UInt8] = []
            var inMedia = false
            let handle: (FormEvent) -> Void = { event in
                switch event {
                case .fieldBegin(let head): inMedia = head.name == "media_data"
                case .fieldData(let bytes): if inMedia { #expect(throws: Never.self) { try decoder.decode(bytes, into: &decoded) } }
                case .fieldEnd: if inMedia { #expect(throws: Never.self) { try decoder.finish(into: &decoded) } }
                }
            }
            try body.withUnsafeBytes { whole in
                var offset = 0
                while offset < whole.count {
                    let end = min(whole.count, offset + Int.random(in: 1...largest, using: &generator))
                    try parser.feed(UnsafeRawBufferPointer(rebasing: whole[offset..<end]), handle)
                    offset = end
                }
            }
            try parser.finish(handle)
            #expect(decoded == media, "round \(round): \(decoded.count) bytes decoded")
        }
    }

    /// The fields or the error's message, fed in the given pieces.
    static func outcome(_ body: [UInt8], pieces: [Int] = [], kernel: VectorKernel) -> String {
        do {
            return "\(try parse(body, pieces: pieces, kernel: kernel).fields.map { "\($0.name)=\($0.value)" })"
        } catch {
            return "\(error)"
        }
    }

    /// A kernel decodes 16 or 32 bytes at once, reading two past them, and must leave a block
    /// with a malformed escape, and the last bytes, to the scalar loop: every escape, good or
    /// bad, at every position of a block, and every place the body is cut in two, gives the
    /// same fields or the same error in every kernel (docs/performance.md, Issue 20, phase 3).
    @Test("every escape at every position of a vector block, cut anywhere: the same result in every kernel")
    func kernelsAgreeOnEscapes() {
        let kernels = VectorKernel.available
        #expect(kernels.count > 1, "this x86-64 CPU has SSSE3, so the vector path is under test")
        let text = Array("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ej".utf8)
        let insertions = ["%2B", "%2f", "%3D", "+", "%", "%4", "%G1", "%2G", "%%41", "%\u{FF}0", "%2B%2F", "&x=%41"]
        for insertion in insertions {
            for position in stride(from: 0, through: text.count, by: 1) {
                let body = Array("media_data=".utf8) + text[..<position] + Array(insertion.utf8) + text[position...]
                let expected = Self.outcome(body, kernel: .scalar)
                for kernel in kernels.dropFirst() {
                    #expect(Self.outcome(body, kernel: kernel) == expected, "\(insertion) at \(position), kernel \(kernel.level)")
                    for cut in 1..<body.count {
                        #expect(Self.outcome(body, pieces: [cut, body.count], kernel: kernel) == expected,
                                "\(insertion) at \(position), cut at \(cut), kernel \(kernel.level)")
                    }
                }
            }
        }
    }

    @Test("percent-encoded base64 in random pieces: every kernel decodes as the scalar loop does")
    func kernelsAgreeOnMediaData() throws {
        var generator = SeededGenerator(seed: 20)
        for round in 0..<40 {
            let media = (0..<Int.random(in: 0...100_000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var encoded = Array(Base64StreamDecoderTests.encode(media).utf8).flatMap { byte -> [UInt8] in
                switch byte {
                case UInt8(ascii: "+"): Array("%2B".utf8)
                case UInt8(ascii: "/"): Array((round % 2 == 0 ? "%2F" : "%2f").utf8)
                case UInt8(ascii: "="): Array("%3D".utf8)
                default: [byte]
                }
            }
            // Every fourth round breaks one escape somewhere: the same error, at the same place.
            if round % 4 == 3, let percent = encoded.indices.filter({ encoded[$0] == UInt8(ascii: "%") }).randomElement(using: &generator) {
                encoded[percent + 1 + Int.random(in: 0...1, using: &generator)] = UInt8(ascii: "Z")
            }
            let body = Array("command=APPEND&media_id=1&media_data=".utf8) + encoded + Array("&segment_index=0".utf8)
            let pieces = (0..<100).map { _ in Int.random(in: 1...[1, 17, 300, 70_000][round % 4], using: &generator) }
            let expected = Self.outcome(body, kernel: .scalar)
            for kernel in VectorKernel.available.dropFirst() {
                #expect(Self.outcome(body, pieces: pieces, kernel: kernel) == expected, "round \(round), kernel \(kernel.level)")
            }
            if round % 4 != 3 {
                let value = try #require(try Self.parse(body, pieces: pieces).fields.first { $0.name == "media_data" }?.value)
                #expect(try Base64StreamDecoderTests.decode(value) == media, "round \(round)")
            }
        }
    }

    @Test("query strings parse by the same rules")
    func queryStrings() throws {
        let pairs = try URLEncodedFormParser.parse("command=STATUS&media_id=710511363345354753&&flag&q=a+b%2Bc")
        #expect(pairs.map(\.name) == ["command", "media_id", "flag", "q"])
        #expect(pairs.map(\.value) == ["STATUS", "710511363345354753", "", "a b+c"])
        #expect(try URLEncodedFormParser.parse("").isEmpty)
        #expect(try URLEncodedFormParser.parse("a=1&b=2".dropFirst(4)).map(\.name) == ["b"])
        #expect {
            try URLEncodedFormParser.parse("media_id=%ZZ")
        } throws: { error in
            (error as? FormParseError)?.reason == "form field 'media_id' has an invalid percent-escape '%Z'"
        }
    }

    @Test("percentDecode keeps '+' unless told it is a space, and refuses bad escapes")
    func percentDecode() throws {
        #expect(try URLEncodedFormParser.percentDecode("a+b%2B%20c", plusIsSpace: false) == "a+b+ c")
        #expect(try URLEncodedFormParser.percentDecode("a+b%2B%20c", plusIsSpace: true) == "a b+ c")
        #expect(throws: FormParseError.self) { try URLEncodedFormParser.percentDecode("100%", plusIsSpace: false) }
        #expect(throws: FormParseError.self) { try URLEncodedFormParser.percentDecode("%g0", plusIsSpace: false) }
    }
}
