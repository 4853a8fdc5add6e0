import Testing
import UploadMockDomain
import UploadMockJSON
@testable import UploadMockForms

/// The streaming reader must accept and refuse exactly what `JSONParser` does on the whole body,
/// with the same message (line and column included), and hand on the same members.
@Suite("JSON media body reader")
struct JSONMediaBodyReaderTests {
    /// What reading a body gave: the `media` text and the other members, or the refusal.
    enum Outcome: Equatable, CustomStringConvertible {
        case empty
        case notObject
        case object(media: [UInt8]?, members: [String])
        case refused(String)

        var description: String {
            switch self {
            case .empty: "empty"
            case .notObject: "not an object"
            case .object(let media, let members): "object, media \(media.map { "\($0.count) bytes" } ?? "none"), members \(members)"
            case .refused(let reason): "refused: \(reason)"
            }
        }
    }

    /// Feeds `body` in pieces of the given sizes (the last repeats; none = whole).
    static func read(_ body: [UInt8], pieces: [Int] = [], kernel: VectorKernel = .best) -> Outcome {
        var reader = JSONMediaBodyReader(kernel: kernel)
        var media: [UInt8]?
        var members: [String] = []
        var open = false
        let record: (JSONMediaBodyReader.Event) -> Void = { event in
            switch event {
            case .mediaBegin:
                #expect(!open && media == nil, "media began twice")
                media = []
                open = true
            case .mediaText(let bytes):
                #expect(open && !bytes.isEmpty, "media text outside the media string, or empty")
                media?.append(contentsOf: bytes)
            case .mediaEnd:
                #expect(open)
                open = false
            case .member(let name, let json):
                // Every member handed on is JSON that JSONParser reads; its text is kept as sent.
                let value = try? JSONParser.parse(Array(json))
                #expect(value != nil, "member \(name) is not valid JSON: \(String(decoding: json, as: UTF8.self))")
                members.append("\(name)=\(value.map { String(decoding: $0.serialized(.plain), as: UTF8.self) } ?? "?")")
            }
        }
        do {
            try feedInPieces(body, pieces: pieces) { try reader.feed($0, record) }
            switch try reader.finish(record) {
            case .empty: return .empty
            case .notObject: return .notObject
            case .object:
                #expect(!open, "the body was accepted with the media string open")
                return .object(media: media, members: members)
            }
        } catch let error as FormParseError {
            return .refused(error.reason)
        } catch {
            Issue.record("unexpected error \(error)")
            return .refused("\(error)")
        }
    }

    /// What `JSONParser` makes of the whole body, in the same terms.
    static func expected(_ body: [UInt8]) -> Outcome {
        guard !body.isEmpty else { return .empty }
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            return .refused(error.message)
        }
        guard case .object(let object) = value else { return .notObject }
        var media: [UInt8]?
        var members: [String] = []
        for member in object.members {
            if member.key == "media", case .string(let text) = member.value {
                media = Array(text.utf8)
            } else {
                members.append("\(member.key)=\(String(decoding: member.value.serialized(.plain), as: UTF8.self))")
            }
        }
        return .object(media: media, members: members)
    }

    static func check(_ body: [UInt8], pieceSizes: [Int] = [1, 2, 3, 7, 64]) {
        let expected = Self.expected(body)
        let text = String(decoding: body.prefix(120), as: UTF8.self)
        #expect(read(body) == expected, "whole: \(text)")
        for size in pieceSizes {
            #expect(read(body, pieces: [size]) == expected, "pieces of \(size): \(text)")
        }
    }

    @Test("what xdk and other clients send: media first or last, escaped slashes, whitespace", arguments: [
        #"{"media": "YWJj/+8=", "segment_index": 3}"#,
        #"{"segment_index":0,"media":"YWJj\/+8="}"#,
        "{\n  \"media\": \"YWJj\",\n  \"segment_index\": 1\n}\n",
        #"{"media":"","segment_index":0}"#,
        #"{"media":"\u0059\u0057Jj","media_category":"tweet_image","additional_owners":"1,2"}"#,
        #"{"med\u0069a":"YQ=="}"#,
        #"{"media":5,"segment_index":"7"}"#,
        #"{"media":null}"#,
        #"{"media":{"media":"x"},"x":[1,{"y":[true,false,null]}],"z":-0.5e+10}"#,
        #"{}"#, #"[]"#, #"[1,"media"]"#, #""media""#, "12", "-0", "1.5E-3", " true ", "null",
        "", " ",
    ])
    func accepted(_ body: String) {
        Self.check(Array(body.utf8))
    }

    @Test("every refusal of JSONParser, at the same line and column", arguments: [
        "{", "{\"media\"", "{\"media\":", "{\"media\":\"YQ", "{\"a\":1,", "{\"a\":1,}", "[1,]", "[1", "[", "{\"a\" 1}",
        "{\"a\":1 \"b\":2}", "[1 2]", "{1:2}", "{\"a\":1}x", "{\"a\":1}{}", "{\"a\":tru}", "{\"a\":nul", "{\"a\":flase}",
        "{\"a\":-}", "{\"a\":-x}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":1.e5}", "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":1e400}",
        "{\"a\":-1e999}", "{\"a\":\"\u{1}\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12G4\"}", "{\"a\":\"\\u12",
        "{\"a\":\"\\uD800\"}", "{\"a\":\"\\uD800\\u0041\"}", "{\"a\":\"\\uDC00\"}", "{\"a\":\"\\uD800\\uZ\"}",
        "{\"a\":\"\\uD800\\uDC0Z\"}", "{\"a\":\"\\uD800\\", "{\"a\":\"\\uD800\\u", "{\"a\":\"\\uD800\\uDC0", "{\"a\":\"\\uD800\\uDC0\"}",
        "{\"a\":\"\\uD800\\uZ\"}}}}}}", "{\"a\":\"\\u0Z\"}}}}", "{\"a\":\"\\", "{\"a\":1,\"a\":2}", "{\"media\":\"a\",\"media\":\"b\"}",
        "{\"x\":{\"k\":1,\"k\":2}}", "\u{FEFF}{}", "{\"a\":\"\\/\"}\n\n  ]", "{\"é\u{301}\":1,\"x\" 2}", "{\"a\":\"👍🏽\" ,}",
        "{\"a\":\"\r\n\"}", "{\"a\":\"x\"\r\n,\r\n\"b\"\r\n:}",
    ])
    func refused(_ body: String) {
        let bytes = Array(body.utf8)
        guard case .refused = Self.expected(bytes) else {
            Issue.record("JSONParser accepts \(body)")
            return
        }
        Self.check(bytes)
    }

    @Test("invalid UTF-8 in a string, raw or between escapes", arguments: [
        [0xC3], [0xC3, 0x28], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0xC3, 0x5C, 0x6E],
        [0xF0, 0x9F, 0x98], [0xF0, 0x9F, 0x98, 0x80],
    ] as [[UInt8]])
    func invalidUTF8(_ inside: [UInt8]) {
        Self.check(Array(#"{"media":""#.utf8) + inside + Array(#"","b":""#.utf8) + inside + Array(#""}"#.utf8))
        Self.check(Array(#"{"k"#.utf8) + inside + Array(#"":1}"#.utf8))
    }

    @Test("nesting deeper than 64 and more than 100,000 values are refused where JSONParser refuses them")
    func bounds() {
        Self.check(Array(("{\"a\":" + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}").utf8), pieceSizes: [5])
        Self.check(Array(("{\"a\":" + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}").utf8), pieceSizes: [5])
        let many = "[" + Array(repeating: "0", count: 99_999).joined(separator: ",") + "]"
        Self.check(Array(many.utf8), pieceSizes: [4096])
        let tooMany = "[" + Array(repeating: "0", count: 100_000).joined(separator: ",") + "]"
        Self.check(Array(tooMany.utf8), pieceSizes: [4096])
    }

    /// The vector kernels this CPU runs, the scalar path first.
    static let kernels = VectorKernel.available

    @Test("a 1 MiB media string with escaped slashes is handed on unescaped, in large pieces",
          arguments: VectorKernel.available, [[256 * 1024], [65_521, 1, 17, 40_000, 33]])
    func largeMedia(kernel: VectorKernel, pieces: [Int]) throws {
        var generator = SeededGenerator(seed: 20)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        let text = (0..<(1 << 20)).map { _ in alphabet[Int.random(in: 0..<64, using: &generator)] }
        let escaped = text.flatMap { $0 == UInt8(ascii: "/") ? [UInt8(ascii: "\\"), $0] : [$0] }
        let body = Array(#"{"media":""#.utf8) + escaped + Array(#"","segment_index":999}"#.utf8)
        var reader = JSONMediaBodyReader(kernel: kernel)
        var media: [UInt8] = []
        var events = 0
        var members: [String] = []
        let record: (JSONMediaBodyReader.Event) -> Void = { event in
            events += 1
            switch event {
            case .mediaText(let bytes): media.append(contentsOf: bytes)
            case .member(let name, let json): members.append("\(name)=\(String(decoding: json, as: UTF8.self))")
            case .mediaBegin, .mediaEnd: break
            }
        }
        try feedInPieces(body, pieces: pieces) { try reader.feed($0, record) }
        #expect(try reader.finish(record) == .object)
        #expect(media == text)
        #expect(members == ["segment_index=999"])
        #expect(events < 100 || pieces.count > 1, "\(events) events for 1 MiB")
    }

    /// The vector kernels copy blocks of 16, 32 or 64 bytes whose only escapes are `\/`, dropping
    /// the backslashes, and leave any other block to the scalar path: with `\/` at every offset
    /// of two blocks (and next to one another), and another escape, a quote, a control, a
    /// non-ASCII byte or an error at every offset after it, every kernel reads what the scalar
    /// path reads and what JSONParser reads, whole and cut at any place.
    @Test("escaped slashes and anything else at every offset of the vector blocks: every kernel as the scalar path")
    func kernelsAgreeOnEveryPlacement() {
        #expect(Self.kernels.count > 1, "this x86-64 CPU has SSSE3, so the vector path is under test")
        let text = Array("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3".utf8)  // 80
        let slash = Array(#"\/"#.utf8)
        let others = [#"\/"#, #"\n"#, #"\u0041"#, #"\""#, "\"", "\u{01}", "é", #"\\"#, #"\x"#, #"\u00"#, "\\"].map { Array($0.utf8) }
        for first in 0...72 {
            for (kind, other) in others.enumerated() {
                for second in stride(from: first, through: 72, by: 1) where (second - first) % 3 == kind % 3 || second - first < 4 {
                    var media = text
                    media.insert(contentsOf: other, at: second)
                    media.insert(contentsOf: slash, at: first)
                    let body = Array(#"{"media":"\/\/"#.utf8) + media + Array(#"\/","segment_index":1}"#.utf8)
                    let expected = Self.expected(body)
                    let cut = (first * 7 + second) % body.count + 1
                    for kernel in Self.kernels {
                        #expect(Self.read(body, kernel: kernel) == expected,
                                "kernel \(kernel.level): \(String(decoding: body, as: UTF8.self))")
                        #expect(Self.read(body, pieces: [cut, body.count], kernel: kernel) == expected,
                                "kernel \(kernel.level), cut at \(cut): \(String(decoding: body, as: UTF8.self))")
                    }
                }
            }
        }
    }

    @Test("a media string of escaped slashes cut at every place, in two and in three pieces: every kernel as the scalar path")
    func kernelsAgreeAtEverySplit() {
        var generator = SeededGenerator(seed: 3)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        // Dense slashes, runs of them, and runs long enough for whole 32-byte blocks.
        let text = (0..<320).map { index in
            index % 97 < 12 ? UInt8(ascii: "/") : alphabet[Int.random(in: 0..<(index % 3 == 0 ? 64 : 62), using: &generator)]
        }
        let escaped = text.flatMap { $0 == UInt8(ascii: "/") ? [UInt8(ascii: "\\"), $0] : [$0] }
        for ending in [#"","segment_index":1}"#, #"\n"}"#, #"\q"}"#, "\u{01}\"}", #"\"#] {
            let body = Array(#"{"media":""#.utf8) + escaped + Array(ending.utf8)
            let expected = Self.expected(body)
            if ending.hasPrefix("\"") { #expect(expected == .object(media: text, members: ["segment_index=1"])) }
            for cut in 1..<body.count {
                let third = (cut * 13) % 41 + 1
                for kernel in Self.kernels {
                    #expect(Self.read(body, pieces: [cut, body.count], kernel: kernel) == expected, "kernel \(kernel.level), cut at \(cut), ending \(ending)")
                    #expect(Self.read(body, pieces: [cut, third, body.count], kernel: kernel) == expected,
                            "kernel \(kernel.level), cut at \(cut) and \(cut + third), ending \(ending)")
                }
            }
        }
    }

    /// Strings are scanned sixteen bytes at a time, then eight, then one by one, and `media`
    /// text after an escape is gathered as it is scanned: whatever needs care, at every offset
    /// of those steps, in `media` (gathered or not) and in another member, is found where it is.
    @Test("an escape, a quote, a control or a non-ASCII byte at every offset of the scan's steps")
    func everyOffsetOfTheFastPath() {
        let text = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlq"  // 48 characters
        for offset in 0...text.count {
            for inserted in [#"\/"#, #"\n"#, #"\u0041"#, #"\""#, "\"", "\u{01}", "\u{7F}", "é", "\\"] {
                let string = String(text.prefix(offset)) + inserted + text.dropFirst(offset)
                for body in [#"{"media": "\#(string)", "segment_index": 1}"#, #"{"media": "\/\#(string)\/+"}"#,
                             #"{"media": "", "note": "\#(string)"}"#].map({ Array($0.utf8) }) {
                    let expected = Self.expected(body)
                    #expect(Self.read(body) == expected, "\(String(decoding: body, as: UTF8.self))")
                    #expect(Self.read(body, pieces: [offset % 11 + 20]) == expected, "in pieces: \(String(decoding: body, as: UTF8.self))")
                }
            }
        }
    }

    @Test("mutated bodies: the same outcome as JSONParser, whole and in any pieces")
    func mutated() {
        var generator = SeededGenerator(seed: 7)
        let seeds = [
            #"{"media": "YWJj\/+8=", "segment_index": 3, "x": [1, -2.5e3, {"a": "\u00e9\uD83D\uDE00"}, true, null]}"#,
            "{\n\t\"segment_index\" : 12 ,\r\n \"media\" : \"Zm9v\\nYmFy\" }",
        ].map { Array($0.utf8) }
        let alphabet = Array("{}[],:\"\\/u0123456789abcdefABCDEF-+.eE \t\n\rtfnrlsm".utf8) + [0x00, 0x1F, 0xC3, 0xA9, 0xED, 0xA0, 0xF0, 0x9F, 0xCC, 0x81]
        for round in 0..<3_000 {
            var body = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let at = Int.random(in: 0..<body.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: body[at] = alphabet.randomElement(using: &generator) ?? 0
                case 1: body.insert(alphabet.randomElement(using: &generator) ?? 0, at: at)
                default: body.remove(at: at)
                }
            }
            if round % 7 == 0 { body = Array(body.prefix(Int.random(in: 0...body.count, using: &generator))) }
            let expected = Self.expected(body)
            let pieces = (0..<40).map { _ in Int.random(in: 1...9, using: &generator) }
            #expect(Self.read(body) == expected, "round \(round): \(String(decoding: body, as: UTF8.self))")
            #expect(Self.read(body, pieces: pieces) == expected, "round \(round) in pieces: \(String(decoding: body, as: UTF8.self))")
        }
    }
}
