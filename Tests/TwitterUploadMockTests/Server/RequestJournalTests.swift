import Foundation
import Testing
@testable import TwitterUploadMock

@Suite("Request journal")
struct RequestJournalTests {
    @Test("keeps the newest entries, oldest first, once full")
    func wrapsAround() {
        let journal = RequestJournal(maximumEntries: 100)
        for index in 0..<(100 + 5) {
            journal.record(JournalEntry(time: Date(), api: .v1, method: "POST", path: "/\(index)"))
        }
        let paths = journal.all.map(\.path)
        #expect(paths.count == 100)
        #expect(paths.first == "/5")
        #expect(paths.last == "/104")
        journal.removeAll()
        #expect(journal.all.isEmpty)
    }

    @Test("is bounded in bytes: huge error messages are cut, and the oldest entries go past the bound")
    func boundedInBytes() {
        let journal = RequestJournal(maximumEntries: 1_000_000, maximumBytes: 1024 * 1024)
        let huge = String(repeating: "x", count: 200_000)
        for index in 0..<2_000 {
            var entry = JournalEntry(time: Date(), api: .v1, method: "POST", path: "/\(index)")
            entry.error = huge
            journal.record(entry)
        }
        let kept = journal.all
        #expect(kept.last?.path == "/1999")
        #expect(kept.reduce(0) { $0 + $1.estimatedBytes } <= 1024 * 1024)
        #expect(kept.last?.error?.hasSuffix("… (197952 more bytes)") == true)
    }

    @Test("pages by id, newest first, from a cursor; ids go on after a reset")
    func pages() {
        let journal = RequestJournal(maximumEntries: 1000)
        for index in 0..<10 {
            var entry = JournalEntry(time: Date(), api: index.isMultiple(of: 2) ? .v1 : .v2, method: "POST", path: "/\(index)")
            entry.status = index == 7 ? 503 : 200
            journal.record(entry)
        }
        #expect(journal.all.map(\.id) == Array(1...10))
        var page = JournalPage()
        page.order = .newest
        page.limit = 3
        #expect(journal.entries(RequestFilter(), page: page).map(\.id) == [10, 9, 8])
        page.before = 8
        #expect(journal.entries(RequestFilter(), page: page).map(\.id) == [7, 6, 5])
        #expect(journal.entries(RequestFilter(api: .v2), page: page).map(\.id) == [6, 4, 2])
        var since = JournalPage()
        since.after = 8
        #expect(journal.entries(RequestFilter(), page: since).map(\.id) == [9, 10])
        since.after = 10
        #expect(journal.entries(RequestFilter(), page: since).isEmpty)
        #expect(journal.count(RequestFilter(status: 503)) == 1 && journal.count(RequestFilter(api: .v1)) == 5)
        journal.removeAll()
        journal.record(JournalEntry(time: Date(), api: .v1, method: "POST", path: "/again"))
        #expect(journal.all.map(\.id) == [11])
    }

    @Test("reads its paging parameters and leaves the filters to the filter; a bad one is named")
    func pageQuery() throws {
        let (page, rest) = try JournalPage.split([("order", "newest"), ("command", "APPEND"), ("limit", "5"), ("before", "9")])
        #expect(page.order == .newest && page.limit == 5 && page.before == 9 && page.after == nil)
        #expect(rest.map(\.name) == ["command"])
        #expect(throws: ConfigurationError.self) { try JournalPage.split([("limit", "0")]) }
        #expect(throws: ConfigurationError.self) { try JournalPage.split([("order", "sideways")]) }
        do {
            _ = try RequestFilter(query: [("limt", "5")], otherNames: JournalPage.queryNames)
            Issue.record("an unknown parameter was accepted")
        } catch {
            #expect(error.message.hasSuffix("expected one of api, command, media_id, segment_index, status, fault, user, since, order, limit, after, before"))
        }
    }
}
