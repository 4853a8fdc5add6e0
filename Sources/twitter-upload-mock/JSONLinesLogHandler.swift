#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization
import UploadMockJSON

/// The command line's log handler: one JSON object per line on stderr (`time` in UTC with
/// milliseconds, `level`, `message`, then the metadata as fields, numbers as numbers), so CI
/// logs can be filtered with jq.
struct JSONLinesLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    /// Serializes writers so lines from different threads never interleave.
    private static let output = Mutex(STDERR_FILENO)

    init(level: Logger.Level) {
        logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: JSONObject = [
            "time": .string(JSONValue.timestamp(Date())),
            "level": .string(event.level.rawValue),
            "message": .string(event.message.description),
        ]
        let fields = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in fields.keys.sorted() {
            if let value = fields[key] { object[key] = Self.json(value) }
        }
        let line = object.json.serialized + [UInt8(ascii: "\n")]
        Self.output.withLock { descriptor in _ = write(descriptor, line, line.count) }
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let number as Int): .int(Int64(number))
        case .stringConvertible(let number as Double): .double(number)
        case .stringConvertible(let other): .string(other.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let members): .object(JSONObject(members.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }))
        }
    }
}

private extension JSONObject {
    var json: JSONValue { .object(self) }
}
