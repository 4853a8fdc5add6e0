/// Decodes standard base64 as it streams in (for `media_data`), so the decoded bytes are the
/// only copy kept. Line breaks are ignored; padding may be omitted at the very end; any other
/// character, or data after padding, is an error naming its offset.
struct Base64StreamDecoder {
    private static let invalid: UInt8 = 0xFF
    private static let ignored: UInt8 = 0xFE
    private static let table: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        for (index, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = UInt8(index)
        }
        table[Int(UInt8(ascii: "\r"))] = ignored
        table[Int(UInt8(ascii: "\n"))] = ignored
        return table
    }()

    private var quad: UInt32 = 0
    private var quadCount = 0
    private var padding = 0
    private var offset = 0

    mutating func decode(_ piece: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        output.reserveCapacity(output.count + piece.count / 4 * 3 + 3)
        try Self.table.withUnsafeBufferPointer { table in
            var index = 0
            while index < piece.count {
                // Fast path: whole groups of four alphabet characters.
                if quadCount == 0, padding == 0, index + 4 <= piece.count {
                    let a = table[Int(piece[index])], b = table[Int(piece[index + 1])]
                    let c = table[Int(piece[index + 2])], d = table[Int(piece[index + 3])]
                    if (a | b | c | d) < 64 {
                        let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                        output.append(UInt8(truncatingIfNeeded: group >> 16))
                        output.append(UInt8(truncatingIfNeeded: group >> 8))
                        output.append(UInt8(truncatingIfNeeded: group))
                        index += 4
                        continue
                    }
                }
                try decodeOne(piece[index], value: table[Int(piece[index])], offset: offset + index, into: &output)
                index += 1
            }
            offset += piece.count
        }
    }

    private mutating func decodeOne(_ byte: UInt8, value: UInt8, offset: Int, into output: inout [UInt8]) throws {
        if value < 64 {
            guard padding == 0 else {
                throw FormParseError(reason: "data after '=' padding at offset \(offset)")
            }
            quad = quad << 6 | UInt32(value)
            quadCount += 1
            if quadCount == 4 {
                output.append(UInt8(truncatingIfNeeded: quad >> 16))
                output.append(UInt8(truncatingIfNeeded: quad >> 8))
                output.append(UInt8(truncatingIfNeeded: quad))
                quad = 0
                quadCount = 0
            }
        } else if value == Self.ignored {
            return
        } else if byte == UInt8(ascii: "=") {
            guard quadCount >= 2, quadCount + padding < 4 else {
                throw FormParseError(reason: "misplaced '=' padding at offset \(offset)")
            }
            padding += 1
        } else {
            let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(UnicodeScalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
            throw FormParseError(reason: "\(shown) at offset \(offset) is not in the base64 alphabet")
        }
    }

    /// Flushes the last group; a single leftover character cannot encode a byte.
    mutating func finish(into output: inout [UInt8]) throws {
        switch quadCount {
        case 0:
            return
        case 1:
            throw FormParseError(reason: "the data ends with a lone base64 character (length \(offset) is not valid)")
        case 2:
            output.append(UInt8(truncatingIfNeeded: quad >> 4))
        default:
            output.append(UInt8(truncatingIfNeeded: quad >> 10))
            output.append(UInt8(truncatingIfNeeded: quad >> 2))
        }
        quad = 0
        quadCount = 0
    }
}
