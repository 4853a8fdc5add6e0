import CVectorKernels

/// Reads a JSON request body whose top-level `media` member is base64 text (the X API v2
/// append and upload bodies, docs/api-v2.md) as it streams in: bytes in, events out, no I/O.
/// The `media` string is handed on unescaped, piece by piece (`\/` and every other escape
/// undone), so a caller can decode it without the body or the string ever being held; every
/// other top-level member is handed on whole, as the JSON text it was sent as, once complete.
///
/// It is as strict as `JSONParser` (UploadMockJSON), which reads the same bodies whole, and
/// refuses the same documents with the same message, `not valid JSON at line L, column C: …`:
/// RFC 8259 syntax, duplicate keys at any depth, nesting deeper than 64, more than 100,000
/// values, control characters and invalid UTF-8 in strings, lone or reversed surrogates. A
/// member handed on is therefore valid JSON that `JSONParser` reads without error. Column
/// numbers count characters (grapheme clusters), as `JSONParser`'s do, exactly for any cluster
/// under 16 bytes; a line's text is kept only from its last non-ASCII byte on.
package struct JSONMediaBodyReader {
    package enum Event {
        /// The top-level `media` member is a string; its text follows in `mediaText`.
        case mediaBegin
        /// The next piece of the `media` string, unescaped: valid only during the callback.
        case mediaText(UnsafeRawBufferPointer)
        case mediaEnd
        /// Any other top-level member (and `media` when it is not a string): its name and its
        /// value's JSON text as sent, valid only during the callback.
        case member(name: String, json: UnsafeRawBufferPointer)
    }

    /// What the body turned out to be, once it has ended without error.
    package enum Shape: Equatable {
        /// No bytes at all.
        case empty
        /// An object; its members were handed on as events.
        case object
        /// Valid JSON that is not an object.
        case notObject
    }

    /// `JSONParser.Limits`' defaults.
    static let maximumDepth = 64
    static let maximumValues = 100_000
    /// Escaped `media` text is gathered in a buffer and handed on in pieces of at most this.
    static let mediaPieceBytes = 64 * 1024

    private enum Expect {
        case document
        case value
        case arrayFirst
        case objectFirst
        case keyAfterComma
        case colon
        case afterValue
        case arrayAfterComma
        case end
    }

    private enum Role {
        case key
        case media
        case value
    }

    private enum Escape {
        case none
        case backslash
        /// `digits` hex digits of a `\u` escape read so far, its digits starting at `start`;
        /// `high` while this is the second escape of a surrogate pair.
        case hex(digits: Int, value: UInt32, start: Place, high: HighSurrogate?)
        /// After a high surrogate: `matched` bytes of the `\u` that must follow.
        case lowSurrogate(HighSurrogate, matched: Int)
    }

    /// A high surrogate's value, and the position just after its escape.
    private struct HighSurrogate {
        var value: UInt32
        var end: Place
    }

    private enum Token {
        case none
        case string(Role)
        case number
        case literal(word: StaticString, matched: Int, start: Place)
    }

    private struct Container {
        var isObject: Bool
        var keys: Set<String> = []
    }

    /// A failure whose position depends on whether the document ends within a few more
    /// bytes: `JSONParser` checks the bytes left before reading a `\u` escape.
    private struct DeferredFailure {
        var bytesToSee: Int
        var atEnd: FormParseError
        var otherwise: FormParseError
    }

    private let mediaName: String
    private var position = TextPosition()
    private var expect = Expect.document
    private var token = Token.none
    private var escape = Escape.none
    private var stack: [Container] = []
    private var values = 0
    private var sawBytes = false
    private var topIsObject = false
    private var deferred: DeferredFailure?
    private var utf8 = UTF8Validation()

    /// The key being read, unescaped, and the last key read with where it started.
    private var key: [UInt8] = []
    private var lastKey = ""
    private var keyStart = Place()
    /// The top-level member whose value is being read.
    private var memberName: String?
    /// The text of a top-level member's value, gathered while `capturing`; `captureFrom` is
    /// where the value's bytes begin in the piece being read.
    private var capture: [UInt8] = []
    private var capturing = false
    private var captureFrom: Int?
    /// The number being read, for its value's range check and messages.
    private var number: [UInt8] = []
    private var numberStart = Place()
    private var numberState = NumberState.sign
    /// Unescaped `media` text waiting to be handed on, used once a piece has an escape: its
    /// first `mediaScratchCount` bytes. Allocated whole once, with room for a 16-byte store
    /// past a full piece, so the gathering loop writes through one pointer.
    private var mediaScratch: [UInt8] = []
    private var mediaScratchCount = 0

    private enum NumberState {
        case sign, leadingZero, integer, point, fraction, exponentMark, exponentSign, exponent
    }

    /// Bytes held for what is not yet handed on: a key, a member's text, a number, media text
    /// between pieces (docs/configuration.md, Bounds, counts them).
    package var bufferedBytes: Int { key.count + capture.count + number.count + mediaScratchCount }

    private let kernel: VectorKernel

    package init(mediaMember: String = "media") {
        self.init(mediaMember: mediaMember, kernel: .best)
    }

    init(mediaMember: String = "media", kernel: VectorKernel) {
        mediaName = mediaMember
        self.kernel = kernel
    }

    // MARK: - Feeding

    /// Reads the next piece of the body, of any size, calling `onEvent` for what it
    /// completes. After an error the reader must be discarded.
    package mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (Event) -> Void) throws(FormParseError) {
        guard !bytes.isEmpty else { return }
        sawBytes = true
        var index = 0
        if capturing { captureFrom = 0 }
        defer { captureFrom = nil }
        while index < bytes.count {
            if deferred != nil, var pending = deferred {
                // Only counting bytes now: the failure is certain, its position is not.
                let seen = min(pending.bytesToSee, bytes.count - index)
                pending.bytesToSee -= seen
                index += seen
                deferred = pending
                if pending.bytesToSee == 0 { throw pending.otherwise }
                continue
            }
            if case .string(let role) = token, case .none = escape {
                index = try readPlainRun(bytes, from: index, role: role, onEvent)
                if index == bytes.count { break }
            }
            try read(bytes[index], at: index, in: bytes, onEvent)
            index += 1
        }
        if capturing, let from = captureFrom {
            capture.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[from...]))
        }
        flushMedia(onEvent)
    }

    /// The body has ended: throws unless it was one complete JSON document, and says what
    /// it was.
    package mutating func finish(_ onEvent: (Event) -> Void) throws(FormParseError) -> Shape {
        if let deferred { throw deferred.atEnd }
        guard sawBytes else { return .empty }
        switch token {
        case .none:
            break
        case .string:
            // JSONParser counts the bytes left before it reads an escape's digits.
            switch escape {
            case .hex(_, _, let start, nil):
                throw failure("a \\u escape needs four hex digits", at: start)
            case .hex(_, _, _, let high?), .lowSurrogate(let high, _):
                throw failure("a \\u escape of a high surrogate must be followed by a low surrogate", at: high.end)
            case .none, .backslash:
                throw failure("the document ends inside a string")
            }
        case .number:
            try endNumber()
            expect = stack.isEmpty ? .end : .afterValue
        case .literal(let word, _, let start):
            throw failure("unexpected '\(Character(Unicode.Scalar(word.utf8Start.pointee)))' where a value was expected", at: start)
        }
        switch expect {
        case .end:
            return topIsObject ? .object : .notObject
        case .document, .value, .arrayFirst, .arrayAfterComma:
            try countValue()
            throw failure("the document ends where a value was expected")
        case .objectFirst, .keyAfterComma:
            throw failure("expected a quoted key, found the end of the document")
        case .colon:
            throw failure("expected ':' after the key '\(lastKey)', found the end of the document")
        case .afterValue:
            let inObject = stack.last?.isObject ?? false
            throw failure(inObject ? "expected ',' or '}' in an object, found the end of the document"
                : "expected ',' or ']' in an array, found the end of the document")
        }
    }

    // MARK: - Strings, fast

    /// Reads string text that needs no care (printable ASCII but `"` and `\`), 64 bytes at a
    /// time with AVX2 (CVectorKernels), else sixteen, and the escapes of one ASCII character (`\/`,
    /// `\n` …) between its runs, from `start`; returns where it stopped (at a `"`, a `\u` escape,
    /// anything else that needs care, or the end of the piece). Everything read is ASCII on one
    /// line.
    private mutating func readPlainRun(_ bytes: UnsafeRawBufferPointer, from start: Int, role: Role,
                                       _ onEvent: (Event) -> Void) throws(FormParseError) -> Int {
        guard let base = bytes.baseAddress else { return start }
        let text = base.assumingMemoryBound(to: UInt8.self)
        var index = start
        while true {
            if role == .media, mediaScratchCount > 0 { index = gatherMedia(base, from: index, count: bytes.count, onEvent) }
            var end = index &+ cjson_string_run(kernel.level, text + index, bytes.count &- index)
            end = VectorScan.firstMarked(in: base, from: end, count: bytes.count, Self.needsCare)
            while end &+ 8 <= bytes.count, !Self.needsCare(base.loadUnaligned(fromByteOffset: end, as: UInt64.self)) {
                end &+= 8
            }
            while end < bytes.count, !Self.needsCare(bytes[end]) { end &+= 1 }
            if end > index {
                let run = UnsafeRawBufferPointer(rebasing: bytes[index..<end])
                switch role {
                case .key: key.append(contentsOf: run)
                case .media: emitMedia(run, onEvent)
                case .value: break
                }
            }
            index = end
            guard index &+ 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                  let unescaped = Self.simpleEscape(bytes[index &+ 1]) else { break }
            switch role {
            case .key: key.append(unescaped)
            case .media: emitMedia(byte: unescaped, onEvent)
            case .value: break
            }
            index &+= 2
        }
        if index > start {
            utf8.requireLead()
            position.advance(overASCII: UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        }
        return index
    }

    /// What a one-character escape (`\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t`) stands for.
    private static func simpleEscape(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): byte
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// `media` text after an escape, while it is gathered: copied into the scratch, one-character
    /// escapes unescaped on the way, full pieces handed on. Blocks of 16 to 64 bytes whose only
    /// escapes are `\/` go through the vector kernel (CVectorKernels), which drops their
    /// backslashes without a branch per escape; from the first other block on, sixteen bytes per
    /// store as the scan looks for the next byte that needs care. Returns where it stopped: at
    /// any other byte that needs care, or with fewer than 16 bytes left. With every `/` escaped
    /// (one in 64 characters) a branch per escape mispredicts at nearly every one
    /// (docs/performance.md, Issue 20, phase 3).
    private mutating func gatherMedia(_ base: UnsafeRawPointer, from start: Int, count: Int,
                                      _ onEvent: (Event) -> Void) -> Int {
        var index = start
        var used = mediaScratchCount
        let text = base.assumingMemoryBound(to: UInt8.self), level = kernel.level
        mediaScratch.withUnsafeMutableBytes { scratch in
            guard let target = scratch.baseAddress else { return }
            let output = target.assumingMemoryBound(to: UInt8.self)
            while index &+ 16 <= count {
                // Blocks whose only escapes are `\/` in the vector kernel, the rest as below.
                var stored = 0
                index &+= cjson_unescape_slashes(level, text + index, count &- index,
                                                 output + used, Self.mediaPieceBytes &- used, &stored)
                used &+= stored
                if used >= Self.mediaPieceBytes {
                    onEvent(.mediaText(UnsafeRawBufferPointer(start: target, count: used)))
                    used = 0
                    continue
                }
                guard index &+ 16 <= count else { break }
                let block = base.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
                target.storeBytes(of: block, toByteOffset: used, as: SIMD16<UInt8>.self)
                if let stop = VectorScan.firstMarked(Self.needsCare(block)) {
                    index &+= stop
                    used &+= stop
                    guard index &+ 1 < count, base.load(fromByteOffset: index, as: UInt8.self) == UInt8(ascii: "\\"),
                          let unescaped = Self.simpleEscape(base.load(fromByteOffset: index &+ 1, as: UInt8.self)) else { break }
                    target.storeBytes(of: unescaped, toByteOffset: used, as: UInt8.self)
                    index &+= 2
                    used &+= 1
                } else {
                    index &+= 16
                    used &+= 16
                }
                if used >= Self.mediaPieceBytes {
                    onEvent(.mediaText(UnsafeRawBufferPointer(start: target, count: used)))
                    used = 0
                }
            }
        }
        mediaScratchCount = used
        return index
    }

    /// Bytes that end a run of plain string text: below 0x20 or from 0x80 (one signed compare,
    /// against a vector: with a scalar operand the compare is not vectorized), `"` and `\`.
    @inline(__always)
    private static func needsCare(_ block: SIMD16<UInt8>) -> SIMDMask<SIMD16<Int8>> {
        (unsafeBitCast(block, to: SIMD16<Int8>.self) .< SIMD16(repeating: 0x20))
            .| (block .== SIMD16(repeating: UInt8(ascii: "\""))) .| (block .== SIMD16(repeating: UInt8(ascii: "\\")))
    }

    private static func needsCare(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte >= 0x80 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Whether any byte of `word` is below 0x20, at or above 0x80, `"` or `\` (SWAR tests,
    /// exact for "none").
    private static func needsCare(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
        let control = (word &- ones &* 0x20) & ~word
        let found = (quote &- ones) & ~quote | (backslash &- ones) & ~backslash | control | word
        return found & highs != 0
    }

    private mutating func emitMedia(_ text: UnsafeRawBufferPointer, _ onEvent: (Event) -> Void) {
        if mediaScratchCount == 0, text.count > 16 {
            onEvent(.mediaText(text))
            return
        }
        var rest = text
        while !rest.isEmpty {
            let length = min(rest.count, Self.mediaPieceBytes - mediaScratchCount)
            scratchRoom { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: rest.prefix(length))) }
            mediaScratchCount += length
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(length))
            if mediaScratchCount >= Self.mediaPieceBytes { flushMedia(onEvent) }
        }
    }

    private mutating func emitMedia(byte: UInt8, _ onEvent: (Event) -> Void) {
        scratchRoom { $0.storeBytes(of: byte, as: UInt8.self) }
        mediaScratchCount += 1
        if mediaScratchCount >= Self.mediaPieceBytes { flushMedia(onEvent) }
    }

    /// Hands `write` the scratch from its first free byte, allocating it on first use.
    private mutating func scratchRoom(_ write: (UnsafeMutableRawBufferPointer) -> Void) {
        if mediaScratch.isEmpty { mediaScratch = Array(repeating: 0, count: Self.mediaPieceBytes + 16) }
        let used = mediaScratchCount
        mediaScratch.withUnsafeMutableBytes { write(UnsafeMutableRawBufferPointer(rebasing: $0[used...])) }
    }

    private mutating func flushMedia(_ onEvent: (Event) -> Void) {
        guard mediaScratchCount > 0 else { return }
        let used = mediaScratchCount
        mediaScratch.withUnsafeBytes { onEvent(.mediaText(UnsafeRawBufferPointer(rebasing: $0[..<used]))) }
        mediaScratchCount = 0
    }

    // MARK: - One byte

    private mutating func read(_ byte: UInt8, at index: Int, in bytes: UnsafeRawBufferPointer,
                               _ onEvent: (Event) -> Void) throws(FormParseError) {
        switch token {
        case .string(let role):
            let ended = try readString(byte, role: role, onEvent)
            position.advance(byte)
            if ended, role == .value { try endValue(endingAt: index + 1, in: bytes, onEvent) }
            return
        case .literal(let word, let matched, let start):
            guard byte == word.utf8Start[matched] else {
                throw failure("unexpected '\(Character(Unicode.Scalar(word.utf8Start.pointee)))' where a value was expected", at: start)
            }
            position.advance(byte)
            if matched + 1 == word.utf8CodeUnitCount {
                token = .none
                try endValue(endingAt: index + 1, in: bytes, onEvent)
            } else {
                token = .literal(word: word, matched: matched + 1, start: start)
            }
            return
        case .number:
            if try readNumber(byte) {
                position.advance(byte)
                return
            }
            try endNumber()
            try endValue(endingAt: index, in: bytes, onEvent)
        case .none:
            break
        }
        if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            position.advance(byte)
            return
        }
        try readStructure(byte, at: index, in: bytes, onEvent)
        position.advance(byte)
    }

    /// A byte outside any token: punctuation, or the start of a value.
    private mutating func readStructure(_ byte: UInt8, at index: Int, in bytes: UnsafeRawBufferPointer,
                                        _ onEvent: (Event) -> Void) throws(FormParseError) {
        switch expect {
        case .document, .value:
            try beginValue(byte, at: index, onEvent)
        case .arrayFirst, .arrayAfterComma:
            if byte == UInt8(ascii: "]") {
                guard case .arrayFirst = expect else { throw failure("trailing comma before ']'") }
                try closeContainer(at: index, in: bytes, onEvent)
            } else {
                try beginValue(byte, at: index, onEvent)
            }
        case .objectFirst, .keyAfterComma:
            if byte == UInt8(ascii: "}") {
                guard case .objectFirst = expect else { throw failure("trailing comma before '}'") }
                try closeContainer(at: index, in: bytes, onEvent)
            } else {
                guard byte == UInt8(ascii: "\"") else { throw failure("expected a quoted key, found \(Self.describe(byte))") }
                keyStart = position.place
                key.removeAll(keepingCapacity: true)
                utf8 = UTF8Validation()
                token = .string(.key)
            }
        case .colon:
            guard byte == UInt8(ascii: ":") else {
                throw failure("expected ':' after the key '\(lastKey)', found \(Self.describe(byte))")
            }
            expect = .value
        case .afterValue:
            let inObject = stack.last?.isObject ?? false
            if byte == UInt8(ascii: ",") {
                expect = inObject ? .keyAfterComma : .arrayAfterComma
            } else if byte == UInt8(ascii: inObject ? "}" : "]") {
                try closeContainer(at: index, in: bytes, onEvent)
            } else {
                throw failure(inObject ? "expected ',' or '}' in an object, found \(Self.describe(byte))"
                    : "expected ',' or ']' in an array, found \(Self.describe(byte))")
            }
        case .end:
            throw failure("unexpected \(Self.describe(byte)) after the document")
        }
    }

    private mutating func countValue() throws(FormParseError) {
        values += 1
        guard values <= Self.maximumValues else { throw failure("the document has more than \(Self.maximumValues) values") }
    }

    private mutating func beginValue(_ byte: UInt8, at index: Int, _ onEvent: (Event) -> Void) throws(FormParseError) {
        try countValue()
        let isMember = stack.count == 1 && topIsObject
        let isMedia = isMember && memberName == mediaName && byte == UInt8(ascii: "\"")
        if isMember, !isMedia {
            capturing = true
            captureFrom = index
        }
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard stack.count < Self.maximumDepth else {
                throw failure("arrays and objects are nested more than \(Self.maximumDepth) deep")
            }
            let isObject = byte == UInt8(ascii: "{")
            if stack.isEmpty { topIsObject = isObject }
            stack.append(Container(isObject: isObject))
            expect = isObject ? .objectFirst : .arrayFirst
        case UInt8(ascii: "\""):
            utf8 = UTF8Validation()
            token = .string(isMedia ? .media : .value)
            if isMedia { onEvent(.mediaBegin) }
        case UInt8(ascii: "t"):
            token = .literal(word: "true", matched: 1, start: position.place)
        case UInt8(ascii: "f"):
            token = .literal(word: "false", matched: 1, start: position.place)
        case UInt8(ascii: "n"):
            token = .literal(word: "null", matched: 1, start: position.place)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            numberStart = position.place
            number.removeAll(keepingCapacity: true)
            numberState = .sign
            token = .number
            _ = try readNumber(byte)
        default:
            throw failure("unexpected \(Self.describe(byte)) where a value was expected")
        }
    }

    private mutating func closeContainer(at index: Int, in bytes: UnsafeRawBufferPointer,
                                         _ onEvent: (Event) -> Void) throws(FormParseError) {
        stack.removeLast()
        try endValue(endingAt: index + 1, in: bytes, onEvent)
    }

    /// A value is complete, its last byte before `end` in `bytes`.
    private mutating func endValue(endingAt end: Int, in bytes: UnsafeRawBufferPointer,
                                   _ onEvent: (Event) -> Void) throws(FormParseError) {
        if stack.isEmpty {
            expect = .end
            return
        }
        expect = .afterValue
        guard stack.count == 1, topIsObject, let name = memberName else { return }
        if capturing {
            if let from = captureFrom, end > from {
                capture.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[from..<end]))
            }
            capture.withUnsafeBytes { onEvent(.member(name: name, json: $0)) }
            capture.removeAll(keepingCapacity: true)
            capturing = false
            captureFrom = nil
        }
        memberName = nil
    }

    // MARK: - Strings, byte by byte

    /// One byte of a string that is not plain text; true when it closed the string.
    private mutating func readString(_ byte: UInt8, role: Role, _ onEvent: (Event) -> Void) throws(FormParseError) -> Bool {
        switch escape {
        case .none:
            switch byte {
            case UInt8(ascii: "\""):
                try endString(role: role, onEvent)
                return true
            case UInt8(ascii: "\\"):
                escape = .backslash
            case 0..<0x20:
                throw failure("a control character (0x\(String(byte, radix: 16))) must be escaped inside a string")
            default:
                append(byte, role: role, onEvent)
            }
        case .backslash:
            if let simple = Self.simpleEscape(byte) {
                escape = .none
                append(simple, role: role, onEvent)
            } else {
                guard byte == UInt8(ascii: "u") else {
                    throw failure("invalid escape '\\\(Self.describeBare(byte))' in a string")
                }
                escape = .hex(digits: 0, value: 0, start: position.place(after: byte), high: nil)
            }
        case .hex(let digits, let value, let start, let high):
            guard let digit = Self.hexValue(byte) else {
                try deferHexFailure(digits: digits, start: start, high: high)
                return false
            }
            guard digits == 3 else {
                escape = .hex(digits: digits + 1, value: value << 4 | digit, start: start, high: high)
                return false
            }
            try endUnicodeEscape(value << 4 | digit, high: high, after: position.place(after: byte), role: role, onEvent)
        case .lowSurrogate(let high, let matched):
            guard byte == UInt8(ascii: matched == 0 ? "\\" : "u") else {
                throw failure("a \\u escape of a high surrogate must be followed by a low surrogate", at: high.end)
            }
            escape = matched == 0 ? .lowSurrogate(high, matched: 1) : .hex(digits: 0, value: 0, start: position.place(after: byte), high: high)
        }
        return false
    }

    /// A byte that is not a hex digit where one should be. JSONParser first checks that four
    /// bytes are left for the digits (six after a high surrogate, for `\u` and the digits)
    /// and fails at the escape's start when they are not, so where the failure is reported
    /// depends on whether the body ends within the next few bytes.
    private mutating func deferHexFailure(digits: Int, start: Place, high: HighSurrogate?) throws(FormParseError) {
        let here = failure("a \\u escape needs four hex digits")
        let atEnd = high.map { failure("a \\u escape of a high surrogate must be followed by a low surrogate", at: $0.end) }
            ?? failure("a \\u escape needs four hex digits", at: start)
        // This byte is one of the four digits' places (after `\u`, when after a high surrogate).
        let bytesToSee = 3 - digits
        guard bytesToSee > 0 else { throw here }
        deferred = DeferredFailure(bytesToSee: bytesToSee, atEnd: atEnd, otherwise: here)
    }

    private mutating func endUnicodeEscape(_ value: UInt32, high: HighSurrogate?, after: Place, role: Role,
                                           _ onEvent: (Event) -> Void) throws(FormParseError) {
        var scalar = value
        if let high {
            guard (0xDC00...0xDFFF).contains(value) else { throw failure("invalid low surrogate in a \\u escape", at: after) }
            scalar = 0x10000 + ((high.value - 0xD800) << 10) + (value - 0xDC00)
        } else if (0xD800...0xDBFF).contains(value) {
            escape = .lowSurrogate(HighSurrogate(value: value, end: after), matched: 0)
            return
        } else if (0xDC00...0xDFFF).contains(value) {
            throw failure("a \\u escape starts with a low surrogate", at: after)
        }
        escape = .none
        guard let unicode = Unicode.Scalar(scalar) else { throw failure("invalid \\u escape", at: after) }
        for unit in String(Character(unicode)).utf8 { append(unit, role: role, onEvent) }
    }

    private mutating func append(_ byte: UInt8, role: Role, _ onEvent: (Event) -> Void) {
        utf8.add(byte)
        switch role {
        case .key: key.append(byte)
        case .media: emitMedia(byte: byte, onEvent)
        case .value: break
        }
    }

    /// The closing quote; the position has not yet moved past it. A value string is ended
    /// by `read`, which knows where its last byte is for the capture.
    private mutating func endString(role: Role, _ onEvent: (Event) -> Void) throws(FormParseError) {
        guard utf8.isComplete else { throw failure("a string is not valid UTF-8", at: position.place(after: UInt8(ascii: "\""))) }
        token = .none
        switch role {
        case .key:
            let name = String(decoding: key, as: UTF8.self)
            guard stack[stack.count - 1].keys.insert(name).inserted else {
                throw failure("duplicate key '\(name)'", at: keyStart)
            }
            lastKey = name
            if stack.count == 1 { memberName = name }
            expect = .colon
        case .media:
            // Only a top-level member is read as media.
            flushMedia(onEvent)
            onEvent(.mediaEnd)
            expect = .afterValue
            memberName = nil
        case .value:
            break
        }
    }

    // MARK: - Numbers

    /// Takes `byte` into the number being read; false when it is not part of it.
    private mutating func readNumber(_ byte: UInt8) throws(FormParseError) -> Bool {
        let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
        switch numberState {
        case .sign:
            if byte == UInt8(ascii: "-"), number.isEmpty {
                number.append(byte)
                return true
            }
            guard isDigit else { throw failure("a number needs digits after '-'") }
            numberState = byte == UInt8(ascii: "0") ? .leadingZero : .integer
        case .leadingZero:
            if isDigit { throw failure("numbers may not have leading zeros", at: numberStart) }
            return try readNumberSuffix(byte)
        case .integer:
            if !isDigit { return try readNumberSuffix(byte) }
        case .point:
            guard isDigit else { throw failure("a number needs digits after '.'") }
            numberState = .fraction
        case .fraction:
            if !isDigit { return try readNumberSuffix(byte) }
        case .exponentMark:
            if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") {
                numberState = .exponentSign
                number.append(byte)
                return true
            }
            guard isDigit else { throw failure("a number needs digits in its exponent") }
            numberState = .exponent
        case .exponentSign:
            guard isDigit else { throw failure("a number needs digits in its exponent") }
            numberState = .exponent
        case .exponent:
            if !isDigit { return false }
        }
        number.append(byte)
        return true
    }

    /// After the integer part (or the fraction): `.`, `e` or the end of the number.
    private mutating func readNumberSuffix(_ byte: UInt8) throws(FormParseError) -> Bool {
        switch (numberState, byte) {
        case (.leadingZero, UInt8(ascii: ".")), (.integer, UInt8(ascii: ".")):
            numberState = .point
        case (_, UInt8(ascii: "e")), (_, UInt8(ascii: "E")):
            numberState = .exponentMark
        default:
            return false
        }
        number.append(byte)
        return true
    }

    /// The number ended (at the next byte, or at the end of the body).
    private mutating func endNumber() throws(FormParseError) {
        switch numberState {
        case .sign: throw failure("a number needs digits after '-'")
        case .point: throw failure("a number needs digits after '.'")
        case .exponentMark, .exponentSign: throw failure("a number needs digits in its exponent")
        case .leadingZero, .integer, .fraction, .exponent: break
        }
        token = .none
        let isInteger = !number.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        let text = String(decoding: number, as: UTF8.self)
        if isInteger, Int64(text) != nil || UInt64(text) != nil { return }
        guard let value = Double(text), value.isFinite else { throw failure("the number \(text) is out of range", at: numberStart) }
    }

    // MARK: - Messages

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// A byte as JSONParser names it: `'c'` when printable ASCII, else `byte 0xNN`.
    private static func describe(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }

    private static func describeBare(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte) ? String(Character(Unicode.Scalar(byte))) : "byte 0x\(String(byte, radix: 16))"
    }

    private func failure(_ reason: String, at place: Place? = nil) -> FormParseError {
        let place = place ?? position.place
        return FormParseError(reason: "not valid JSON at line \(place.line), column \(place.column): \(reason)")
    }
}

/// A line and a 1-based column in characters, kept where a message may need them later.
struct Place {
    var line = 1
    var column = 1
}

/// Where the reader is in the body: the line, and the column in characters (grapheme
/// clusters, as `String.count` counts them) of the next byte.
struct TextPosition {
    private(set) var line = 1
    /// Characters on this line before `pending`.
    private var settled = 0
    /// The line's bytes since its last certain character boundary: empty while the line is
    /// ASCII, otherwise from the ASCII character before its first non-ASCII byte on.
    private var pending: [UInt8] = []
    private var lastByte: UInt8 = 0

    /// The 1-based column of the next byte.
    var column: Int {
        settled + (pending.isEmpty ? 0 : String(decoding: pending, as: UTF8.self).count) + 1
    }

    /// The line and column of the next byte, as a message names them.
    var place: Place { Place(line: line, column: column) }

    /// The place after `byte`, which is the next byte.
    func place(after byte: UInt8) -> Place {
        var next = self
        next.advance(byte)
        return next.place
    }

    mutating func advance(_ byte: UInt8) {
        defer { lastByte = byte }
        if byte == UInt8(ascii: "\n") {
            line += 1
            settled = 0
            pending.removeAll(keepingCapacity: true)
            return
        }
        if byte < 0x80 {
            if pending.isEmpty {
                settled += 1
            } else if lastByte < 0x80 {
                // Two ASCII bytes in a row: a certain boundary between them.
                settled += String(decoding: pending, as: UTF8.self).count + 1
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
            return
        }
        if pending.isEmpty, settled > 0 {
            // The ASCII character before may combine with what follows.
            settled -= 1
            pending.append(lastByte)
        }
        pending.append(byte)
        if pending.count > 4096 { settlePending() }
    }

    /// Counts all but the last 16 bytes of a long run of non-ASCII text (from a lead byte), so
    /// the text kept stays short; exact for every cluster shorter than that.
    private mutating func settlePending() {
        var cut = pending.count - 16
        while cut > 0, pending[cut] & 0xC0 == 0x80 { cut -= 1 }
        settled += String(decoding: pending[..<cut], as: UTF8.self).count
        pending.removeSubrange(..<cut)
    }

    /// Moves over printable ASCII with no line feed.
    mutating func advance(overASCII run: UnsafeRawBufferPointer) {
        guard let last = run.last else { return }
        if run.count <= 2 || !pending.isEmpty {
            for byte in run.prefix(2) { advance(byte) }
            settled += max(0, run.count - 2)
        } else {
            settled += run.count
        }
        lastByte = last
    }
}

/// RFC 3629 UTF-8, checked a byte at a time as `String(validating:)` would check the whole.
struct UTF8Validation {
    private var remaining = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF
    private var isValid = true

    var isComplete: Bool { isValid && remaining == 0 }

    mutating func add(_ byte: UInt8) {
        guard isValid else { return }
        guard remaining == 0 else {
            guard byte >= lower, byte <= upper else {
                isValid = false
                return
            }
            lower = 0x80
            upper = 0xBF
            remaining -= 1
            return
        }
        switch byte {
        case 0x00...0x7F: break
        case 0xC2...0xDF: remaining = 1
        case 0xE0: (remaining, lower) = (2, 0xA0)
        case 0xE1...0xEC, 0xEE...0xEF: remaining = 2
        case 0xED: (remaining, upper) = (2, 0x9F)
        case 0xF0: (remaining, lower) = (3, 0x90)
        case 0xF1...0xF3: remaining = 3
        case 0xF4: (remaining, upper) = (3, 0x8F)
        default: isValid = false
        }
    }

    /// ASCII text follows: a sequence still waiting for continuation bytes is broken.
    mutating func requireLead() {
        if remaining > 0 { isValid = false }
    }
}
