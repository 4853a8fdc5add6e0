#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// A JSON document with object keys kept in the order they were written, serialized the
/// way the real service does it (`/` escaped as `\/`), so responses match recordings.
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// How a document is laid out. The real service writes its answers compact with `/` escaped
    /// as `\/`; its problem documents leave `/` alone, and some are pretty-printed.
    package struct Layout: Sendable {
        package var escapesSlashes = true
        /// Two-space indentation and `": "` after keys, as JavaScript's `JSON.stringify(x, null, 2)`.
        package var indented = false

        /// Compact, `/` escaped: every answer of the real service.
        package static let service = Layout()
        /// Compact, `/` as is: v2's `invalid-request` problems.
        package static let plain = Layout(escapesSlashes: false)
        /// Indented, `/` as is: v2's `about:blank` and authentication problems.
        package static let pretty = Layout(escapesSlashes: false, indented: true)
    }

    package var serialized: [UInt8] { serialized(.service) }

    package func serialized(_ layout: Layout) -> [UInt8] {
        var output: [UInt8] = []
        // One allocation for the service's answers (an INIT's is 150 bytes, a STATUS's 250).
        output.reserveCapacity(512)
        write(to: &output, layout: layout, depth: 0)
        return output
    }

    package var text: String { String(decoding: serialized, as: UTF8.self) }

    private func write(to output: inout [UInt8], layout: Layout, depth: Int) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value): output.append(contentsOf: String(value).utf8)
        case .uint(let value): output.append(contentsOf: String(value).utf8)
        case .double(let value):
            output.append(contentsOf: (value.isFinite ? String(value) : "null").utf8)
        case .string(let value): Self.writeString(value, to: &output, escapesSlashes: layout.escapesSlashes)
        case .array(let values):
            output.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.newLine(&output, layout: layout, depth: depth + 1)
                value.write(to: &output, layout: layout, depth: depth + 1)
            }
            if !values.isEmpty { Self.newLine(&output, layout: layout, depth: depth) }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            for (index, member) in object.members.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.newLine(&output, layout: layout, depth: depth + 1)
                Self.writeString(member.key, to: &output, escapesSlashes: layout.escapesSlashes)
                output.append(UInt8(ascii: ":"))
                if layout.indented { output.append(UInt8(ascii: " ")) }
                member.value.write(to: &output, layout: layout, depth: depth + 1)
            }
            if !object.members.isEmpty { Self.newLine(&output, layout: layout, depth: depth) }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func newLine(_ output: inout [UInt8], layout: Layout, depth: Int) {
        guard layout.indented else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }

    private static func writeString(_ string: String, to output: inout [UInt8], escapesSlashes: Bool) {
        output.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "/") where escapesSlashes: output.append(contentsOf: "\\/".utf8)
            case UInt8(ascii: "\n"): output.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\r"): output.append(contentsOf: "\\r".utf8)
            case UInt8(ascii: "\t"): output.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: "\\u00".utf8)
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0xF)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

/// JSON object members in insertion order.
package struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    package private(set) var members: [(key: String, value: JSONValue)] = []

    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = elements.map { (key: $0.0, value: $0.1) }
    }

    /// Members in order; a repeated key keeps its first place and its last value.
    package init(_ members: some Sequence<(String, JSONValue)>) {
        for (key, value) in members { self[key] = value }
    }

    /// Members whose keys are known to be distinct (the parser checks), taken as they are.
    init(distinctMembers: [(key: String, value: JSONValue)]) {
        members = distinctMembers
    }

    package subscript(key: String) -> JSONValue? {
        get { members.first { $0.key == key }?.value }
        set {
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    package static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.elementsEqual(rhs.members) { $0.key == $1.key && $0.value == $1.value }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    package init(stringLiteral value: String) { self = .string(value) }
    package init(integerLiteral value: Int64) { self = .int(value) }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue {
    /// The members of an object; empty for anything else.
    package var objectOrEmpty: JSONObject {
        if case .object(let object) = self { return object }
        return [:]
    }
}

extension JSONValue {
    /// How the admin API writes times: ISO 8601 in UTC with milliseconds,
    /// `2026-11-30T06:18:50.123Z`.
    ///
    /// Written out here rather than with `Date.ISO8601FormatStyle`: the style builds a Gregorian
    /// calendar and looks up the time zone on first use, a sixth of the server's start-up
    /// instructions (docs/performance.md), and costs about a microsecond per journal entry after.
    /// Years outside 0...9999 (no clock reaches them) still go through the style.
    package static func timestamp(_ date: Date) -> String {
        // As the style does: whole seconds since 2001, then the fraction's nanoseconds, cut.
        let sinceReference = date.timeIntervalSinceReferenceDate
        let wholeSeconds = sinceReference.rounded(.down)
        guard let whole = Int64(exactly: wholeSeconds), abs(whole) < 200_000_000_000 else { return formatted(date) }
        let millisecond = Int64((sinceReference - wholeSeconds) * 1_000_000_000) / 1_000_000
        let (days, secondOfDay) = floorDivision(whole + 978_307_200, 86_400)
        let millisecondOfDay = secondOfDay * 1000 + millisecond
        let (year, month, day) = civilDate(daysSince1970: days)
        guard (0...9999).contains(year) else { return formatted(date) }
        let second = millisecondOfDay / 1000
        var text = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int64, digits: Int, at start: Int) {
            var value = value
            for index in stride(from: start + digits - 1, through: start, by: -1) {
                text[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(year, digits: 4, at: 0)
        put(month, digits: 2, at: 5)
        put(day, digits: 2, at: 8)
        put(second / 3600, digits: 2, at: 11)
        put(second / 60 % 60, digits: 2, at: 14)
        put(second % 60, digits: 2, at: 17)
        put(millisecondOfDay % 1000, digits: 3, at: 20)
        for (index, character) in [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "."), (23, "Z")] as [(Int, Unicode.Scalar)] {
            text[index] = UInt8(ascii: character)
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static func formatted(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().timeZone(separator: .omitted).time(includingFractionalSeconds: true))
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`).
    private static func civilDate(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = floorDivision(shifted, 146_097).quotient
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
