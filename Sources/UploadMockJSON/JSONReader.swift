/// A type read from a JSON object a user wrote, through a `JSONReader` that refuses keys
/// nobody read. Every configuration type implements it in `Type+JSON.swift` beside the type.
package protocol JSONReadable {
    /// Reads the members this type knows; the caller refuses the rest.
    init(json reader: inout JSONReader) throws(ConfigurationError)
}

/// A type the admin API and the journal show as JSON, in the same shape it is read.
package protocol JSONWritable {
    var json: JSONValue { get }
}

/// Reads one JSON object field by field, and refuses keys nobody read, so a typo in a config
/// file is an error that names the key instead of a silent default. Errors name the path of
/// the value (`faults[2].action.status`).
package struct JSONReader {
    package let path: String
    private let members: [String: JSONValue]
    private let order: [String]
    private var read: Set<String> = []

    package init(_ value: JSONValue, path: String) throws(ConfigurationError) {
        guard case .object(let object) = value else {
            throw ConfigurationError("\(path.isEmpty ? "the document" : path) must be a JSON object")
        }
        var members: [String: JSONValue] = [:]
        for member in object.members { members[member.key] = member.value }
        self.members = members
        order = object.members.map(\.key)
        self.path = path
    }

    /// Reads a whole document as `T`, refusing keys `T` does not know.
    package static func decode<T: JSONReadable>(_ type: T.Type, from value: JSONValue, path: String) throws(ConfigurationError) -> T {
        var reader = try JSONReader(value, path: path)
        let result = try T(json: &reader)
        try reader.finish()
        return result
    }

    /// The dotted name of `key` under this object, for messages.
    package func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value of `key`; nil when absent or null.
    package mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    package mutating func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw ConfigurationError("\(name(key)) must be a string") }
        return text
    }

    package mutating func int(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let value = value(key) else { return nil }
        let number: Int? = switch value {
        case .int(let int): Int(exactly: int)
        case .uint(let uint): Int(exactly: uint)
        case .double(let double): Int(exactly: double)
        default: nil
        }
        guard let number, range.contains(number) else {
            throw ConfigurationError("\(name(key)) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    package mutating func double(_ key: String, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double? {
        guard let value = value(key) else { return nil }
        let number: Double? = switch value {
        case .int(let int): Double(int)
        case .uint(let uint): Double(uint)
        case .double(let double): double
        default: nil
        }
        guard let number, range.contains(number) else {
            throw ConfigurationError("\(name(key)) must be a number from \(Self.show(range.lowerBound)) to \(Self.show(range.upperBound))")
        }
        return number
    }

    package mutating func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw ConfigurationError("\(name(key)) must be true or false") }
        return flag
    }

    /// A 64-bit id, given as a number or (as JavaScript clients must) a decimal string.
    package mutating func uint64(_ key: String) throws(ConfigurationError) -> UInt64? {
        guard let value = value(key) else { return nil }
        switch value {
        case .int(let int) where int >= 0: return UInt64(int)
        case .uint(let uint): return uint
        // Integral, as `int(_:in:)` takes it (`5.0`); past 2^53 a double has already lost digits,
        // which is why JavaScript clients send ids as strings.
        case .double(let double):
            if let id = UInt64(exactly: double) { return id }
        case .string(let text):
            if let id = UInt64(decimal: text) { return id }
        default: break
        }
        throw ConfigurationError("\(name(key)) must be a non-negative integer or a decimal string")
    }

    /// One of an enumeration's raw values; the error lists them all.
    package mutating func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, of type: Choice.Type = Choice.self)
        throws(ConfigurationError) -> Choice? where Choice.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let choice = Choice(rawValue: text) else {
            throw ConfigurationError("\(name(key)) must be one of \(Choice.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
        }
        return choice
    }

    /// A nested object read as `T`; its unknown keys are refused.
    package mutating func decode<T: JSONReadable>(_ key: String, as type: T.Type = T.self) throws(ConfigurationError) -> T? {
        guard let value = value(key) else { return nil }
        return try Self.decode(T.self, from: value, path: name(key))
    }

    /// An array of objects read as `T`.
    package mutating func decodeArray<T: JSONReadable>(_ key: String, of type: T.Type = T.self) throws(ConfigurationError) -> [T]? {
        guard let values = try array(key) else { return nil }
        var decoded: [T] = []
        for (index, value) in values.enumerated() {
            decoded.append(try Self.decode(T.self, from: value, path: "\(name(key))[\(index)]"))
        }
        return decoded
    }

    package mutating func array(_ key: String) throws(ConfigurationError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let values) = value else { throw ConfigurationError("\(name(key)) must be an array") }
        return values
    }

    /// Throws for the first key that no accessor asked for.
    package func finish() throws(ConfigurationError) {
        if let unknown = order.first(where: { !read.contains($0) }) {
            throw ConfigurationError("unknown key '\(name(unknown))'")
        }
    }

    private static func show(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}

extension FixedWidthInteger {
    /// Parses plain ASCII decimal digits only: no sign, spaces, `+`, or fractions, as the real
    /// service reads ids and counts.
    /// One pass over the bytes, inlinable so each caller gets it for its own type: the
    /// standard library's generic `init(_:radix:)` cost about 3,000 instructions per id, and
    /// every request reads a few (docs/performance.md).
    @inlinable
    package init?(decimal text: some StringProtocol) {
        var value: Self = 0
        var digits = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (tenfold, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (sum, carried) = tenfold.addingReportingOverflow(Self(byte &- UInt8(ascii: "0")))
            guard !overflowed, !carried else { return nil }
            value = sum
            digits += 1
        }
        guard digits > 0 else { return nil }
        self = value
    }
}
