#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension JSONValue: Decodable {
    public init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            var values: [JSONValue] = []
            while !array.isAtEnd { values.append(try array.decode(JSONValue.self)) }
            self = .array(values)
            return
        }
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var members = JSONObject()
            for key in object.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                members[key.stringValue] = try object.decode(JSONValue.self, forKey: key)
            }
            self = .object(members)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let value = try? single.decode(Bool.self) { self = .bool(value) }
        else if let value = try? single.decode(Int64.self) { self = .int(value) }
        else if let value = try? single.decode(UInt64.self) { self = .uint(value) }
        else if let value = try? single.decode(Double.self) { self = .double(value) }
        else { self = .string(try single.decode(String.self)) }
    }

    /// Parses a JSON document; the error says where it is malformed.
    public static func parse(_ bytes: some Sequence<UInt8>) throws(JSONReadError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch let DecodingError.dataCorrupted(context) {
            let detail = context.underlyingError.map { "\($0)" } ?? context.debugDescription
            throw JSONReadError("is not valid JSON: \(detail)")
        } catch {
            throw JSONReadError("is not valid JSON: \(error)")
        }
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension JSONObject {
    init() { self = [:] }
}

/// A problem in a JSON document a user wrote, naming where it is (`limits.chunk_bytes`).
public struct JSONReadError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Reads one JSON object a user wrote, field by field, and refuses keys nobody read, so a
/// typo in a config file is an error that names the key instead of a silent default.
struct JSONReader {
    let path: String
    private let object: JSONObject
    private var read: Set<String> = []

    init(_ value: JSONValue, path: String) throws(JSONReadError) {
        guard case .object(let object) = value else { throw JSONReadError("\(path.isEmpty ? "the document" : path) must be a JSON object") }
        self.object = object
        self.path = path
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    mutating func string(_ key: String) throws(JSONReadError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw JSONReadError("\(name(key)) must be a string") }
        return text
    }

    mutating func int(_ key: String, in range: ClosedRange<Int> = 0...Int.max) throws(JSONReadError) -> Int? {
        guard let value = value(key) else { return nil }
        let number: Int? = switch value {
        case .int(let int): Int(exactly: int)
        case .uint(let uint): Int(exactly: uint)
        case .double(let double): Int(exactly: double)
        default: nil
        }
        guard let number, range.contains(number) else {
            throw JSONReadError("\(name(key)) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    mutating func double(_ key: String, in range: ClosedRange<Double> = -.infinity ... .infinity) throws(JSONReadError) -> Double? {
        guard let value = value(key) else { return nil }
        let number: Double? = switch value {
        case .int(let int): Double(int)
        case .uint(let uint): Double(uint)
        case .double(let double): double
        default: nil
        }
        guard let number, range.contains(number) else {
            throw JSONReadError("\(name(key)) must be a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    mutating func bool(_ key: String) throws(JSONReadError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw JSONReadError("\(name(key)) must be true or false") }
        return flag
    }

    /// A 64-bit id, given as a number or (as JavaScript clients must) a decimal string.
    mutating func uint64(_ key: String) throws(JSONReadError) -> UInt64? {
        guard let value = value(key) else { return nil }
        switch value {
        case .int(let int) where int >= 0: return UInt64(int)
        case .uint(let uint): return uint
        case .string(let text):
            if let id = UInt64(decimal: text) { return id }
        default: break
        }
        throw JSONReadError("\(name(key)) must be a non-negative integer or a decimal string")
    }

    mutating func object(_ key: String) throws(JSONReadError) -> JSONReader? {
        guard let value = value(key) else { return nil }
        return try JSONReader(value, path: name(key))
    }

    mutating func array(_ key: String) throws(JSONReadError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let values) = value else { throw JSONReadError("\(name(key)) must be an array") }
        return values
    }

    func element(_ index: Int, of key: String) -> String { "\(name(key))[\(index)]" }

    /// Throws for the first key that no accessor asked for.
    func finish() throws(JSONReadError) {
        if let unknown = object.members.first(where: { !read.contains($0.key) }) {
            throw JSONReadError("unknown key '\(name(unknown.key))'")
        }
    }
}
