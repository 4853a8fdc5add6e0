#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import Synchronization
import UploadMockAuth
import UploadMockChaos
import UploadMockHTTP
public import UploadMockDomain
package import UploadMockJSON

/// One request as the journal remembers it (`GET /__admin/requests`, `UploadMockServer.requests()`).
public struct JournalEntry: Sendable {
    /// The entry's place in the journal: ids grow by one with each request recorded and never
    /// repeat, even across resets, so `after` and `before` page through the journal with them.
    public internal(set) var id: UInt64 = 0
    /// When the request arrived, on the wall clock (the `since` filter reads it).
    public var time: Date
    /// When the request arrived on the mock's clock (its scope's), when that clock was moved or
    /// frozen (docs/clock.md); nil while it reads real time.
    public var clockTime: Date?
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

    /// The entry of a request arriving now: the wall time, and its scope's clock time when that
    /// clock does not read real time.
    init(arriving head: HTTPRequestHead, api: UploadAPI, clock: MockClock) {
        let readings = clock.readings()
        self.init(time: readings.wall, api: api, method: head.method, path: head.path)
        // Most runs never move the clock: then the credential need not be read here.
        guard !readings.allReal else { return }
        let scope = Authenticator.scope(of: head)
        clockTime = readings.isReal(in: scope) ? nil : readings.now(in: scope)
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
            "id": .uint(id),
            "time": .string(JSONValue.timestamp(time)),
            "clock_time": clockTime.map { .string(JSONValue.timestamp($0)) } ?? .null,
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
        /// The id the next entry gets; kept across resets.
        var nextID: UInt64 = 1

        /// The kept entries, whose ids grow with their position.
        var kept: ArraySlice<JournalEntry> { entries[head...] }
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
            entry.id = state.nextID
            state.nextID += 1
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
        state.withLock { Array($0.kept) }
    }

    /// The entries `filter` selects, oldest first; or the slice of them `page` asks for, in its
    /// order. The cursors cost a binary search and a page stops scanning once full, so paging
    /// through the newest entries stays cheap however many the journal holds.
    func entries(_ filter: RequestFilter, page: JournalPage = JournalPage()) -> [JournalEntry] {
        state.withLock { state in
            let candidates = Self.between(state.kept, after: page.after, before: page.before)
            let limit = page.limit ?? Int.max
            func select(from ordered: some Sequence<JournalEntry>) -> [JournalEntry] {
                var selected: [JournalEntry] = []
                for entry in ordered where filter.matches(entry) {
                    selected.append(entry)
                    if selected.count >= limit { break }
                }
                return selected
            }
            return page.order == .oldest ? select(from: candidates) : select(from: candidates.reversed())
        }
    }

    /// How many entries `filter` selects, without copying them.
    func count(_ filter: RequestFilter) -> Int {
        state.withLock { state in state.kept.reduce(0) { $0 + (filter.matches($1) ? 1 : 0) } }
    }

    /// The entries with ids strictly between the cursors.
    private static func between(_ entries: ArraySlice<JournalEntry>, after: UInt64?, before: UInt64?) -> ArraySlice<JournalEntry> {
        let lower = after.map { id in firstIndex(in: entries) { $0.id > id } } ?? entries.startIndex
        let upper = before.map { id in firstIndex(in: entries) { $0.id >= id } } ?? entries.endIndex
        return lower < upper ? entries[lower..<upper] : entries[lower..<lower]
    }

    /// The first index whose entry satisfies `isAtOrPast`, which is false up to some point and
    /// true from there on.
    private static func firstIndex(in entries: ArraySlice<JournalEntry>, where isAtOrPast: (JournalEntry) -> Bool) -> Int {
        var low = entries.startIndex, high = entries.endIndex
        while low < high {
            let middle = low + (high - low) / 2
            if isAtOrPast(entries[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Forgets every entry; ids go on from where they were.
    func removeAll() {
        state.withLock { $0 = Entries(nextID: $0.nextID) }
    }

    /// Forgets one scope's entries.
    func removeAll(in scope: String) {
        state.withLock { state in
            let kept = state.kept.filter { $0.scope != scope }
            state = Entries(entries: Array(kept), head: 0, bytes: kept.reduce(0) { $0 + $1.estimatedBytes }, nextID: state.nextID)
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
