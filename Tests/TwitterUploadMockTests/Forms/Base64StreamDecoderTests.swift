import Foundation
import Testing
import UploadMockDomain
@testable import UploadMockForms

@Suite("Base64 stream decoder")
struct Base64StreamDecoderTests {
    /// A plain reference encoder (RFC 4648 §4, padded), independent of the decoder.
    static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var text = ""
        for start in stride(from: 0, to: bytes.count, by: 3) {
            let group = Array(bytes[start..<min(start + 3, bytes.count)]) + [0, 0]
            let bits = Int(group[0]) << 16 | Int(group[1]) << 8 | Int(group[2])
            let characters = [18, 12, 6, 0].map { alphabet[bits >> $0 & 63] }
            let kept = bytes.count - start >= 3 ? 4 : bytes.count - start + 1
            text += String(characters.prefix(kept)) + String(repeating: "=", count: 4 - kept)
        }
        return text
    }

    /// Decodes `text` fed in pieces of the given sizes (the last size repeats) into an output
    /// that already holds `prefix`.
    static func decode(_ text: String, pieces: [Int] = [], prefix: [UInt8] = [],
                       kernel: VectorKernel = .best) throws -> [UInt8] {
        try decode(Array(text.utf8), pieces: pieces, prefix: prefix, kernel: kernel)
    }

    static func decode(_ bytes: [UInt8], pieces: [Int] = [], prefix: [UInt8] = [],
                       kernel: VectorKernel = .best) throws -> [UInt8] {
        var decoder = Base64StreamDecoder(kernel: kernel)
        var output = prefix
        var offset = 0
        var sizes = pieces[...]
        while offset < bytes.count {
            let size = min(sizes.count > 1 ? sizes.removeFirst() : sizes.first ?? bytes.count, bytes.count - offset)
            try bytes[offset..<offset + size].withUnsafeBytes { try decoder.decode($0, into: &output) }
            offset += size
        }
        try decoder.finish(into: &output)
        return output
    }

    @Test("RFC 4648 test vectors, padded or not", arguments: [
        ("", ""), ("Zg==", "f"), ("Zm8=", "fo"), ("Zm9v", "foo"), ("Zm9vYg==", "foob"), ("Zm9vYmE=", "fooba"), ("Zm9vYmFy", "foobar"),
        ("Zg", "f"), ("Zm8", "fo"), ("Zm9vYg", "foob"), ("Zm9vYmE", "fooba"),
    ])
    func vectors(_ text: String, _ expected: String) throws {
        for size in [1, 2, 3, 5, max(1, text.utf8.count)] {
            #expect(try Self.decode(text, pieces: [size]) == Array(expected.utf8))
        }
    }

    @Test("CR and LF are ignored anywhere, including around the padding")
    func lineBreaks() throws {
        let text = "\r\naGVs\r\nbG8g\nd29y\rbGQ\r\n=\r\n"
        for split in 1..<text.utf8.count {
            #expect(try Self.decode(text, pieces: [split, 100]) == Array("hello world".utf8), "split at \(split)")
        }
    }

    @Test("random data round-trips in random pieces, with and without MIME line breaks, after existing output")
    func roundTrip() throws {
        var generator = SeededGenerator(seed: 3)
        for round in 0..<60 {
            let data = (0..<Int.random(in: 0...5_000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var text = Self.encode(data)
            if round % 3 == 0 {
                text = stride(from: 0, to: text.count, by: 76).map { start in
                    let from = text.index(text.startIndex, offsetBy: start)
                    return String(text[from..<(text.index(from, offsetBy: 76, limitedBy: text.endIndex) ?? text.endIndex)])
                }.joined(separator: "\r\n")
            }
            if round % 2 == 1 { text = String(text.prefix { $0 != "=" }) }
            let pieces = (0..<200).map { _ in Int.random(in: 1...[1, 7, 100, 4_000][round % 4], using: &generator) }
            #expect(try Self.decode(text, pieces: pieces, prefix: [42]) == [42] + data, "round \(round)")
        }
    }

    @Test("random text gives the same bytes or the same error in any pieces")
    func randomText() {
        var generator = SeededGenerator(seed: 8)
        let alphabet = Array("QUJD=\r\n-".utf8)
        let outcome = { (text: String, pieces: [Int]) -> String in
            do {
                return "\(try Self.decode(text, pieces: pieces))"
            } catch {
                return "\(error)"
            }
        }
        for round in 0..<2_000 {
            let text = String(decoding: (0..<Int.random(in: 0...24, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! },
                              as: UTF8.self)
            let pieces = (0..<24).map { _ in Int.random(in: 1...5, using: &generator) }
            #expect(outcome(text, pieces) == outcome(text, []), "round \(round): \(text.debugDescription)")
        }
    }

    @Test("anything else is refused with the offset of the bad byte, across pieces", arguments: [
        ("NTY3*A==", "'*' at offset 4 is not in the standard base64 alphabet"),
        ("YWJj-_8=", "'-' at offset 4 is not in the standard base64 alphabet (base64url is not accepted)"),
        ("YWJj_w==", "'_' at offset 4 is not in the standard base64 alphabet (base64url is not accepted)"),
        ("YW Jj", "a space at offset 2 is not in the standard base64 alphabet (a '+' sent unescaped"),
        ("YWJj\tYQ==", "byte 0x09 at offset 4 is not in the standard base64 alphabet"),
        ("YWJj\u{E9}", "byte 0xC3 at offset 4"),
        ("YQ==YQ==", "base64 data continues after the '=' padding ('Y' at offset 4)"),
        ("YQ=\r\nQ", "base64 data continues after the '=' padding ('Q' at offset 5)"),
        ("=YQ", "base64 padding '=' at offset 0 is misplaced"),
        ("YWJj=", "base64 padding '=' at offset 4 is misplaced"),
        ("Y=", "base64 padding '=' at offset 1 is misplaced"),
        ("YQ===", "base64 text has too much '=' padding (offset 4)"),
        ("YWI==", "base64 text has too much '=' padding (offset 4)"),
        ("YQ=", "the base64 text ends with incomplete '=' padding (offset 3)"),
        ("Y", "ends with a lone character, which cannot encode a byte (offset 0)"),
        ("YWJjY\r\n", "ends with a lone character, which cannot encode a byte (offset 4)"),
    ])
    func invalid(_ text: String, _ reason: String) {
        for size in [1, 3, max(1, text.utf8.count)] {
            #expect {
                _ = try Self.decode(text, pieces: [size])
            } throws: { error in
                (error as? FormParseError)?.reason.contains(reason) == true
            }
        }
    }

    /// The fast path reads eight characters (two groups) at a time: a bad byte or a line
    /// break at any position of such a word must be found where it is.
    @Test("a bad byte or a line break at every offset of the eight-character steps")
    func everyOffsetOfTheFastPath() throws {
        let bytes = (0..<48).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 7) }
        let text = Self.encode(bytes)  // 64 characters, no padding
        for offset in 0...text.utf8.count {
            let head = String(text.prefix(offset)), tail = String(text.dropFirst(offset))
            #expect(try Self.decode(head + "\r\n" + tail) == bytes, "line break at \(offset)")
            #expect(try Self.decode(head + "\n" + tail, pieces: [offset % 9 + 1]) == bytes, "line break at \(offset), in pieces")
            guard offset < text.utf8.count else { continue }
            #expect {
                _ = try Self.decode(head + "*" + tail, pieces: [offset % 7 + 5])
            } throws: { error in
                (error as? FormParseError)?.reason.contains("'*' at offset \(offset) is not") == true
            }
        }
    }

    @Test("on an error, the output holds only the bytes decoded before it")
    func outputOnError() {
        var decoder = Base64StreamDecoder()
        var output: [UInt8] = [1]
        #expect(throws: FormParseError.self) {
            try Array("Zm9vYmFy!Zm9v".utf8).withUnsafeBytes { try decoder.decode($0, into: &output) }
        }
        #expect(output == [1] + Array("foobar".utf8))
    }

    @Test("finish makes the decoder ready for the next value")
    func reuse() throws {
        var decoder = Base64StreamDecoder()
        var output: [UInt8] = []
        try Array("Zm9vYg=".utf8).withUnsafeBytes { try decoder.decode($0, into: &output) }
        #expect(throws: FormParseError.self) { try decoder.finish(into: &output) }
        output = []
        try Array("YmFy".utf8).withUnsafeBytes { try decoder.decode($0, into: &output) }
        try decoder.finish(into: &output)
        #expect(output == Array("bar".utf8))
    }

    /// The vector kernels this CPU runs, and the scalar loop they must agree with.
    static let kernels = VectorKernel.available.filter { $0 != .avx512 }  // base64 runs AVX2's there

    /// The bytes, or the error's message.
    static func outcome(_ text: [UInt8], pieces: [Int] = [], kernel: VectorKernel) -> String {
        do {
            return "\(try decode(text, pieces: pieces, kernel: kernel))"
        } catch {
            return "\(error)"
        }
    }

    @Test("every vector kernel decodes as the scalar loop and Foundation do, any length, in random pieces")
    func kernelsAgree() throws {
        #expect(Self.kernels.count > 1, "this x86-64 CPU has SSSE3, so the vector path is under test")
        var generator = SeededGenerator(seed: 20)
        for length in Array(0...300) + (0..<40).map({ _ in Int.random(in: 301...20_000, using: &generator) }) {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var text = Array(Self.encode(data).utf8)
            #expect(Data(base64Encoded: Data(text)).map(Array.init) == data, "length \(length): the reference encoder")
            if length % 3 == 0 {  // MIME line breaks at random places
                for _ in 0..<Int.random(in: 0...(length / 16 + 1), using: &generator) {
                    text.insert(contentsOf: Array(["\r\n", "\n", "\r"].randomElement(using: &generator)!.utf8),
                                at: Int.random(in: 0...text.count, using: &generator))
                }
            }
            let pieces = (0..<64).map { _ in Int.random(in: 1...[7, 40, 300, 5_000][length % 4], using: &generator) }
            for kernel in Self.kernels {
                #expect(try Self.decode(text, pieces: pieces, prefix: [7], kernel: kernel) == [7] + data,
                        "length \(length), kernel \(kernel.level)")
            }
        }
    }

    /// A kernel takes 16 or 32 characters at once and must hand back, untouched, a block with
    /// any byte outside the alphabet: every byte value at every position of two 32-character
    /// blocks gives the same bytes or the same error, with the same offset, in every kernel.
    @Test("every byte value at every position of a vector block: the same result in every kernel")
    func everyByteAtEveryPosition() {
        let data = (0..<60).map { UInt8(truncatingIfNeeded: $0 &* 53 &+ 11) }
        let text = Array(Self.encode(data).utf8)  // 80 characters, no padding
        for position in 0..<72 {
            for byte in UInt8.min...UInt8.max {
                var replaced = text
                replaced[position] = byte
                var inserted = text
                inserted.insert(byte, at: position)
                for candidate in [replaced, inserted] {
                    let expected = Self.outcome(candidate, kernel: .scalar)
                    for kernel in Self.kernels.dropFirst() {
                        #expect(Self.outcome(candidate, kernel: kernel) == expected, "byte \(byte) at \(position), kernel \(kernel.level)")
                        #expect(Self.outcome(candidate, pieces: [position % 5 + 17], kernel: kernel) == expected,
                                "byte \(byte) at \(position) in pieces, kernel \(kernel.level)")
                    }
                }
            }
        }
    }
}
