import Foundation
import Testing
@testable import TwitterUploadMock

/// The upload rules, without sockets: each APPEND rejection stores nothing.
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
        service = UploadService(settings: settings, seed: 7, now: { clock.now })
    }

    func parameters(_ fields: [String: String], media: [UInt8]? = nil) -> UploadParameters {
        var parameters = UploadParameters()
        parameters.fields = fields
        parameters.media = media
        return parameters
    }

    func initialize(total: Int = 10, type: String = "video/mp4", category: String? = nil) throws -> UInt64 {
        var fields = ["command": "INIT", "total_bytes": String(total), "media_type": type]
        fields["media_category"] = category
        let reply = try service.handle(.initialize, parameters: parameters(fields), user: nil)
        return try #require(reply.mediaID)
    }

    func append(_ id: UInt64, index: String, _ bytes: [UInt8]) throws -> UploadReply {
        try service.handle(.append, parameters: parameters(
            ["command": "APPEND", "media_id": String(id), "segment_index": index], media: bytes), user: nil)
    }

    func expectRejected(_ error: UploadError, _ body: () throws -> Void) {
        #expect(throws: error, performing: body)
    }

    @Test("INIT answers 202 with a 19-digit id, its string and the expiry")
    func initAnswers() throws {
        let reply = try service.handle(.initialize, parameters: parameters(
            ["total_bytes": "10", "media_type": "video/mp4", "media_category": "tweet_video"]), user: nil)
        let id = try #require(reply.mediaID)
        #expect(reply.status == 202)
        #expect(String(id).count == 19)
        #expect(reply.body?.text == #"{"media_id":\#(id),"media_id_string":"\#(id)","expires_after_secs":60,"media_key":"7_\#(id)"}"#)
    }

    @Test("the same seed gives the same media ids")
    func seededIDs() throws {
        let other = UploadService(settings: UploadSettings(), seed: 7)
        let reply = try other.handle(.initialize, parameters: parameters(["total_bytes": "1", "media_type": "video/mp4"]), user: nil)
        #expect(try reply.mediaID == initialize())
    }

    @Test("APPEND stores segments and reports count and bytes")
    func appendStores() throws {
        let id = try initialize()
        let reply = try append(id, index: "1", [1, 2, 3])
        #expect(reply.status == 204)
        #expect(reply.headers.map(\.value) == ["text/html;charset=utf-8", "1", "3"])
        #expect(service.store.session(id)?.segments[1]?.bytes == [1, 2, 3])
    }

    @Test("segment_index must be a decimal from 0 to 999", arguments: ["-1", "1000", "1.5", "abc", " 1", "+1", ""])
    func segmentIndexRules(_ index: String) throws {
        let id = try initialize()
        #expect(throws: UploadError.self) { try append(id, index: index, [1]) }
        #expect(service.store.session(id)?.receivedBytes == 0)
    }

    @Test("a chunk over the limit, bytes beyond total_bytes, and both payloads are refused")
    func payloadRules() throws {
        let id = try initialize(total: 10)
        expectRejected(.chunkTooLarge(parameter: "media", limit: 8)) { _ = try append(id, index: "0", Array(repeating: 0, count: 9)) }
        _ = try append(id, index: "0", Array(repeating: 0, count: 8))
        expectRejected(.exceedsTotalBytes(segment: 1, bytes: 3, wouldBe: 11, total: 10)) { _ = try append(id, index: "1", [1, 2, 3]) }
        var both = parameters(["media_id": String(id), "segment_index": "2"], media: [1])
        both.mediaData = [2]
        expectRejected(.bothMediaAndMediaData) { _ = try service.handle(.append, parameters: both, user: nil) }
        expectRejected(.missingParameter("media")) {
            _ = try service.handle(.append, parameters: parameters(["media_id": String(id), "segment_index": "2"]), user: nil)
        }
        #expect(service.store.session(id)?.receivedBytes == 8)
    }

    @Test("a repeated segment index replaces the earlier bytes")
    func retryReplaces() throws {
        let id = try initialize(total: 4)
        _ = try append(id, index: "0", [1, 2, 3, 4])
        _ = try append(id, index: "0", [5, 6, 7, 8])
        #expect(service.store.session(id)?.segments[0]?.bytes == [5, 6, 7, 8])
    }

    @Test("FINALIZE refuses gaps and short uploads with the real message")
    func finalizeRules() throws {
        let id = try initialize(total: 4)
        _ = try append(id, index: "1", [1, 2, 3, 4])
        expectRejected(.segmentsDoNotAddUp) {
            _ = try service.handle(.finalize, parameters: parameters(["media_id": String(id)]), user: nil)
        }
    }

    @Test("processing walks pending, in_progress, succeeded")
    func processing() throws {
        let id = try initialize(total: 2, category: "tweet_video")
        _ = try append(id, index: "0", [1, 2])
        let finalized = try service.handle(.finalize, parameters: parameters(["media_id": String(id)]), user: nil)
        #expect(finalized.status == 201)
        #expect(finalized.body?.text.contains(#""processing_info":{"state":"pending","check_after_secs":1}"#) == true)
        let first = try service.handle(.status, parameters: parameters(["media_id": String(id)]), user: nil)
        #expect(first.body?.text.contains(#""state":"in_progress""#) == true)
        let second = try service.handle(.status, parameters: parameters(["media_id": String(id)]), user: nil)
        #expect(second.body?.text.contains(#""state":"succeeded""#) == true)
    }

    @Test("an expired media id is refused and nothing is stored")
    func expiry() throws {
        let id = try initialize()
        clock.now += 61
        expectRejected(.expiredMediaID(id, after: 60)) { _ = try append(id, index: "0", [1]) }
        #expect(service.store.session(id)?.state(at: clock.now, processing: service.settings.processing) == .expired)
    }

    @Test("APPEND after FINALIZE is refused")
    func appendAfterFinalize() throws {
        let id = try initialize(total: 1)
        _ = try append(id, index: "0", [1])
        _ = try service.handle(.finalize, parameters: parameters(["media_id": String(id)]), user: nil)
        expectRejected(.alreadyFinalized(id)) { _ = try append(id, index: "0", [2]) }
    }

    @Test("commands are case sensitive")
    func caseSensitiveCommand() {
        #expect(throws: UploadError.unknownCommand("append")) {
            try UploadCommand(parameters: parameters(["command": "append"]))
        }
    }
}
