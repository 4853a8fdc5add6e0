#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// JSON-lines logging to stderr, one object per event, so CI logs can be filtered with jq.
public struct Logger: Sendable {
    public enum Level: String, Sendable, CaseIterable, Comparable {
        case debug, info, warning, error, off

        public static func < (lhs: Level, rhs: Level) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public var level: Level
    /// Serializes writers so lines from different threads never interleave.
    private static let output = Mutex(STDERR_FILENO)

    public init(level: Level) {
        self.level = level
    }

    /// `fields` is only built when the level is logged, so debug logging costs nothing when off.
    public func log(_ level: Level, _ message: String, _ fields: @autoclosure () -> JSONObject = [:]) {
        guard level >= self.level, level != .off else { return }
        var object: JSONObject = [
            "time": .string(Date().formatted(.iso8601)),
            "level": .string(level.rawValue),
            "message": .string(message),
        ]
        for member in fields().members { object[member.key] = member.value }
        let line = object.json.serialized + [UInt8(ascii: "\n")]
        Self.output.withLock { descriptor in _ = write(descriptor, line, line.count) }
    }
}

extension JSONObject {
    var json: JSONValue { .object(self) }
}
