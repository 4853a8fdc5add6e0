import Foundation
import Testing
import UploadMockJSON
@testable import UploadMockDomain

/// The one memory budget (docs/configuration.md, Bounds): segments, upload text and request
/// bodies still arriving draw on it; a refusal takes nothing and changes nothing; whatever
/// goes gives its bytes back.
@Suite("Memory budget")
struct MemoryBudgetTests {
    func service(limit: Int, textLimit: Int = 256 * 1024, expiresAfter: Int = 60, now: @escaping @Sendable () -> Date = { Date() }) -> UploadService {
        var settings = UploadSettings()
        settings.limits.maxMemoryBytes = limit
        settings.limits.uploadTextBytes = textLimit
        settings.expiresAfterSeconds = expiresAfter
        return UploadService(settings: settings, seed: 1, clock: MockClock(wall: now))
    }

    func video(_ uploads: UploadService, total: Int = 1000) throws -> UInt64 {
        try uploads.initialize(MediaDeclaration(totalBytes: total, mediaType: "video/mp4", category: .tweetVideo), by: .anonymous).mediaID
    }

    func append(_ uploads: UploadService, _ id: UInt64, _ index: Int, _ count: Int) throws(UploadFailure) {
        _ = try uploads.append(mediaID: id, segmentIndex: index,
                               payload: MediaPayload(bytes: Array(repeating: 7, count: count), parameter: "media", sentBytes: count),
                               by: .anonymous)
    }

    @Test("a reservation past the limit is refused with the over-capacity failure and takes nothing")
    func refusal() throws {
        let budget = MemoryBudget(limit: 100)
        try budget.reserve(60)
        #expect(!budget.tryReserve(41))
        #expect(budget.usedBytes == 60)
        #expect(throws: UploadFailure.self) { try budget.reserve(41) }
        do {
            try budget.reserve(41)
        } catch {
            guard case .overCapacity(let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("limits.max_memory_bytes (100)") && reason.contains("60 bytes are held"))
        }
        #expect(budget.tryReserve(40) && budget.usedBytes == 100)
        budget.release(100)
        #expect(budget.usedBytes == 0)
    }

    @Test("concurrent reservations never pass the limit together")
    func concurrent() async {
        let budget = MemoryBudget(limit: 1000)
        let granted = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<64 {
                group.addTask { (0..<200).reduce(0) { total, _ in budget.tryReserve(7) ? total + 7 : total } }
            }
            return await group.reduce(0, +)
        }
        #expect(granted == budget.usedBytes && granted <= 1000 && granted > 1000 - 7)
    }

    @Test("a request's reservation gives back what it holds when released, or when it goes")
    func reservation() throws {
        let budget = MemoryBudget(limit: 100)
        do {
            var held = budget.reservation()
            try held.grow(by: 30)
            try held.grow(by: 30)
            #expect(throws: UploadFailure.self) { try held.grow(by: 41) }
            #expect(held.bytes == 60 && budget.usedBytes == 60)
            held.releaseAll()
            #expect(budget.usedBytes == 0)
            try held.grow(by: 10)
        }
        #expect(budget.usedBytes == 0, "a reservation dropped mid-body leaks nothing")
    }

    @Test("segments, upload text and request bodies draw on one budget; a reset gives it all back")
    func oneBudget() throws {
        let uploads = service(limit: 1000)
        let id = try video(uploads)
        var body = uploads.memory.reservation()
        try body.grow(by: 600)
        #expect(throws: UploadFailure.self) { try append(uploads, id, 0, 500) }
        body.releaseAll()
        try append(uploads, id, 0, 500)
        try append(uploads, id, 0, 400)  // a retry replaces the segment: 100 bytes back
        #expect(uploads.memory.usedBytes == 400)
        let metadata: JSONObject = ["audience_policy": .object(["v": .string(String(repeating: "x", count: 500))])]
        try uploads.setMetadata(mediaID: id, altText: "A cat", other: metadata, by: .anonymous)
        let held = uploads.memory.usedBytes
        #expect(held > 900)
        #expect(throws: UploadFailure.self) { try append(uploads, id, 1, 200) }
        #expect(throws: UploadFailure.self) { try body.grow(by: 200) }
        #expect(uploads.memory.usedBytes == held, "refusals take nothing")
        uploads.reset()
        #expect(uploads.memory.usedBytes == 0)
    }

    @Test("expired uploads swept out give their bytes back")
    func sweep() throws {
        final class Clock: @unchecked Sendable { var now = Date(timeIntervalSince1970: 1_700_000_000) }
        let clock = Clock()
        let uploads = service(limit: 100_000, now: { clock.now })
        for _ in 0..<64 { try append(uploads, try video(uploads), 0, 1000) }
        #expect(uploads.memory.usedBytes == 64_000)
        clock.now += 61
        _ = try video(uploads)  // the 65th upload sweeps the expired 64
        #expect(uploads.memory.usedBytes == 0)
    }

    @Test("upload text past limits.upload_text_bytes is refused, keeping what was there; smaller always fits")
    func textBound() throws {
        let uploads = service(limit: 1_000_000, textLimit: 1000)
        let id = try video(uploads)
        try uploads.setMetadata(mediaID: id, altText: "A cat", by: .anonymous)
        let track = SubtitleTrack(mediaID: try uploads.initialize(MediaDeclaration(totalBytes: 1, mediaType: "text/srt", category: .subtitles),
                                                                  by: .anonymous).mediaID,
                                  languageCode: "EN", displayName: String(repeating: "e", count: 950))
        #expect(throws: UploadFailure.uploadTextTooLarge(id, bytes: 5 + 64 + 2 + 950, limit: 1000)) {
            try uploads.addSubtitles(videoID: id, track: track, by: .anonymous)
        }
        #expect(uploads.report(id)?.subtitles == [] && uploads.report(id)?.altText == "A cat")
        var short = track
        short.displayName = "English"
        _ = try uploads.addSubtitles(videoID: id, track: short, by: .anonymous)
        let held = uploads.memory.usedBytes
        try uploads.removeSubtitles(videoID: id, languageCode: "EN", by: .anonymous)
        #expect(uploads.memory.usedBytes == held - (64 + 2 + 7))
    }

    @Test("the store keeps running totals: received bytes, the next index and whether the file is whole")
    func runningTotals() throws {
        let uploads = service(limit: 1_000_000)
        let id = try video(uploads, total: 30)
        try append(uploads, id, 2, 10)
        let receipt = try uploads.append(mediaID: id, segmentIndex: nil, payload: MediaPayload(bytes: [1], parameter: "media", sentBytes: 1),
                                         by: .anonymous)
        #expect(receipt.segmentIndex == 3 && receipt.receivedBytes == 11)
        #expect(throws: UploadFailure.segmentsDoNotAddUp) { try uploads.finalize(mediaID: id, by: .anonymous) }
        try append(uploads, id, 3, 10)
        try append(uploads, id, 0, 5)
        try append(uploads, id, 1, 5)
        #expect(uploads.report(id)?.receivedBytes == 30)
        _ = try uploads.finalize(mediaID: id, by: .anonymous)
        #expect(uploads.memory.usedBytes == 30)
    }
}
