#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import UploadMockDomain
import UploadMockJSON

/// Which journal entries to list: `GET /__admin/requests?command=APPEND&status=503`,
/// `UploadMockServer.requests(RequestFilter(command: .append, status: 503))`. Every field that is
/// set must match.
public struct RequestFilter: Sendable, Equatable {
    public var api: UploadAPI?
    public var command: UploadCommand?
    public var mediaID: UInt64?
    public var segmentIndex: Int?
    /// The status answered.
    public var status: Int?
    /// True: only requests that got an answer; false: only those whose connection ended
    /// without one (reset, close, hang).
    public var answered: Bool?
    /// True: only requests a fault rule fired on; false: only those none did.
    public var faulted: Bool?
    /// Only requests this fault rule (by id) fired on.
    public var faultRule: String?
    /// The authenticated user.
    public var user: String?
    /// Only requests that arrived at or after this time.
    public var since: Date?
    /// Only requests made with this credential (the admin API's `X-Mock-Scope`).
    public var scope: String?

    /// Fields left nil match anything.
    public init(api: UploadAPI? = nil, command: UploadCommand? = nil, mediaID: UInt64? = nil, segmentIndex: Int? = nil,
                status: Int? = nil, answered: Bool? = nil, faulted: Bool? = nil, faultRule: String? = nil,
                user: String? = nil, since: Date? = nil, scope: String? = nil) {
        self.scope = scope
        self.api = api
        self.command = command
        self.mediaID = mediaID
        self.segmentIndex = segmentIndex
        self.status = status
        self.answered = answered
        self.faulted = faulted
        self.faultRule = faultRule
        self.user = user
        self.since = since
    }

    func matches(_ entry: JournalEntry) -> Bool {
        if let api, entry.api != api { return false }
        if let command, entry.command != command.rawValue { return false }
        if let mediaID, entry.mediaID != mediaID { return false }
        if let segmentIndex, entry.segmentIndex != segmentIndex { return false }
        if let status, entry.status != status { return false }
        if let answered, (entry.status != nil) != answered { return false }
        if let faulted, (entry.faultRule != nil) != faulted { return false }
        if let faultRule, entry.faultRule != faultRule { return false }
        if let user, entry.user != user { return false }
        if let since, entry.time < since { return false }
        if let scope, entry.scope != scope { return false }
        return true
    }
}

extension RequestFilter {
    /// The query parameters `GET /__admin/requests` takes, in the order docs list them.
    static let queryNames = ["api", "command", "media_id", "segment_index", "status", "fault", "user", "since"]

    /// Reads the admin API's query parameters; an unknown name, a bad value or a filter given
    /// twice (each takes one value: `status=200&status=503` is refused, not read as either) is
    /// an error that names it (and lists the filters, then `otherNames`, the route's other
    /// parameters).
    init(query: [(name: String, value: String)], otherNames: [String] = []) throws(ConfigurationError) {
        self.init()
        var given: [String: String] = [:]
        for (name, value) in query {
            if let earlier = given.updateValue(value, forKey: name), Self.queryNames.contains(name) {
                throw ConfigurationError("query parameter \(name) is given twice (\(name)=\(earlier), \(name)=\(value)): "
                                         + "each filter takes one value; ask once per value")
            }
            func invalid(_ expected: String) -> ConfigurationError {
                .invalidQueryParameter(name, value, expected: expected)
            }
            switch name {
            case "api":
                guard let parsed = UploadAPI(rawValue: value) else { throw invalid("v1.1 or v2") }
                api = parsed
            case "command":
                guard let parsed = UploadCommand(rawValue: value) else {
                    throw invalid(UploadCommand.allCases.map(\.rawValue).joined(separator: ", "))
                }
                command = parsed
            case "media_id":
                guard let parsed = UInt64(decimal: value) else { throw invalid("a decimal media id") }
                mediaID = parsed
            case "segment_index":
                guard let parsed = Int(decimal: value) else { throw invalid("a decimal segment index") }
                segmentIndex = parsed
            case "status":
                if value == "none" {
                    answered = false
                } else {
                    guard let parsed = Int(decimal: value) else { throw invalid("a status code, or none") }
                    status = parsed
                }
            case "fault":
                switch value {
                case "true": faulted = true
                case "false": faulted = false
                default: faultRule = value
                }
            case "user":
                user = value
            case "since":
                guard let parsed = Self.time(value) else {
                    throw invalid("an ISO 8601 time (2026-11-30T06:18:50Z) or seconds since 1970")
                }
                since = parsed
            default:
                let known = Self.queryNames + otherNames
                throw ConfigurationError("unknown query parameter '\(name)': expected one of \(known.joined(separator: ", "))")
            }
        }
    }

    private static func time(_ text: String) -> Date? {
        if let seconds = Double(text), seconds.isFinite { return Date(timeIntervalSince1970: seconds) }
        // RFC 3339 allows a lowercase t and z; Foundation does not.
        let text = text.uppercased()
        return (try? Date(text, strategy: .iso8601)) ?? (try? Date(text, strategy: .iso8601.year().month().day().timeZone(separator: .omitted).time(includingFractionalSeconds: true)))
    }
}

extension ConfigurationError {
    /// The admin API's answer to a query parameter it reads but cannot take this value for.
    static func invalidQueryParameter(_ name: String, _ value: String, expected: String) -> ConfigurationError {
        ConfigurationError("query parameter \(name)=\(value) is not valid: expected \(expected)")
    }
}
