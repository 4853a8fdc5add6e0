import CVectorKernels

/// Decodes standard base64 (RFC 4648 §4) as it streams in, so a `media_data` value is never
/// held as text: only the decoded bytes are kept.
///
/// Written here rather than taken from swift-extras-base64 (1.2.0, in the package mirror): that
/// decoder takes a whole value at once, whose length must be a multiple of four, so it cannot
/// continue a group cut between two pieces of a body, does not skip MIME line breaks, and
/// reports a bad character without its offset; its hot loop (Chromium's four pre-shifted tables,
/// 3.4 GB/s of text on one core) is also scalar. Whole blocks of 16 or 32 alphabet characters go
/// to the vector kernels of CVectorKernels (Muła and Lemire: nibble lookups with `pshufb` to check
/// and translate, multiply-adds to pack); C because neither Swift's SIMD types nor that package
/// have a byte shuffle, and Swift built for baseline x86-64 cannot use SSSE3 or AVX2 without
/// per-function target attributes and a run-time check of the CPU. The rest — text before and
/// after a line break, padding, a group split between pieces, every error — goes through the
/// scalar loop below (four pre-shifted tables, eight characters per step, one store per group),
/// which is also the whole decoder on CPUs without SSSE3. docs/performance.md has the figures.
///
/// Accepted: the standard alphabet, CR and LF anywhere (MIME line breaks), `=` padding at the
/// very end or no padding at all. Refused, with the offset of the offending byte counted from
/// the start of the value: any other byte (spaces, base64url's `-` and `_`), `=` in the middle,
/// anything but line breaks after the padding, and an incomplete padding or a lone final
/// character at `finish`. Unused low bits of the last group are ignored, as most decoders do.
package struct Base64StreamDecoder: Sendable {
    /// Table values above 63 mark bytes that leave the fast path.
    private static let lineBreak: UInt32 = 0x100
    private static let paddingMark: UInt32 = 0x200
    private static let notBase64: UInt32 = 0x400

    /// A character's 6 bits placed where they land in its group's three bytes, one table per
    /// position in the group, so a group is four lookups ORed: byte 0 of the result is the
    /// first decoded byte (little-endian), byte 3 is 0. Anything but the 64 characters sets
    /// bit 24, so one test on the OR of a group finds it. Tables 1 to 3 follow table 0.
    private static let groupTables: [UInt32] = {
        var tables = [UInt32](repeating: 0x0100_0000, count: 4 * 256)
        for (value, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            let value = UInt32(value)
            tables[Int(byte)] = value << 2
            tables[256 + Int(byte)] = value >> 4 | (value & 0xF) << 12
            tables[512 + Int(byte)] = (value >> 2) << 8 | (value & 0x3) << 22
            tables[768 + Int(byte)] = value << 16
        }
        return tables
    }()

    /// Byte → 6-bit value, or one of the marks above.
    private static let table: [UInt32] = {
        var table = [UInt32](repeating: notBase64, count: 256)
        for (value, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt32(value)
        }
        table[Int(UInt8(ascii: "\r"))] = lineBreak
        table[Int(UInt8(ascii: "\n"))] = lineBreak
        table[Int(UInt8(ascii: "="))] = paddingMark
        return table
    }()

    /// Bits of the group in progress, `groupLength` characters of 6 bits each.
    private var group: UInt32 = 0
    private var groupLength = 0
    private var paddingLength = 0
    /// Bytes of base64 text seen before the current piece.
    private var offset = 0
    /// Where the last character handled one at a time was, for the lone-character error.
    private var lastCharacterOffset = 0

    /// Which vector kernel decodes whole blocks of characters (AVX-512 runs the AVX2 one).
    private let kernel: VectorKernel

    package init() {
        self.init(kernel: .best)
    }

    init(kernel: VectorKernel) {
        self.kernel = kernel
    }

    /// Decodes `piece` and appends the complete bytes to `output`; a group cut off at the end
    /// of the piece is kept for the next call.
    package mutating func decode(_ piece: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(FormParseError) {
        guard let input = piece.baseAddress, !piece.isEmpty else { return }
        // Room for every byte this piece can complete and one more (a group is stored as four
        // bytes, the fourth overwritten by the next group), grown as an append would grow it.
        let room = (groupLength + piece.count) / 4 * 3 + 4
        if output.capacity - output.count < room {
            output.reserveCapacity(Swift.max(output.count + room, 2 * output.capacity))
        }
        var failure: FormParseError?
        withUnsafeMutablePointer(to: &self) { decoder in
            withUnsafeMutablePointer(to: &failure) { failure in
                output.append(contentsOf: DecodedRun(decoder: decoder, input: input.assumingMemoryBound(to: UInt8.self),
                                                     count: piece.count, room: room, failure: failure))
            }
        }
        offset += piece.count
        if let failure { throw failure }
    }

    /// `Array.append(contentsOf:)` lets a sequence's `_copyContents(initializing:)` write the new
    /// elements straight into the array's spare capacity: the decoder writes there, so the room
    /// is not zeroed first only to be overwritten (a tenth of a urlencoded `media_data`
    /// APPEND's instructions; docs/performance.md). It claims no elements up front (the
    /// append then reserves nothing: `decode` did) and reports how many it wrote.
    private struct DecodedRun: Sequence {
        let decoder: UnsafeMutablePointer<Base64StreamDecoder>
        let input: UnsafePointer<UInt8>
        let count: Int
        let room: Int
        let failure: UnsafeMutablePointer<FormParseError?>

        var underestimatedCount: Int { 0 }

        func makeIterator() -> EmptyCollection<UInt8>.Iterator { EmptyCollection().makeIterator() }

        func _copyContents(initializing destination: UnsafeMutableBufferPointer<UInt8>)
            -> (EmptyCollection<UInt8>.Iterator, Int) {
            // `decode` made the room; the array hands all its spare capacity over.
            precondition(destination.count >= room, "the base64 output has less room than decode reserved")
            guard let base = destination.baseAddress else { return (makeIterator(), 0) }
            // The decoder's state in a local for the loop: through the pointer, every store to
            // the output could alias it, and the scalar loop reloaded it at each group.
            var state = decoder.pointee
            var failed: FormParseError?
            let written = Base64StreamDecoder.table.withUnsafeBufferPointer { table in
                Base64StreamDecoder.groupTables.withUnsafeBufferPointer { groupTables in
                    state.decodeRun(input, count: count, into: base, room: room, table: table,
                                    groupTables: groupTables, failure: &failed)
                }
            }
            decoder.pointee = state
            failure.pointee = failed
            return (makeIterator(), written)
        }
    }

    /// The value is complete: appends the bytes of a final unpadded group, or throws if the
    /// text cannot have come from an encoder.
    package mutating func finish(into output: inout [UInt8]) throws(FormParseError) {
        defer { self = Base64StreamDecoder(kernel: kernel) }
        if paddingLength > 0, groupLength + paddingLength != 4 {
            throw FormParseError(reason: "the base64 text ends with incomplete '=' padding (offset \(offset))")
        }
        switch groupLength {
        case 1:
            throw FormParseError(reason: "the base64 text ends with a lone character, which cannot encode a byte (offset \(lastCharacterOffset))")
        case 2:
            output.append(UInt8(truncatingIfNeeded: group >> 4))
        case 3:
            output.append(UInt8(truncatingIfNeeded: group >> 10))
            output.append(UInt8(truncatingIfNeeded: group >> 2))
        default:
            break
        }
    }

    /// Decodes a whole value held as text (a query parameter, a JSON string).
    package static func decode(_ text: String) throws(FormParseError) -> [UInt8] {
        var text = text
        var decoder = Base64StreamDecoder()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count / 4 * 3 + 3)
        try text.withUTF8 { utf8 in
            Result { () throws(FormParseError) in try decoder.decode(UnsafeRawBufferPointer(utf8), into: &bytes) }
        }.get()
        try decoder.finish(into: &bytes)
        return bytes
    }

    /// The hot loop: whole blocks of alphabet characters go to the vector kernel; whole groups
    /// of four, two groups per step where it can, go through `groupTables` and are stored as one
    /// word each; everything else (line breaks, padding, a group split between pieces, errors)
    /// goes one byte at a time through `step`. Returns the number of bytes written. `output` has
    /// `room` bytes, at least one past the last group; the kernel stores only within them.
    /// Offsets use wrapping arithmetic: every one is below `count` or `room`, and overflow
    /// checks would double the loop's instructions.
    private mutating func decodeRun(_ input: UnsafePointer<UInt8>, count: Int, into output: UnsafeMutablePointer<UInt8>, room: Int,
                                    table: UnsafeBufferPointer<UInt32>, groupTables: UnsafeBufferPointer<UInt32>,
                                    failure: inout FormParseError?) -> Int {
        guard let tables = groupTables.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(input)
        let target = UnsafeMutableRawPointer(output)
        /// The three bytes of the group in the low 32 bits of `characters`, bit 24 set if any
        /// of its characters is not in the alphabet.
        @inline(__always) func group(_ characters: UInt64) -> UInt32 {
            tables[Int(truncatingIfNeeded: characters & 0xFF)]
                | tables[256 &+ Int(truncatingIfNeeded: characters &>> 8 & 0xFF)]
                | tables[512 &+ Int(truncatingIfNeeded: characters &>> 16 & 0xFF)]
                | tables[768 &+ Int(truncatingIfNeeded: characters &>> 24 & 0xFF)]
        }
        var index = 0
        var written = 0
        while index < count {
            if groupLength == 0, paddingLength == 0 {
                if kernel != .scalar, index &+ 16 <= count {
                    let decoded = cbase64_decode_blocks(kernel.level, input + index, count &- index, output + written, room &- written)
                    index &+= decoded
                    written &+= decoded / 4 &* 3
                }
                while index &+ 8 <= count {
                    let characters = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                    let first = group(characters), second = group(characters &>> 32)
                    guard (first | second) < 0x0100_0000 else { break }
                    (target + written).storeBytes(of: first.littleEndian, as: UInt32.self)
                    (target + (written &+ 3)).storeBytes(of: second.littleEndian, as: UInt32.self)
                    written &+= 6
                    index &+= 8
                }
                if index &+ 4 <= count {
                    let characters = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt32.self)))
                    let bits = group(characters)
                    if bits < 0x0100_0000 {
                        (target + written).storeBytes(of: bits.littleEndian, as: UInt32.self)
                        written &+= 3
                        index &+= 4
                        continue
                    }
                }
                if index == count { break }
            }
            do {
                try step(input[index], value: table[Int(input[index])], at: offset + index, output: output, written: &written)
            } catch {
                failure = error
                break
            }
            index += 1
        }
        return written
    }

    private mutating func step(_ byte: UInt8, value: UInt32, at position: Int,
                               output: UnsafeMutablePointer<UInt8>, written: inout Int) throws(FormParseError) {
        switch value {
        case 0..<64:
            guard paddingLength == 0 else {
                throw FormParseError(reason: "base64 data continues after the '=' padding (\(Self.describe(byte)) at offset \(position))")
            }
            group = group << 6 | value
            groupLength += 1
            lastCharacterOffset = position
            if groupLength == 4 {
                output[written] = UInt8(truncatingIfNeeded: group >> 16)
                output[written + 1] = UInt8(truncatingIfNeeded: group >> 8)
                output[written + 2] = UInt8(truncatingIfNeeded: group)
                written += 3
                group = 0
                groupLength = 0
            }
        case Self.lineBreak:
            break
        case Self.paddingMark:
            guard groupLength >= 2 else {
                throw FormParseError(reason: "base64 padding '=' at offset \(position) is misplaced (it may only end the text)")
            }
            guard groupLength + paddingLength < 4 else {
                throw FormParseError(reason: "base64 text has too much '=' padding (offset \(position))")
            }
            paddingLength += 1
        default:
            throw FormParseError(reason: "\(Self.describe(byte)) at offset \(position) is not in the standard base64 alphabet\(Self.hint(byte))")
        }
    }

    private static func describe(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: " "): "a space"
        case 0x21..<0x7F: "'\(Character(Unicode.Scalar(byte)))'"
        default: "byte 0x\(byte < 16 ? "0" : "")\(String(byte, radix: 16, uppercase: true))"
        }
    }

    /// The likely cause of the two mistakes clients make most.
    private static func hint(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "_"): " (base64url is not accepted)"
        case UInt8(ascii: " "): " (a '+' sent unescaped in a urlencoded body arrives as a space)"
        default: ""
        }
    }
}
