import Synchronization
package import UploadMockJSON

/// The places where the mock departs from the real service on purpose, so that a known client
/// works against it. Every switch is off by default: the mock then refuses what the real service
/// refuses. The same switches are a config file's `compatibility` object, this struct in
/// `MockConfiguration.compatibility` (or live, `UploadMockServer.compatibility`), and
/// `PATCH /__admin/compatibility` (docs/api-v2.md).
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

/// The switches in force: the startup ones until changed at run time, again after a reset.
final class CompatibilitySwitches: Sendable {
    let startup: Compatibility
    private let current: Mutex<Compatibility>

    init(_ startup: Compatibility) {
        self.startup = startup
        current = Mutex(startup)
    }

    var inForce: Compatibility {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    /// Applies `change` under the lock (nothing, when it throws) and returns the result.
    func change(_ change: (inout Compatibility) throws(ConfigurationError) -> Void) throws(ConfigurationError) -> Compatibility {
        try current.withLock { (switches) throws(ConfigurationError) in
            var changed = switches
            try change(&changed)
            switches = changed
            return changed
        }
    }

    func reset() {
        inForce = startup
    }
}
