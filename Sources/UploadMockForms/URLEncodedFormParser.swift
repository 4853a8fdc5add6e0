import CVectorKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A streaming `application/x-www-form-urlencoded` parser with the same events as
/// `MultipartParser`, so a 5 MiB base64 `media_data` value is decoded and handed on piece by
/// piece, never buffered whole.
///
/// Pairs are separated by `&`; `+` is a space and `%XX` a byte (an escape may straddle two
/// pieces). Empty pairs (`a=1&&b=2`) are skipped, a name without `=` is a field with an empty
/// value, and `=x` is a field with an empty name (as the WHATWG URL standard reads it). A
/// malformed escape (`%G1`, or a value ending in `%4`) is an error naming the field.
package struct URLEncodedFormParser: Sendable {
    /// Field names are short; a longer one means the body is not what its type claims.
    static let maximumNameBytes = 1024
    /// Decoded value bytes handed on per event when a piece holds escapes.
    private static let decodedPieceBytes = 64 * 1024

    private enum Position {
        case name
        case value
    }

    private var position = Position.name
    /// The current field name, still percent-encoded, while it is being read.
    private var encodedName: [UInt8] = []
    /// The decoded name of the field whose value is streaming, for error messages.
    private var fieldName = ""
    /// `%` and at most one hex digit of an escape cut off at the end of the previous piece.
    private var pendingEscape: [UInt8] = []
    /// Where a piece with escapes is decoded: its bytes are overwritten, never cleared, so a
    /// piece does not pay for zeroing its room first (it grows as `Array` would, up to
    /// `decodedPieceBytes`).
    private var decoded: [UInt8] = []
    /// Which vector kernel percent-decodes whole blocks; tests pick each one the CPU has.
    private let kernel: VectorKernel

    package init() {
        self.init(kernel: .best)
    }

    init(kernel: VectorKernel) {
        self.kernel = kernel
    }

    /// Parses the next piece of the body, calling `onEvent` for what it completes. Errors
    /// thrown by `onEvent` propagate unchanged; after any error the parser must be discarded.
    package mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (FormEvent) -> Void) throws(FormParseError) {
        var rest = bytes
        while !rest.isEmpty {
            switch position {
            case .name:
                rest = try readName(rest, onEvent)
            case .value:
                let ampersand = Self.firstOffset(of: UInt8(ascii: "&"), in: rest)
                try decodeValue(UnsafeRawBufferPointer(rebasing: rest[..<(ampersand ?? rest.count)]), onEvent)
                guard let ampersand else { return }
                try endField(onEvent)
                rest = UnsafeRawBufferPointer(rebasing: rest[(ampersand + 1)...])
            }
        }
    }

    /// The body has ended: completes the last field, or throws if it ends inside an escape.
    /// `onEvent` is the same callback as for `feed`.
    package mutating func finish(_ onEvent: (FormEvent) -> Void) throws(FormParseError) {
        switch position {
        case .name:
            if !encodedName.isEmpty {
                try beginField(onEvent)
                onEvent(.fieldEnd)
            }
        case .value:
            try endField(onEvent)
        }
    }

    /// Collects name bytes up to `=` (a value follows) or `&` (a field without value) and
    /// returns the rest of `bytes`.
    private mutating func readName(_ bytes: UnsafeRawBufferPointer,
                                   _ onEvent: (FormEvent) -> Void) throws(FormParseError) -> UnsafeRawBufferPointer {
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: "="):
                try beginField(onEvent)
                position = .value
                return UnsafeRawBufferPointer(rebasing: bytes[(index + 1)...])
            case UInt8(ascii: "&"):
                if !encodedName.isEmpty {  // `&&` is an empty pair, skipped
                    try beginField(onEvent)
                    onEvent(.fieldEnd)
                }
            case let byte:
                guard encodedName.count < Self.maximumNameBytes else {
                    throw FormParseError(reason: "a form field name is longer than \(Self.maximumNameBytes) bytes (it starts '\(String(decoding: encodedName.prefix(40), as: UTF8.self))')")
                }
                if encodedName.capacity == 0 { encodedName.reserveCapacity(32) }  // once: names are short
                encodedName.append(byte)
            }
        }
        return UnsafeRawBufferPointer(rebasing: bytes[bytes.endIndex...])
    }

    private mutating func beginField(_ onEvent: (FormEvent) -> Void) throws(FormParseError) {
        guard let name = Self.percentDecodedBytes(encodedName, plusIsSpace: true) else {
            throw FormParseError(reason: "form field name '\(String(decoding: encodedName, as: UTF8.self))' has an invalid percent-escape")
        }
        fieldName = String(decoding: name, as: UTF8.self)
        encodedName.removeAll(keepingCapacity: true)
        onEvent(.fieldBegin(FormFieldHead(name: fieldName)))
    }

    private mutating func endField(_ onEvent: (FormEvent) -> Void) throws(FormParseError) {
        guard pendingEscape.isEmpty else {
            throw FormParseError(reason: "form field '\(fieldName)' ends inside the percent-escape '\(String(decoding: pendingEscape, as: UTF8.self))'")
        }
        position = .name
        onEvent(.fieldEnd)
    }

    /// Decodes part of a value (no `&` in it) and hands it on: as slices of the input where
    /// it holds no escape, else through `decoded` in pieces of at most `decodedPieceBytes`.
    private mutating func decodeValue(_ bytes: UnsafeRawBufferPointer, _ onEvent: (FormEvent) -> Void) throws(FormParseError) {
        var rest = try completePendingEscape(bytes, onEvent)
        while !rest.isEmpty {
            let slice = UnsafeRawBufferPointer(rebasing: rest.prefix(Self.decodedPieceBytes))
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(slice.count))
            if Self.literalPrefixLength(slice) == slice.count {
                onEvent(.fieldData(slice))
                continue
            }
            if decoded.count < slice.count {
                decoded = Array(repeating: 0, count: min(Self.decodedPieceBytes, max(slice.count, decoded.count * 2)))
            }
            let result = decoded.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress.map { Self.decodeEscapes(slice, into: $0, kernel: kernel) } ?? (0, .end)
            }
            if result.written > 0 {
                decoded.withUnsafeBytes { onEvent(.fieldData(UnsafeRawBufferPointer(rebasing: $0[..<result.written]))) }
            }
            switch result.stop {
            case .end:
                break
            case .cutEscape(let length):
                pendingEscape.append(contentsOf: slice.suffix(length))
                rest = try completePendingEscape(rest, onEvent)
            case .invalidEscape(let at):
                // Up to the first bad digit, as when the escape straddles two pieces.
                let length = Self.hexValues[Int(slice[at + 1])] < 16 ? 3 : 2
                let escape = String(decoding: slice[at..<at + length], as: UTF8.self)
                throw FormParseError(reason: "form field '\(fieldName)' has an invalid percent-escape '\(escape)'")
            }
        }
    }

    /// Completes an escape cut off at the end of earlier bytes with the first bytes of `bytes`
    /// and returns the rest; hands the decoded byte on once the escape is whole.
    private mutating func completePendingEscape(_ bytes: UnsafeRawBufferPointer,
                                                _ onEvent: (FormEvent) -> Void) throws(FormParseError) -> UnsafeRawBufferPointer {
        guard !pendingEscape.isEmpty else { return bytes }
        var rest = bytes
        while pendingEscape.count < 3, let digit = rest.first {
            pendingEscape.append(digit)
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst())
            guard Self.hexValues[Int(digit)] < 16 else {
                throw FormParseError(reason: "form field '\(fieldName)' has an invalid percent-escape '\(String(decoding: pendingEscape, as: UTF8.self))'")
            }
        }
        if pendingEscape.count == 3 {
            var byte = Self.hexValues[Int(pendingEscape[1])] << 4 | Self.hexValues[Int(pendingEscape[2])]
            pendingEscape.removeAll(keepingCapacity: true)
            withUnsafeBytes(of: &byte) { onEvent(.fieldData($0)) }
        }
        return rest
    }

    // MARK: - Decoding

    /// Hex digit → value; 0xFF for anything else.
    private static let hexValues: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, digit) in "0123456789abcdef".utf8.enumerated() {
            table[Int(digit)] = UInt8(value)
        }
        for (value, digit) in "ABCDEF".utf8.enumerated() {
            table[Int(digit)] = UInt8(value + 10)
        }
        return table
    }()

    private enum DecodeStop {
        case end
        /// The input ends with `%` or `%X`: that many bytes are left undecoded.
        case cutEscape(length: Int)
        /// The escape at this input offset is malformed.
        case invalidEscape(at: Int)
    }

    /// How many leading bytes need no decoding (neither `%` nor `+`).
    private static func literalPrefixLength(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard let input = bytes.baseAddress else { return 0 }
        var index = 0
        while index + 8 <= bytes.count, !containsPercentOrPlus(input.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
            index += 8
        }
        while index < bytes.count, bytes[index] != UInt8(ascii: "%"), bytes[index] != UInt8(ascii: "+") {
            index += 1
        }
        return index
    }

    /// Decodes `input` (`+` as space) into `output`, which has room for `input.count` bytes.
    /// The vector kernel (percent_simd.c) takes whole blocks without a branch per escape; the
    /// loop below takes the last bytes and any block with a malformed escape, so errors and
    /// cut-off escapes are found and worded here alone.
    private static func decodeEscapes(_ input: UnsafeRawBufferPointer, into output: UnsafeMutablePointer<UInt8>,
                                      kernel: VectorKernel = .best) -> (written: Int, stop: DecodeStop) {
        guard let start = input.baseAddress else { return (0, .end) }
        let bytes = start.assumingMemoryBound(to: UInt8.self)
        let count = input.count
        var index = 0
        var written = 0
        if kernel != .scalar {
            index = cpercent_decode_blocks(kernel.level, bytes, count, output, &written)
        }
        return hexValues.withUnsafeBufferPointer { hex in
            while index < count {
                // Sixteen bytes at a time: a block without `%` or `+` is stored whole; in one
                // with them, the bytes before the first are kept and it is decoded from there
                // (base64 text has an escape in ~21 bytes). `written` never passes `index`, so
                // the store stays within the room.
                if index &+ 16 <= count {
                    let block = UnsafeRawPointer(bytes + index).loadUnaligned(as: SIMD16<UInt8>.self)
                    UnsafeMutableRawPointer(output + written).storeBytes(of: block, as: SIMD16<UInt8>.self)
                    let found = VectorScan.firstMarked((block .== SIMD16(repeating: UInt8(ascii: "%")))
                                                           .| (block .== SIMD16(repeating: UInt8(ascii: "+"))))
                    let clean = found ?? 16
                    index &+= clean
                    written &+= clean
                    if found == nil { continue }
                } else if index &+ 8 <= count {
                    let word = UInt64(littleEndian: UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self))
                    UnsafeMutableRawPointer(output + written).storeBytes(of: word.littleEndian, as: UInt64.self)
                    let found = percentOrPlus(word)
                    let clean = found == 0 ? 8 : found.trailingZeroBitCount &>> 3
                    index &+= clean
                    written &+= clean
                    if found == 0 { continue }
                }
                let byte = bytes[index]
                if byte == UInt8(ascii: "%") {
                    guard index + 2 < count else {
                        if index + 1 < count, hex[Int(bytes[index + 1])] > 15 { return (written, .invalidEscape(at: index)) }
                        return (written, .cutEscape(length: count - index))
                    }
                    let high = hex[Int(bytes[index + 1])], low = hex[Int(bytes[index + 2])]
                    guard high | low < 16 else { return (written, .invalidEscape(at: index)) }
                    output[written] = high << 4 | low
                    index += 3
                } else {
                    output[written] = byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte
                    index += 1
                }
                written += 1
            }
            return (written, .end)
        }
    }

    /// Whether any byte of `word` is `%` or `+`.
    @inline(__always)
    private static func containsPercentOrPlus(_ word: UInt64) -> Bool {
        percentOrPlus(word) != 0
    }

    /// The high bit of every byte of `word` (little-endian) that may be `%` or `+`, by the
    /// classic SWAR zero-byte test on `word` XOR each of them: exact for "none", and the lowest
    /// bit set is the first such byte.
    @inline(__always)
    private static func percentOrPlus(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let percent = word ^ (ones &* UInt64(UInt8(ascii: "%")))
        let plus = word ^ (ones &* UInt64(UInt8(ascii: "+")))
        return ((percent &- ones) & ~percent | (plus &- ones) & ~plus) & highs
    }

    /// Decodes a complete name or value; nil if an escape is malformed or cut off. With
    /// `plusIsSpace` false a `+` stays a `+` (RFC 3986 and RFC 5987 text).
    package static func percentDecodedBytes(_ bytes: [UInt8], plusIsSpace: Bool) -> [UInt8]? {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return bytes }
        // Escaping a literal `+` first lets the one decoder serve both readings.
        let input = plusIsSpace ? bytes : bytes.flatMap { $0 == UInt8(ascii: "+") ? Array("%2B".utf8) : [$0] }
        var output = [UInt8](repeating: 0, count: input.count)
        let result = input.withUnsafeBytes { input in
            output.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { decodeEscapes(input, into: $0) } ?? (0, .end) }
        }
        guard case .end = result.stop else { return nil }
        output.removeLast(output.count - result.written)
        return output
    }

    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    /// RFC 3986 percent-encoding: everything but unreserved characters, uppercase hex (OAuth
    /// signatures, links the admin API writes).
    package static func percentEncode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0xF)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether every `%` in `bytes` begins an escape of two hex digits: whether
    /// `percentDecodedBytes` decodes them, found without decoding.
    package static func hasValidEscapes(_ bytes: ArraySlice<UInt8>) -> Bool {
        var rest = bytes
        while let percent = rest.firstIndex(of: UInt8(ascii: "%")) {
            guard percent + 2 < rest.endIndex, hexValues[Int(rest[percent + 1])] | hexValues[Int(rest[percent + 2])] < 16 else {
                return false
            }
            rest = rest[(percent + 3)...]
        }
        return true
    }

    /// Decodes `%XX` escapes (and `+` as a space when asked), as in an OAuth `Authorization`
    /// header value; throws on a malformed or cut-off escape.
    package static func percentDecode(_ text: Substring, plusIsSpace: Bool) throws(FormParseError) -> String {
        guard let decoded = percentDecodedBytes(Array(text.utf8), plusIsSpace: plusIsSpace) else {
            throw FormParseError(reason: "invalid percent-escape in '\(text.prefix(80))'")
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    /// All pairs of a query string, in order, by the same rules as a body: `a&b=` gives `a`
    /// and `b`, both with empty values. Values that are not UTF-8 are repaired with U+FFFD.
    package static func parse(_ query: some StringProtocol) throws(FormParseError) -> [(name: String, value: String)] {
        var text = String(query)
        guard !text.isEmpty else { return [] }
        var parser = URLEncodedFormParser()
        // Sized once, and one buffer for every value: a STATUS's query cost seven allocations.
        var pairs: [(name: String, value: String)] = []
        pairs.reserveCapacity(text.utf8.reduce(1) { $1 == UInt8(ascii: "&") ? $0 + 1 : $0 })
        var name = ""
        var value: [UInt8] = []
        func collect(_ event: FormEvent) {
            switch event {
            case .fieldBegin(let head):
                name = head.name
                value.removeAll(keepingCapacity: true)
            case .fieldData(let bytes): value.append(contentsOf: bytes)
            case .fieldEnd: pairs.append((name, String(decoding: value, as: UTF8.self)))
            }
        }
        try text.withUTF8 { bytes in
            Result { () throws(FormParseError) in try parser.feed(UnsafeRawBufferPointer(bytes), collect) }
        }.get()
        try parser.finish(collect)
        return pairs
    }

    /// The offset of the first `byte` in `bytes`, found with `memchr`.
    private static func firstOffset(of byte: UInt8, in bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress, let hit = memchr(base, Int32(byte), bytes.count) else { return nil }
        return UnsafeRawPointer(hit) - base
    }
}
