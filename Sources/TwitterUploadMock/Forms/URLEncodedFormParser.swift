/// A streaming `application/x-www-form-urlencoded` parser with the same events as
/// `MultipartParser`: a 5 MiB `media_data` value is decoded and handed on in pieces, never
/// buffered whole. An escape may straddle two pieces.
struct URLEncodedFormParser {
    static let maximumNameBytes = 1024

    private enum State {
        case name
        case value
    }

    private var state = State.name
    private var name: [UInt8] = []
    /// Up to two bytes of an escape (`%` and one hex digit) cut off at the end of a piece.
    private var pendingEscape: [UInt8] = []
    private var decoded: [UInt8] = []

    init() {
        decoded.reserveCapacity(16 * 1024)
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (FormEvent) throws -> Void) throws {
        var index = 0
        while index < bytes.count {
            if state == .value, pendingEscape.isEmpty {
                // Fast path: a run of literal bytes is handed on as a slice of the input.
                var end = index
                while end < bytes.count {
                    let byte = bytes[end]
                    if byte == UInt8(ascii: "&") || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "+") { break }
                    end += 1
                }
                if end > index {
                    try flush(onEvent)
                    try onEvent(.fieldData(UnsafeRawBufferPointer(rebasing: bytes[index..<end])))
                    index = end
                    continue
                }
            }
            let byte = bytes[index]
            index += 1
            switch state {
            case .name:
                switch byte {
                case UInt8(ascii: "="):
                    try beginField(onEvent)
                    state = .value
                case UInt8(ascii: "&"):
                    if !name.isEmpty {
                        try beginField(onEvent)
                        try onEvent(.fieldEnd)
                    }
                default:
                    guard name.count < Self.maximumNameBytes else {
                        throw FormParseError(reason: "a form field name is longer than \(Self.maximumNameBytes) bytes")
                    }
                    name.append(byte)
                }
            case .value:
                if byte == UInt8(ascii: "&") {
                    try endField(onEvent)
                    state = .name
                } else {
                    try decodeValueByte(byte)
                    if decoded.count >= 16 * 1024 { try flush(onEvent) }
                }
            }
        }
        if state == .value { try flush(onEvent) }
    }

    mutating func finish(_ onEvent: (FormEvent) throws -> Void) throws {
        switch state {
        case .name where !name.isEmpty:
            try beginField(onEvent)
            try onEvent(.fieldEnd)
        case .value:
            try endField(onEvent)
        default:
            break
        }
        state = .name
    }

    private mutating func beginField(_ onEvent: (FormEvent) throws -> Void) throws {
        let fieldName: String
        do {
            fieldName = try Self.percentDecode(Substring(decoding: name, as: UTF8.self), plusIsSpace: true)
        } catch {
            throw FormParseError(reason: "form field name '\(String(decoding: name, as: UTF8.self))' has an invalid percent-escape")
        }
        name.removeAll(keepingCapacity: true)
        currentName = fieldName
        try onEvent(.fieldBegin(FormFieldHead(name: fieldName)))
    }

    private var currentName = ""

    private mutating func endField(_ onEvent: (FormEvent) throws -> Void) throws {
        guard pendingEscape.isEmpty else {
            throw FormParseError(reason: "form field '\(currentName)' ends inside a percent-escape")
        }
        try flush(onEvent)
        try onEvent(.fieldEnd)
    }

    private mutating func flush(_ onEvent: (FormEvent) throws -> Void) throws {
        guard !decoded.isEmpty else { return }
        try decoded.withUnsafeBytes { try onEvent(.fieldData($0)) }
        decoded.removeAll(keepingCapacity: true)
    }

    private mutating func decodeValueByte(_ byte: UInt8) throws {
        if !pendingEscape.isEmpty {
            pendingEscape.append(byte)
            guard Self.hexValue(byte) != nil else {
                throw FormParseError(reason: "form field '\(currentName)' has an invalid percent-escape '\(String(decoding: pendingEscape, as: UTF8.self))'")
            }
            if pendingEscape.count == 3 {
                decoded.append(Self.hexValue(pendingEscape[1])! << 4 | Self.hexValue(pendingEscape[2])!)
                pendingEscape.removeAll(keepingCapacity: true)
            }
            return
        }
        switch byte {
        case UInt8(ascii: "%"): pendingEscape.append(byte)
        case UInt8(ascii: "+"): decoded.append(UInt8(ascii: " "))
        default: decoded.append(byte)
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Decodes `%XX` escapes (and `+` as space when asked); throws on a malformed escape.
    static func percentDecode(_ text: Substring, plusIsSpace: Bool) throws -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(text)
        }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw FormParseError(reason: "invalid percent-escape in '\(text.prefix(80))'")
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// All pairs of a query string, in order; `a&b=` gives `a` and `b` with empty values.
    static func parse(_ query: String) throws -> [(name: String, value: String)] {
        try query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            do {
                return (try percentDecode(parts[0], plusIsSpace: true),
                        parts.count > 1 ? try percentDecode(parts[1], plusIsSpace: true) : "")
            } catch {
                throw FormParseError(reason: "query parameter '\(parts[0])' has an invalid percent-escape")
            }
        }
    }
}
