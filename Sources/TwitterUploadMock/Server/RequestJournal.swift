#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import Synchronization
import UploadMockChaos
import UploadMockHTTP
public import UploadMockDomain
package import UploadMockJSON

/// One request as the journal remembers it (`GET /__admin/requests`, `UploadMockServer.requests()`).
public struct JournalEntry: Sendable {
    /// When the request arrived.
    public var time: Date
    /// Which API the request used.
    public var api: UploadAPI
    /// The HTTP method as sent.
    public var method: String
    /// The path as sent, without the query.
    public var path: String
    /// The `UploadCommand` name (`INIT`, `APPEND`, …), once the request was read that far.
    public var command: String?
    /// The media id the request named, or the one INIT made.
    public var mediaID: UInt64?
    /// An APPEND's `segment_index`.
    public var segmentIndex: Int?
    /// The authenticated user, when authentication is on.
    public var user: String?
    /// Body bytes read from the client.
    public var bytesReceived = 0
    /// Nil when the connection ended without a response (reset, close, hang).
    public var status: Int?
    /// From arrival until the reply was handed over.
    public var durationMilliseconds = 0.0
    /// Why the request was refused, in the mock's words (more than the wire says).
    public var error: String?
    /// The fault rule that fired, described (`rule 3, status 503`).
    public var fault: String?
    /// The id of the fault rule that fired.
    public var faultRule: String?
    /// The rate limit that refused the request, described.
    public var rateLimit: String?

    init(time: Date, api: UploadAPI, method: String, path: String) {
        self.time = time
        self.api = api
        self.method = method
        self.path = path
    }

    /// What the request turned out to be.
    mutating func describe(_ facts: RequestFacts) {
        command = facts.command?.rawValue
        mediaID = facts.mediaID
        segmentIndex = facts.segmentIndex
        user = facts.user
    }

    mutating func fired(_ fault: FiredFault) {
        self.fault = fault.summary
        faultRule = fault.rule.id
    }

    /// How the exchange ended.
    mutating func complete(_ completion: HTTPCompletion) {
        status = completion.status
        bytesReceived = completion.bytesReceived
        durationMilliseconds = completion.duration.timeInterval * 1000
    }
}

extension JournalEntry: JSONWritable {
    package var json: JSONValue {
        var object: JSONObject = [
            "time": .string(JSONValue.timestamp(time)),
            "api": .string(api.rawValue),
            "method": .string(method),
            "path": .string(path),
        ]
        object["command"] = command.map { .string($0) } ?? .null
        object["media_id"] = mediaID.map { .string(String($0)) } ?? .null
        object["segment_index"] = segmentIndex.map { .int(Int64($0)) } ?? .null
        object["user"] = user.map { .string($0) } ?? .null
        object["bytes_received"] = .int(Int64(bytesReceived))
        object["status"] = status.map { .int(Int64($0)) } ?? .null
        object["duration_ms"] = .double((durationMilliseconds * 1000).rounded() / 1000)
        object["error"] = error.map { .string($0) } ?? .null
        object["fault"] = fault.map { .string($0) } ?? .null
        object["fault_rule"] = faultRule.map { .string($0) } ?? .null
        object["rate_limit"] = rateLimit.map { .string($0) } ?? .null
        return .object(object)
    }
}

/// The most recent requests, oldest first, bounded so a long run cannot grow without limit.
/// A ring buffer: recording is O(1) even when the journal is full.
final class RequestJournal: Sendable {
    static let capacity = 10_000

    private struct Ring {
        var entries: [JournalEntry] = []
        /// Where the oldest entry is once the ring is full.
        var oldest = 0
    }

    private let ring = Mutex(Ring())

    func record(_ entry: JournalEntry) {
        ring.withLock { ring in
            if ring.entries.count < Self.capacity {
                ring.entries.append(entry)
            } else {
                ring.entries[ring.oldest] = entry
                ring.oldest = (ring.oldest + 1) % Self.capacity
            }
        }
    }

    var all: [JournalEntry] {
        ring.withLock { ring in Array(ring.entries[ring.oldest...] + ring.entries[..<ring.oldest]) }
    }

    /// The entries `filter` selects, oldest first.
    func entries(_ filter: RequestFilter) -> [JournalEntry] {
        ring.withLock { ring in
            (ring.entries[ring.oldest...] + ring.entries[..<ring.oldest]).filter(filter.matches)
        }
    }

    func removeAll() {
        ring.withLock { $0 = Ring() }
    }
}
