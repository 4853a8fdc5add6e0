#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import UploadMockDomain
import UploadMockHTTP
import UploadMockJSON

/// One change `POST /__admin/clock` asks for (docs/clock.md).
enum ClockChange: Equatable {
    case advance(seconds: Double)
    case set(Date)
    case freeze(Bool)

    static let keys = ["advance_secs", "set", "freeze"]

    /// Reads `{"advance_secs": N}`, `{"set": <epoch seconds>}` or `{"freeze": true|false}`:
    /// exactly one key, of the right type. Ranges are the clock's to check.
    init(json body: [UInt8]) throws(ConfigurationError) {
        let expected = "exactly one of \(Self.keys.joined(separator: ", "))"
        guard case .object(let object) = try JSONParser.parse(body) else {
            throw ConfigurationError("the body must be a JSON object with \(expected)")
        }
        let names = object.members.map(\.key)
        if let unknown = names.first(where: { !Self.keys.contains($0) }) {
            throw ConfigurationError("unknown key '\(unknown)': expected \(expected)")
        }
        guard let member = object.members.first, names.count == 1 else {
            throw ConfigurationError("send \(expected)\(names.isEmpty ? "" : ", not \(names.joined(separator: " and "))")")
        }
        switch (member.key, member.value) {
        case ("freeze", .bool(let frozen)):
            self = .freeze(frozen)
        case ("freeze", let value):
            throw ConfigurationError("freeze must be true or false, not \(Self.shown(value))")
        case ("advance_secs", let value):
            guard let seconds = Self.number(value), seconds >= 0 else {
                throw ConfigurationError("advance_secs must be a number of seconds, zero or more, not \(Self.shown(value))")
            }
            self = .advance(seconds: seconds)
        default:
            guard let seconds = Self.number(member.value), MockClock.range.contains(Date(timeIntervalSince1970: seconds)) else {
                throw ConfigurationError("set must be seconds since 1970 from \(Self.bounds), not \(Self.shown(member.value))")
            }
            self = .set(Date(timeIntervalSince1970: seconds))
        }
    }

    /// A value as sent, cut short: a message quotes it, however long it was.
    private static func shown(_ value: JSONValue) -> String {
        let text = value.text
        return text.count <= 64 ? text : text.prefix(64) + "…"
    }

    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let int): Double(int)
        case .uint(let uint): Double(uint)
        case .double(let double): double
        default: nil
        }
    }

    /// `1136073600 (2006-01-01T00:00:00Z) to 4102444800 (2100-01-01T00:00:00Z)`.
    static var bounds: String {
        let (earliest, latest) = (MockClock.range.lowerBound, MockClock.range.upperBound)
        return "\(MockClock.epochSeconds(earliest)) (\(earliest.formatted(.iso8601))) to \(MockClock.epochSeconds(latest)) (\(latest.formatted(.iso8601)))"
    }
}

extension AdminAPI {
    /// `GET`, `POST` and `DELETE /__admin/clock`. Unscoped calls read and move the server's
    /// clock, which every scope without its own follows; a call with `X-Mock-Scope` gives that
    /// scope its own clock and moves only it. `DELETE` puts a scope back on the server's clock,
    /// or, unscoped, every clock back to real time.
    func clock(_ action: AdminRoute.ClockAction, body: [UInt8], scope: String?) -> HTTPReply {
        let clock = application.clock
        switch action {
        case .read:
            break
        case .reset:
            if let scope { clock.follow(in: scope) } else { clock.reset() }
        case .change:
            let change: ClockChange
            do {
                change = try ClockChange(json: body)
            } catch {
                return Self.badRequest(error.message)
            }
            do {
                switch change {
                case .advance(let seconds): try clock.advance(by: seconds, in: scope)
                case .set(let instant): try clock.set(instant, in: scope)
                case .freeze(true): try clock.freeze(in: scope)
                case .freeze(false): try clock.resume(in: scope)
                }
            } catch {
                return Self.refusal(error)
            }
        }
        return Self.json(200, clock.status(in: scope).json)
    }

    /// What the clock refused, naming the field (docs/clock.md, Bad input).
    private static func refusal(_ error: ClockError) -> HTTPReply {
        switch error {
        case .tooManyScopedClocks:
            json(409, .object(["error": .string(error.description)]))
        // `set` is checked as it is read: only `advance_secs` can leave the range here.
        case .outOfRange(let instant):
            badRequest("advance_secs would move the clock to \(MockClock.epochSeconds(instant)) seconds since 1970, outside \(ClockChange.bounds)")
        case .backwards:
            badRequest("advance_secs must be a number of seconds, zero or more")
        }
    }
}

extension ClockStatus {
    /// `{"now": <epoch seconds>, "frozen": <bool>, "offset_secs": <seconds>}`, to the millisecond.
    var json: JSONValue {
        func milliseconds(_ seconds: Double) -> JSONValue { .double((seconds * 1000).rounded() / 1000) }
        return .object(["now": milliseconds(now.timeIntervalSince1970), "frozen": .bool(isFrozen),
                        "offset_secs": milliseconds(offsetSeconds)])
    }
}
