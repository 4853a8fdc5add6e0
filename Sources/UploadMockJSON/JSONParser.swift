/// A strict JSON parser (RFC 8259) for documents users write: config files and admin API
/// bodies. Written by hand, rather than with JSONDecoder, because users need what Foundation
/// does not give: the line and column of a syntax error, duplicate keys refused instead of
/// silently overwritten, object keys kept in order, and bounds on depth and size checked in
/// one linear pass.
package struct JSONParser {
    /// Bounds that keep a hostile document from costing more than a linear pass.
    package struct Limits: Sendable {
        /// Nesting of arrays and objects.
        package var maximumDepth = 64
        /// Values of every kind in the whole document (members and elements included).
        package var maximumValues = 100_000

        package init() {}
    }

    private let bytes: [UInt8]
    private let limits: Limits
    private var index = 0
    private var depth = 0
    private var values = 0

    private init(_ bytes: [UInt8], limits: Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// Parses one JSON document; the error gives the line and column of the problem.
    package static func parse(_ bytes: some Sequence<UInt8>, limits: Limits = Limits()) throws(ConfigurationError) -> JSONValue {
        var parser = JSONParser(Array(bytes), limits: limits)
        parser.skipWhitespace()
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.failure("unexpected \(parser.describeNext()) after the document") }
        return value
    }

    private mutating func value() throws(ConfigurationError) -> JSONValue {
        values += 1
        guard values <= limits.maximumValues else {
            throw failure("the document has more than \(limits.maximumValues) values")
        }
        guard index < bytes.count else { throw failure("the document ends where a value was expected") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw failure("unexpected \(describeNext()) where a value was expected")
        }
    }

    private mutating func object() throws(ConfigurationError) -> JSONValue {
        try enterNesting()
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        var keys = Set<String>()
        skipWhitespace()
        if peek(UInt8(ascii: "}")) {
            index += 1
            depth -= 1
            return .object([:])
        }
        while true {
            skipWhitespace()
            guard peek(UInt8(ascii: "\"")) else { throw failure("expected a quoted key, found \(describeNext())") }
            let keyStart = index
            let key = try string()
            guard keys.insert(key).inserted else {
                throw failure("duplicate key '\(key)'", at: keyStart)
            }
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw failure("expected ':' after the key '\(key)', found \(describeNext())") }
            index += 1
            skipWhitespace()
            members.append((key, try value()))
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                index += 1
                skipWhitespace()
                if peek(UInt8(ascii: "}")) { throw failure("trailing comma before '}'") }
                continue
            }
            guard peek(UInt8(ascii: "}")) else { throw failure("expected ',' or '}' in an object, found \(describeNext())") }
            index += 1
            depth -= 1
            return .object(JSONObject(distinctMembers: members))
        }
    }

    private mutating func array() throws(ConfigurationError) -> JSONValue {
        try enterNesting()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) {
            index += 1
            depth -= 1
            return .array([])
        }
        while true {
            skipWhitespace()
            elements.append(try value())
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                index += 1
                skipWhitespace()
                if peek(UInt8(ascii: "]")) { throw failure("trailing comma before ']'") }
                continue
            }
            guard peek(UInt8(ascii: "]")) else { throw failure("expected ',' or ']' in an array, found \(describeNext())") }
            index += 1
            depth -= 1
            return .array(elements)
        }
    }

    private mutating func enterNesting() throws(ConfigurationError) {
        depth += 1
        guard depth <= limits.maximumDepth else {
            throw failure("arrays and objects are nested more than \(limits.maximumDepth) deep")
        }
    }

    private mutating func literal(_ word: String, _ value: JSONValue) throws(ConfigurationError) -> JSONValue {
        let expected = Array(word.utf8)
        guard bytes.count - index >= expected.count, bytes[index..<index + expected.count].elementsEqual(expected) else {
            throw failure("unexpected \(describeNext()) where a value was expected")
        }
        index += expected.count
        return value
    }

    /// RFC 8259 numbers: integers that fit become `.int` (or `.uint` above Int64), the rest `.double`.
    private mutating func number() throws(ConfigurationError) -> JSONValue {
        let start = index
        var isInteger = true
        if peek(UInt8(ascii: "-")) { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw failure("a number needs digits after '-'") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) { throw failure("numbers may not have leading zeros", at: start) }
        } else {
            skipDigits()
        }
        if peek(UInt8(ascii: ".")) {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("a number needs digits after '.'") }
            skipDigits()
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            isInteger = false
            index += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("a number needs digits in its exponent") }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger {
            if let value = Int64(text) { return .int(value) }
            if let value = UInt64(text) { return .uint(value) }
        }
        guard let value = Double(text), value.isFinite else { throw failure("the number \(text) is out of range", at: start) }
        return .double(value)
    }

    private mutating func string() throws(ConfigurationError) -> String {
        index += 1
        var output: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: output, as: UTF8.self) else {
                    throw failure("a string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                try escape(into: &output)
            case 0..<0x20:
                throw failure("a control character (0x\(String(byte, radix: 16))) must be escaped inside a string")
            default:
                output.append(byte)
                index += 1
            }
        }
        throw failure("the document ends inside a string")
    }

    private mutating func escape(into output: inout [UInt8]) throws(ConfigurationError) {
        index += 1
        guard index < bytes.count else { throw failure("the document ends inside a string") }
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): UInt8(ascii: "\""), UInt8(ascii: "\\"): UInt8(ascii: "\\"), UInt8(ascii: "/"): UInt8(ascii: "/"),
            UInt8(ascii: "b"): 0x08, UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]
        if let replacement = simple[bytes[index]] {
            output.append(replacement)
            index += 1
            return
        }
        guard bytes[index] == UInt8(ascii: "u") else { throw failure("invalid escape '\\\(describe(bytes[index]))' in a string") }
        index += 1
        var scalar = try hexQuad()
        if (0xD800...0xDBFF).contains(scalar) {
            guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("a \\u escape of a high surrogate must be followed by a low surrogate")
            }
            index += 2
            let low = try hexQuad()
            guard (0xDC00...0xDFFF).contains(low) else { throw failure("invalid low surrogate in a \\u escape") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(scalar) {
            throw failure("a \\u escape starts with a low surrogate")
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw failure("invalid \\u escape") }
        output.append(contentsOf: String(Character(unicode)).utf8)
    }

    private mutating func hexQuad() throws(ConfigurationError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw failure("a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = hexValue(bytes[index]) else { throw failure("a \\u escape needs four hex digits") }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private func peek(_ byte: UInt8) -> Bool { index < bytes.count && bytes[index] == byte }

    private func describeNext() -> String {
        index < bytes.count ? describe(bytes[index]).quotedIfPrintable : "the end of the document"
    }

    private func describe(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte) ? String(Character(Unicode.Scalar(byte))) : "byte 0x\(String(byte, radix: 16))"
    }

    /// An error naming the 1-based line and column (in characters) of `position`.
    private func failure(_ reason: String, at position: Int? = nil) -> ConfigurationError {
        let offset = min(position ?? index, bytes.count)
        var line = 1, lineStart = 0
        for (at, byte) in bytes[..<offset].enumerated() where byte == UInt8(ascii: "\n") {
            line += 1
            lineStart = at + 1
        }
        let column = String(decoding: bytes[lineStart..<offset], as: UTF8.self).count + 1
        return ConfigurationError("not valid JSON at line \(line), column \(column): \(reason)")
    }
}

private extension String {
    var quotedIfPrintable: String { hasPrefix("byte ") ? self : "'\(self)'" }
}
