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
}
