import Foundation
import Testing
@testable import UploadMockDomain

/// The upload rules of docs/api.md, without sockets: each refused APPEND stores nothing.
@Suite("Upload domain")
struct UploadServiceTests {
    final class Clock: @unchecked Sendable {
        var now = Date(timeIntervalSince1970: 1_700_000_000)
    }

    let clock = Clock()
    let service: UploadService

    init() {
        var settings = UploadSettings()
        settings.limits.chunkBytes = 8
        settings.expiresAfterSeconds = 60
        let clock = self.clock
        service = UploadService(settings: settings, seed: 7, clock: MockClock(wall: { clock.now }))
    }

    func initialize(total: Int = 10, type: String = "video/mp4", category: MediaCategory? = nil) throws -> UInt64 {
        try service.initialize(MediaDeclaration(totalBytes: total, mediaType: type, category: category), by: .anonymous).mediaID
    }

    @discardableResult
    func append(_ id: UInt64, index: Int?, _ bytes: [UInt8]) throws(UploadFailure) -> AppendReceipt {
        try service.append(mediaID: id, segmentIndex: index, payload: MediaPayload(bytes: bytes, parameter: "media", sentBytes: bytes.count),
                           by: .anonymous)
    }

    func segment(_ id: UInt64, _ index: Int) -> [UInt8]? {
        service.media(id).flatMap { media in
            media.segments.count > index ? media.segments[index].prefix(Int.max) : nil
        }
    }

    @Test("INIT gives a snowflake id made now, its media key and the expiry")
    func initAnswers() throws {
        let media = try service.initialize(MediaDeclaration(totalBytes: 10, mediaType: "video/mp4", category: .tweetVideo), by: .anonymous)
        #expect(String(media.mediaID).count == 19)
        #expect((media.mediaID >> 22) + 1_288_834_974_657 == 1_700_000_000_000)
        #expect((media.mediaID >> 12) & 1023 == 7, "the seed picks the machine bits")
        #expect(media.mediaKey == "7_\(media.mediaID)")
        #expect(media.expiresAfterSeconds == 60)
    }

    @Test("ids grow within one millisecond and never repeat, even after a reset")
    func idsNeverRepeat() throws {
        var previous: UInt64 = 0
        for round in 0..<3 {
            for _ in 0..<5_000 {
                let id = try initialize()
                #expect(id > previous, "round \(round)")
                previous = id
            }
            service.reset()
        }
    }

    @Test("media categories: v1.1 reads any case, with or without underscores", arguments: [
        ("TweetImage", MediaCategory.tweetImage), ("tweet_image", .tweetImage), ("TWEET_IMAGE", .tweetImage),
        ("AmplifyVideo", .amplifyVideo), ("DmGif", .dmGIF), ("Subtitles", .subtitles),
    ])
    func lenientCategories(_ text: String, _ category: MediaCategory) {
        #expect(MediaCategory(lenient: text) == category)
    }

    @Test("alt text is limited to 1000 characters; subtitles attach to videos only")
    func metadataAndSubtitles() throws {
        let video = try initialize()
        try service.setMetadata(mediaID: video, altText: String(repeating: "é", count: 1000), by: .anonymous)
        #expect(throws: UploadFailure.altTextTooLong(length: 1001, limit: 1000)) {
            try service.setMetadata(mediaID: video, altText: String(repeating: "a", count: 1001), by: .anonymous)
        }
        let srt = try initialize(total: 5, type: "text/srt", category: .subtitles)
        let tracks = try service.addSubtitles(videoID: video, track: SubtitleTrack(mediaID: srt, languageCode: "EN", displayName: "English"), by: .anonymous)
        #expect(tracks.map(\.languageCode) == ["EN"])
        #expect(throws: UploadFailure.notSubtitles(video)) {
            try service.addSubtitles(videoID: video, track: SubtitleTrack(mediaID: video, languageCode: "FR"), by: .anonymous)
        }
        #expect(service.report(video)?.altText?.count == 1000)
        try service.removeSubtitles(videoID: video, languageCode: "EN", by: .anonymous)
        #expect(throws: UploadFailure.noSubtitles(video, languageCode: "EN")) {
            try service.removeSubtitles(videoID: video, languageCode: "EN", by: .anonymous)
        }
    }

    @Test("INIT refuses unknown media types and sizes over the kind's limit")
    func initRules() {
        #expect(throws: UploadFailure.mediaTypeUnrecognized) { try initialize(type: "application/zip") }
        #expect(throws: UploadFailure.fileSizeExceeds(limit: 5 * 1024 * 1024)) { try initialize(total: 5 * 1024 * 1024 + 1, type: "image/png") }
    }

    @Test("APPEND stores segments and reports count and bytes")
    func appendStores() throws {
        let id = try initialize()
        let receipt = try append(id, index: 1, [1, 2, 3])
        #expect(receipt == AppendReceipt(mediaID: id, segmentIndex: 1, segmentCount: 1, receivedBytes: 3,
                                         expiresAt: clock.now.addingTimeInterval(60)))
        #expect(service.report(id)?.segments?.map(\.bytes) == [3])
    }

    @Test("APPEND without an index takes the one after the highest stored, up to 999")
    func appendInfersTheNextIndex() throws {
        let id = try initialize(total: 10)
        #expect(try append(id, index: nil, [1]).segmentIndex == 0)
        #expect(try append(id, index: nil, [2]).segmentIndex == 1)
        try append(id, index: 5, [3])
        #expect(try append(id, index: nil, [4]).segmentIndex == 6)
        #expect(service.report(id)?.segments?.map(\.index) == [0, 1, 5, 6])
        let full = try initialize(total: 1000)
        try append(full, index: 999, [0])
        #expect(throws: UploadFailure.segmentIndexOutOfRange(1000)) { try append(full, index: nil, [0]) }
    }

    @Test("a one-shot video the caller recognised is stored whole, finalized and processed")
    func oneShotVideo() throws {
        let bytes = [UInt8](repeating: 7, count: 20)  // over the chunk limit of 8: a one-shot has none
        let payload = MediaPayload(bytes: bytes, parameter: "media", sentBytes: bytes.count)
        let media = try service.uploadOneShot(payload, category: .tweetVideo, recognizedType: "video/mp4", by: .anonymous)
        #expect(media.kind == .video && media.mediaKey == "7_\(media.mediaID)")
        #expect(media.processing == .pending(checkAfterSeconds: 1))
        #expect(service.report(media.mediaID)?.segments?.map(\.bytes) == [20])
        #expect(throws: UploadFailure.mediaTypeUnrecognized) {
            try service.uploadOneShot(payload, category: .tweetVideo, recognizedType: "video/x-msvideo", by: .anonymous)
        }
        #expect(service.reports().count == 1, "a refused one-shot stores nothing")
    }

    @Test("segment_index must be from 0 to 999", arguments: [-1, 1000, Int.max, Int.min])
    func segmentIndexRange(_ index: Int) throws {
        let id = try initialize()
        #expect(throws: UploadFailure.segmentIndexOutOfRange(index)) { try append(id, index: index, [1]) }
        #expect(service.report(id)?.receivedBytes == 0)
    }

    @Test("a chunk over the limit and bytes beyond total_bytes are refused")
    func payloadRules() throws {
        let id = try initialize(total: 10)
        #expect(throws: UploadFailure.chunkTooLarge(parameter: "media", limit: 8)) { try append(id, index: 0, Array(repeating: 0, count: 9)) }
        try append(id, index: 0, Array(repeating: 0, count: 8))
        #expect(throws: UploadFailure.exceedsTotalBytes(segment: 1, bytes: 3, wouldBe: 11, total: 10)) { try append(id, index: 1, [1, 2, 3]) }
        #expect(service.report(id)?.receivedBytes == 8)
    }

    @Test("a repeated segment index replaces the earlier bytes")
    func retryReplaces() throws {
        let id = try initialize(total: 4)
        try append(id, index: 0, [1, 2, 3, 4])
        try append(id, index: 0, [5, 6, 7, 8])
        #expect(segment(id, 0) == [5, 6, 7, 8])
    }

    @Test("FINALIZE refuses gaps and short uploads with the real message")
    func finalizeRules() throws {
        let id = try initialize(total: 4)
        try append(id, index: 1, [1, 2, 3, 4])
        #expect(throws: UploadFailure.segmentsDoNotAddUp) { try service.finalize(mediaID: id, by: .anonymous) }
    }

    @Test("FINALIZE reads an image's size from its bytes, and refuses bytes that are no image")
    func finalizeImages() throws {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + [0, 0, 2, 0, 0, 0, 1, 0]
        let id = try initialize(total: png.count, type: "image/png")
        for (index, start) in stride(from: 0, to: png.count, by: 8).enumerated() {
            try append(id, index: index, Array(png[start..<start + 8]))
        }
        let media = try service.finalize(mediaID: id, by: .anonymous)
        #expect(media.image == ImageHeader(mediaType: "image/png", width: 512, height: 256))
        let fake = try initialize(total: 4, type: "image/png")
        try append(fake, index: 0, [1, 2, 3, 4])
        #expect(throws: UploadFailure.mediaTypeUnrecognized) { try service.finalize(mediaID: fake, by: .anonymous) }
    }

    @Test("FINALIZE reads a BMP's and a TIFF's size, even with the TIFF directory at the end", arguments: [
        ("bitmap.bmp", "image/bmp", 120, 90), ("big-endian.tiff", "image/tiff", 256, 100),
    ])
    func finalizeBMPAndTIFF(_ name: String, _ type: String, _ width: Int, _ height: Int) throws {
        var settings = UploadSettings()
        settings.limits.chunkBytes = 10_000
        let service = UploadService(settings: settings, seed: 1)
        let bytes = try ImageHeaderTests.fixture(name)
        let id = try service.initialize(MediaDeclaration(totalBytes: bytes.count, mediaType: type, category: .tweetImage), by: .anonymous).mediaID
        for (index, start) in stride(from: 0, to: bytes.count, by: 10_000).enumerated() {
            let chunk = Array(bytes[start..<min(start + 10_000, bytes.count)])
            _ = try service.append(mediaID: id, segmentIndex: index, payload: MediaPayload(bytes: chunk, parameter: "media", sentBytes: chunk.count), by: .anonymous)
        }
        let media = try service.finalize(mediaID: id, by: .anonymous)
        #expect(media.image == ImageHeader(mediaType: type, width: width, height: height))
        #expect(media.processing == nil)
    }

    @Test("subtitles attach and detach all at once, or not at all")
    func subtitlesAllOrNothing() throws {
        let video = try initialize()
        let english = try initialize(total: 5, type: "text/srt", category: .subtitles)
        let french = try initialize(total: 5, type: "text/vtt", category: .subtitles)
        let tracks = [SubtitleTrack(mediaID: english, languageCode: "EN"), SubtitleTrack(mediaID: video, languageCode: "DE")]
        #expect(throws: UploadFailure.notSubtitles(video)) { try service.addSubtitles(videoID: video, tracks: tracks, by: .anonymous) }
        #expect(service.report(video)?.subtitles == [])
        _ = try service.addSubtitles(videoID: video, tracks: [SubtitleTrack(mediaID: english, languageCode: "EN"),
                                                              SubtitleTrack(mediaID: french, languageCode: "FR")], by: .anonymous)
        #expect(throws: UploadFailure.noSubtitles(video, languageCode: "DE")) {
            try service.removeSubtitles(videoID: video, languageCodes: ["EN", "DE"], by: .anonymous)
        }
        #expect(service.report(video)?.subtitles.map(\.languageCode) == ["EN", "FR"])
        try service.removeSubtitles(videoID: video, languageCodes: ["FR", "EN"], by: .anonymous)
        #expect(service.report(video)?.subtitles == [])
    }

    @Test("processing walks pending, in_progress, succeeded")
    func processing() throws {
        let id = try initialize(total: 2, category: .tweetVideo)
        try append(id, index: 0, [1, 2])
        #expect(try service.finalize(mediaID: id, by: .anonymous).processing == .pending(checkAfterSeconds: 1))
        #expect(try service.status(mediaID: id, by: .anonymous).processing == .inProgress(checkAfterSeconds: 1, percent: 50))
        #expect(try service.status(mediaID: id, by: .anonymous).processing == .succeeded)
        #expect(service.report(id)?.state == .succeeded)
    }

    @Test("an expired media id is refused and nothing is stored")
    func expiry() throws {
        let id = try initialize()
        clock.now += 61
        #expect(throws: UploadFailure.expiredMediaID(id, afterSeconds: 60)) { try append(id, index: 0, [1]) }
        #expect(service.report(id)?.state == .expired)
    }

    @Test("APPEND after FINALIZE is refused; FINALIZE again answers the same")
    func appendAfterFinalize() throws {
        let id = try initialize(total: 1)
        try append(id, index: 0, [1])
        let first = try service.finalize(mediaID: id, by: .anonymous)
        #expect(throws: UploadFailure.alreadyFinalized(id)) { try append(id, index: 0, [2]) }
        #expect(try service.finalize(mediaID: id, by: .anonymous) == first)
    }

    @Test("media ids belong to the user that made them")
    func ownership() throws {
        let id = try service.initialize(MediaDeclaration(totalBytes: 1, mediaType: "video/mp4", category: nil), by: Requester(user: "1")).mediaID
        #expect(throws: UploadFailure.ownedByAnotherUser(id)) {
            try service.append(mediaID: id, segmentIndex: 0, payload: MediaPayload(bytes: [1], parameter: "media", sentBytes: 1), by: Requester(user: "2"))
        }
    }

    @Test("a download keeps the bytes it started with when the segment is retried or the store reset")
    func consistentMedia() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var settings = UploadSettings()
        settings.storageDirectory = directory
        let spooled = UploadService(settings: settings, seed: 1)
        let id = try spooled.initialize(MediaDeclaration(totalBytes: 4, mediaType: "video/mp4", category: nil), by: .anonymous).mediaID
        func put(_ bytes: [UInt8]) throws {
            _ = try spooled.append(mediaID: id, segmentIndex: 0, payload: MediaPayload(bytes: bytes, parameter: "media", sentBytes: 4), by: .anonymous)
        }
        try put([1, 2, 3, 4])
        let download = try #require(spooled.media(id))
        try put([5, 6, 7, 8])
        spooled.reset()
        #expect(download.segments[0].prefix(4) == [1, 2, 3, 4])
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + (try FileManager.default.contentsOfDirectory(atPath: directory).first ?? ""))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test("live uploads are bounded; expired ones are evicted to make room, nothing live is lost")
    func sessionBound() throws {
        var settings = UploadSettings()
        settings.limits.maxSessions = 100
        settings.expiresAfterSeconds = 60
        let clock = self.clock
        let bounded = UploadService(settings: settings, seed: 1, clock: MockClock(wall: { clock.now }))
        let old = try (0..<100).map { _ in
            try bounded.initialize(MediaDeclaration(totalBytes: 1, mediaType: "video/mp4", category: nil), by: .anonymous).mediaID
        }
        #expect(throws: UploadFailure.self) {
            try bounded.initialize(MediaDeclaration(totalBytes: 1, mediaType: "video/mp4", category: nil), by: .anonymous)
        }
        #expect(bounded.reports().count == 100, "the refusal dropped nothing")
        clock.now += 61
        let fresh = try bounded.initialize(MediaDeclaration(totalBytes: 1, mediaType: "video/mp4", category: nil), by: .anonymous).mediaID
        #expect(bounded.reports().map(\.mediaID) == [fresh])
        #expect(bounded.report(old[0]) == nil)
    }

    @Test("media held in memory is bounded: an APPEND past it is refused and nothing is lost")
    func memoryBound() throws {
        var settings = UploadSettings()
        settings.limits.maxMemoryBytes = 10
        let bounded = UploadService(settings: settings, seed: 1)
        let id = try bounded.initialize(MediaDeclaration(totalBytes: 20, mediaType: "video/mp4", category: nil), by: .anonymous).mediaID
        func put(_ index: Int, _ count: Int) throws(UploadFailure) {
            _ = try bounded.append(mediaID: id, segmentIndex: index, payload: MediaPayload(bytes: Array(repeating: 1, count: count), parameter: "media", sentBytes: count), by: .anonymous)
        }
        try put(0, 8)
        #expect(throws: UploadFailure.self) { try put(1, 3) }
        try put(0, 10)  // a retry that replaces 8 bytes with 10 fits
        #expect(bounded.report(id)?.receivedBytes == 10)
        bounded.reset()
        try? put(0, 10)  // the id is gone, but the memory is free again
        let next = try bounded.initialize(MediaDeclaration(totalBytes: 10, mediaType: "video/mp4", category: nil), by: .anonymous).mediaID
        _ = try bounded.append(mediaID: next, segmentIndex: 0, payload: MediaPayload(bytes: Array(repeating: 1, count: 10), parameter: "media", sentBytes: 10), by: .anonymous)
    }
}
