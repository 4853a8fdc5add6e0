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
    /// The credential's scope (the token the request carried), even when authentication is off.
    public var scope: String?
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
    /// What the mock inferred or tolerated in a request it accepted (a `segment_index` it chose
    /// because none was sent, say).
    public var note: String?
    /// The bytes an APPEND stored, whatever the client was then answered (an `after_commit`
    /// fault stores, then fails); nil when it stored nothing. Kept in the upload's attempts.
    var storedMediaBytes: Int?

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
        scope = facts.scope
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
        object["scope"] = scope.map { .string($0) } ?? .null
        object["bytes_received"] = .int(Int64(bytesReceived))
        object["status"] = status.map { .int(Int64($0)) } ?? .null
        object["duration_ms"] = .double((durationMilliseconds * 1000).rounded() / 1000)
        object["error"] = error.map { .string($0) } ?? .null
        object["fault"] = fault.map { .string($0) } ?? .null
        object["fault_rule"] = faultRule.map { .string($0) } ?? .null
        object["rate_limit"] = rateLimit.map { .string($0) } ?? .null
        object["note"] = note.map { .string($0) } ?? .null
        return .object(object)
    }
}

/// The most recent requests, oldest first, bounded in count and in bytes so a long run (or a
/// hostile one, with huge values quoted in error messages) cannot grow without limit: past
/// either bound the oldest entries go. Recording is O(1) amortized.
final class RequestJournal: Sendable {
    /// The longest `error` kept; the rest is cut, saying how much.
    static let maximumErrorBytes = 2048

    private struct Entries {
        var entries: [JournalEntry] = []
        /// Where the oldest kept entry is; the dropped prefix is compacted away in bulk.
        var head = 0
        var bytes = 0
    }

    private let state = Mutex(Entries())
    let maximumEntries: Int
    let maximumBytes: Int

    init(maximumEntries: Int = 10_000, maximumBytes: Int = 32 * 1024 * 1024) {
        self.maximumEntries = maximumEntries
        self.maximumBytes = maximumBytes
    }

    func record(_ entry: JournalEntry) {
        var entry = entry
        if let error = entry.error, error.utf8.count > Self.maximumErrorBytes {
            let kept = String(decoding: error.utf8.prefix(Self.maximumErrorBytes), as: UTF8.self)
            entry.error = kept + "… (\(error.utf8.count - Self.maximumErrorBytes) more bytes)"
        }
        let size = entry.estimatedBytes
        state.withLock { state in
            state.entries.append(entry)
            state.bytes += size
            while state.entries.count - state.head > maximumEntries || (state.bytes > maximumBytes && state.entries.count - state.head > 1) {
                state.bytes -= state.entries[state.head].estimatedBytes
                state.head += 1
            }
            if state.head > 1024, state.head * 2 > state.entries.count {
                state.entries.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    var all: [JournalEntry] {
        state.withLock { Array($0.entries[$0.head...]) }
    }

    /// The entries `filter` selects, oldest first.
    func entries(_ filter: RequestFilter) -> [JournalEntry] {
        state.withLock { $0.entries[$0.head...].filter(filter.matches) }
    }

    func removeAll() {
        state.withLock { $0 = Entries() }
    }

    /// Forgets one scope's entries.
    func removeAll(in scope: String) {
        state.withLock { state in
            let kept = state.entries[state.head...].filter { $0.scope != scope }
            state = Entries(entries: Array(kept), head: 0, bytes: kept.reduce(0) { $0 + $1.estimatedBytes })
        }
    }
}

extension JournalEntry {
    /// Roughly what the entry costs in memory, for the journal's byte bound.
    var estimatedBytes: Int {
        256 + path.utf8.count + (error?.utf8.count ?? 0) + (fault?.utf8.count ?? 0) + (rateLimit?.utf8.count ?? 0)
            + (user?.utf8.count ?? 0) + (scope?.utf8.count ?? 0) + (note?.utf8.count ?? 0)
    }
}
