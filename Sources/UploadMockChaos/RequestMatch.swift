public import UploadMockDomain

/// The facts about a request that fault and rate-limit rules match on.
package struct RequestFacts: Sendable {
    package var api: UploadAPI
    package var method: String
    package var path: String
    package var command: UploadCommand?
    package var mediaID: UInt64?
    package var segmentIndex: Int?
    package var user: String?
    /// The credential's scope (the token it carried), even when authentication is off.
    package var scope: String?
    /// The body's declared length; nil for chunked bodies.
    package var declaredBodyBytes: Int?
    /// Which APPEND of its media id and segment index this is (1: the first); nil for other
    /// requests and for an APPEND that has not named both yet.
    package var attempt: Int?

    package init(api: UploadAPI, method: String, path: String, command: UploadCommand? = nil, mediaID: UInt64? = nil,
                 segmentIndex: Int? = nil, user: String? = nil, scope: String? = nil, declaredBodyBytes: Int? = nil,
                 attempt: Int? = nil) {
        self.declaredBodyBytes = declaredBodyBytes
        self.attempt = attempt
        self.scope = scope
        self.api = api
        self.method = method
        self.path = path
        self.command = command
        self.mediaID = mediaID
        self.segmentIndex = segmentIndex
        self.user = user
    }
}

/// Which requests a fault or rate-limit rule applies to; every field that is set must match.
///
/// ```swift
/// RequestMatch(command: .append, segmentIndex: 2)   // every APPEND of segment 2
/// ```
public struct RequestMatch: Sendable, Equatable {
    /// Which API the request used; nil matches both.
    public var api: UploadAPI?
    /// HTTP method, compared without regard to case.
    public var method: String?
    /// The exact request path, e.g. `/1.1/media/upload.json`.
    public var path: String?
    /// The operation, whichever API the request used.
    public var command: UploadCommand?
    /// The media id the request names.
    public var mediaID: UInt64?
    /// An APPEND's `segment_index`.
    public var segmentIndex: Int?

    /// Fields left nil match anything.
    public init(method: String? = nil, path: String? = nil, command: UploadCommand? = nil,
                mediaID: UInt64? = nil, segmentIndex: Int? = nil, api: UploadAPI? = nil) {
        self.api = api
        self.method = method
        self.path = path
        self.command = command
        self.mediaID = mediaID
        self.segmentIndex = segmentIndex
    }

    package func matches(_ facts: RequestFacts) -> Bool {
        if let api, api != facts.api { return false }
        if let method, method.uppercased() != facts.method.uppercased() { return false }
        if let path, path != facts.path { return false }
        if let command, command != facts.command { return false }
        if let mediaID, mediaID != facts.mediaID { return false }
        if let segmentIndex, segmentIndex != facts.segmentIndex { return false }
        return true
    }
}

/// A fault or rate-limit rule: it matches requests, and may belong to one credential's scope
/// (README, Isolation).
protocol ScopedRule {
    var match: RequestMatch { get }
    var scope: String? { get }
}

extension ScopedRule {
    /// Whether the rule applies to the request at all: its match holds, and it is unscoped or
    /// of the request's scope.
    func applies(to facts: RequestFacts) -> Bool {
        (scope == nil || scope == facts.scope) && match.matches(facts)
    }

    /// Whether an admin call made in `viewer`'s scope sees the rule (nil sees every rule).
    func isVisible(to viewer: String?) -> Bool {
        viewer == nil || scope == viewer
    }
}
