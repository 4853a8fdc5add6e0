import Synchronization
package import UploadMockJSON

/// The places where the mock departs from the real service on purpose, so that a known client
/// works against it. Every switch is off by default: the mock then refuses what the real service
/// refuses. The same switches are a config file's `compatibility` object, this struct in
/// `MockConfiguration.compatibility` (or live, `UploadMockServer.compatibility`), and
/// `PATCH /__admin/compatibility`, which may also set one credential scope's own (docs/api-v2.md).
///
/// ```swift
/// var configuration = MockConfiguration()
/// configuration.compatibility.infersV2SegmentIndex = true   // for python-twitter-v2 0.9.3
/// ```
public struct Compatibility: Sendable, Equatable {
    /// A v2 multipart APPEND without `segment_index` is stored as the next segment (one after
    /// the highest stored, 0 for the first) instead of being refused with the spec's
    /// `$.segment_index: is missing but it is required`. python-twitter-v2 0.9.3 sends every
    /// append so. Config key `infer_v2_segment_index`. Default false.
    public var infersV2SegmentIndex = false

    /// Every switch off: the real service's rules.
    public init() {}

    /// How the journal and the refusals name a switch: its config key, its admin route, its Swift property.
    static func naming(_ key: String, swift property: String) -> String {
        "compatibility.\(key) in the config file, PATCH /__admin/compatibility {\"\(key)\":true} "
            + "or MockConfiguration.compatibility.\(property)"
    }
}

extension Compatibility: JSONReadable, JSONWritable {
    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        self.init()
        try update(&reader)
    }

    /// Sets the switches `reader` names and leaves the rest as they are (a PATCH).
    package mutating func update(_ reader: inout JSONReader) throws(ConfigurationError) {
        infersV2SegmentIndex = try reader.bool("infer_v2_segment_index") ?? infersV2SegmentIndex
        try reader.finish()
    }

    package var json: JSONValue {
        .object(["infer_v2_segment_index": .bool(infersV2SegmentIndex)])
    }
}

/// The switches in force: the server's, and those of each credential scope that set its own
/// (README, Isolation). A scope's first change starts from the server's switches; from then on
/// it keeps its own until it or the server is reset. A reset of the server restores the startup
/// switches and forgets every scope's.
final class CompatibilitySwitches: Sendable {
    private struct State {
        var server: Compatibility
        var scopes: [String: Compatibility] = [:]
    }

    let startup: Compatibility
    /// How many scopes may have their own switches (`admin.max_rules`, as for rules).
    private let maximumScopes: Int
    private let state: Mutex<State>

    init(_ startup: Compatibility, maximumScopes: Int) {
        self.startup = startup
        self.maximumScopes = maximumScopes
        state = Mutex(State(server: startup))
    }

    /// The switches a request with this credential scope meets (nil: the server's).
    func inForce(for scope: String? = nil) -> Compatibility {
        state.withLock { state in scope.flatMap { state.scopes[$0] } ?? state.server }
    }

    /// Sets the server's switches.
    func set(_ switches: Compatibility) {
        state.withLock { $0.server = switches }
    }

    /// Applies `change` to the switches of `scope` (nil: the server's) under the lock, and
    /// returns the result; nil, changing nothing, when a scope would be one too many.
    func change(in scope: String?, _ change: (inout Compatibility) throws(ConfigurationError) -> Void)
        throws(ConfigurationError) -> Compatibility? {
        try state.withLock { (state) throws(ConfigurationError) -> Compatibility? in
            // A copy, so a change that throws halfway leaves nothing changed.
            guard let scope else {
                var switches = state.server
                try change(&switches)
                state.server = switches
                return switches
            }
            guard state.scopes[scope] != nil || state.scopes.count < maximumScopes else { return nil }
            var switches = state.scopes[scope] ?? state.server
            try change(&switches)
            state.scopes[scope] = switches
            return switches
        }
    }

    /// Forgets one scope's own switches, or restores the startup ones and forgets every scope's.
    func reset(scope: String? = nil) {
        state.withLock { state in
            if let scope {
                state.scopes[scope] = nil
            } else {
                state = State(server: startup)
            }
        }
    }

    var maximumScopesDescription: String {
        "at most \(maximumScopes) credential scopes may have their own compatibility switches (admin.max_rules)"
    }
}
