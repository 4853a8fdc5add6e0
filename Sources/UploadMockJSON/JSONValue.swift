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
    package static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().timeZone(separator: .omitted).time(includingFractionalSeconds: true))
    }
}
