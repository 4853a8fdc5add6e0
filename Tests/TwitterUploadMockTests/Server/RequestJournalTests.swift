import Foundation
import Testing
@testable import TwitterUploadMock

@Suite("Request journal")
struct RequestJournalTests {
    @Test("keeps the newest entries, oldest first, once full")
    func wrapsAround() {
        let journal = RequestJournal()
        for index in 0..<(RequestJournal.capacity + 5) {
            journal.record(JournalEntry(time: Date(), api: .v1, method: "POST", path: "/\(index)"))
        }
        let paths = journal.all.map(\.path)
        #expect(paths.count == RequestJournal.capacity)
        #expect(paths.first == "/5")
        #expect(paths.last == "/\(RequestJournal.capacity + 4)")
        journal.removeAll()
        #expect(journal.all.isEmpty)
    }
}
