/// The facts about a request that fault and rate-limit rules can match on.
public struct RequestFacts: Sendable {
    public var method: String
    public var path: String
    public var command: UploadCommand?
    public var mediaID: UInt64?
    public var segmentIndex: Int?
    public var user: String?
}

/// Which requests a rule applies to; every field that is set must match.
public struct RequestMatch: Sendable, Equatable {
    public var method: String?
    public var path: String?
    public var command: UploadCommand?
    public var mediaID: UInt64?
    public var segmentIndex: Int?

    public init(method: String? = nil, path: String? = nil, command: UploadCommand? = nil,
                mediaID: UInt64? = nil, segmentIndex: Int? = nil) {
        self.method = method
        self.path = path
        self.command = command
        self.mediaID = mediaID
        self.segmentIndex = segmentIndex
    }

    func matches(_ facts: RequestFacts) -> Bool {
        if let method, method.uppercased() != facts.method.uppercased() { return false }
        if let path, path != facts.path { return false }
        if let command, command != facts.command { return false }
        if let mediaID, mediaID != facts.mediaID { return false }
        if let segmentIndex, segmentIndex != facts.segmentIndex { return false }
        return true
    }
}
