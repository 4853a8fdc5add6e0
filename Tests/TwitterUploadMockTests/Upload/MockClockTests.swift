import Foundation
import Testing
@testable import UploadMockDomain

/// A wall clock the test moves, so no test waits for real time.
final class WallClock: @unchecked Sendable {
    var now = Date(timeIntervalSince1970: 1_700_000_000)
}

/// docs/clock.md without sockets: one server clock that scopes follow until given their own.
@Suite("Virtual clock")
struct MockClockTests {
    let wall = WallClock()
    let clock: MockClock

    init() {
        let wall = self.wall
        clock = MockClock(maximumScopedClocks: 2, wall: { wall.now })
    }

    @Test("real time until moved; advance and set shift it and it keeps running")
    func runningClock() throws {
        #expect(clock.status() == ClockStatus(now: wall.now, isFrozen: false, offsetSeconds: 0))
        #expect(clock.readings().isReal(in: nil))
        try clock.advance(by: 86_400)
        wall.now += 10
        #expect(clock.now() == wall.now.addingTimeInterval(86_400))
        #expect(clock.status().offsetSeconds == 86_400)
        #expect(!clock.readings().isReal(in: nil))
        try clock.set(Date(timeIntervalSince1970: 1_800_000_000))
        wall.now += 5
        #expect(clock.now() == Date(timeIntervalSince1970: 1_800_000_005))
    }

    @Test("a frozen clock stands still, advance and set still move it, resume runs on from there")
    func frozenClock() throws {
        try clock.freeze()
        let frozenAt = wall.now
        wall.now += 100
        #expect(clock.status() == ClockStatus(now: frozenAt, isFrozen: true, offsetSeconds: -100))
        try clock.advance(by: 30)
        #expect(clock.now() == frozenAt.addingTimeInterval(30))
        try clock.set(Date(timeIntervalSince1970: 1_900_000_000))
        #expect(clock.status().isFrozen)
        try clock.resume()
        wall.now += 7
        #expect(clock.status() == ClockStatus(now: Date(timeIntervalSince1970: 1_900_000_007), isFrozen: false,
                                              offsetSeconds: 1_900_000_000 - 1_700_000_100))
    }

    @Test("scopes follow the server's clock until one is moved; then only that one moves")
    func scopedClocks() throws {
        try clock.advance(by: 60)
        #expect(clock.now(in: "alice") == wall.now.addingTimeInterval(60), "alice follows the server")
        try clock.advance(by: 3_600, in: "alice")
        #expect(clock.now(in: "alice") == wall.now.addingTimeInterval(3_660), "her own clock started where the server's read")
        #expect(clock.now(in: "bob") == wall.now.addingTimeInterval(60))
        try clock.advance(by: 1)
        #expect(clock.now(in: "alice") == wall.now.addingTimeInterval(3_660), "the server's clock no longer moves hers")
        #expect(clock.now(in: "bob") == wall.now.addingTimeInterval(61))
        clock.follow(in: "alice")
        #expect(clock.now(in: "alice") == wall.now.addingTimeInterval(61))
        try clock.freeze(in: "bob")
        clock.reset()
        #expect(clock.readings().isReal(in: "bob") && clock.readings().isReal(in: nil))
    }

    @Test("refused changes name the problem and change nothing")
    func refusals() throws {
        try clock.advance(by: 10)
        #expect(throws: ClockError.backwards(seconds: -1)) { try clock.advance(by: -1) }
        #expect(throws: ClockError.outOfRange(Date(timeIntervalSince1970: 1_136_073_599))) {
            try clock.set(Date(timeIntervalSince1970: 1_136_073_599))
        }
        #expect(throws: ClockError.self) { try clock.advance(by: 4_102_444_800) }
        try clock.set(MockClock.range.upperBound)
        #expect(throws: ClockError.outOfRange(MockClock.range.upperBound.addingTimeInterval(0.5))) { try clock.advance(by: 0.5) }
        wall.now += 60
        #expect(clock.now() == MockClock.range.upperBound, "a running clock stops at the end of its range")
        try clock.advance(by: 0)
        try clock.freeze(in: "a")
        try clock.freeze(in: "b")
        #expect(throws: ClockError.tooManyScopedClocks(limit: 2)) { try clock.freeze(in: "c") }
        try clock.resume(in: "a")  // a scope that has its own clock is never refused
        #expect(clock.readings().isReal(in: "c") == false, "c still follows the moved server clock")
        #expect(ClockError.outOfRange(Date(timeIntervalSince1970: 1)).description
                == "the clock would read 1 seconds since 1970, outside 2006-01-01T00:00:00Z (1136073600) to 2100-01-01T00:00:00Z (4102444800)")
    }
}

/// Session expiry and timed processing on the clock (docs/clock.md, docs/configuration.md).
@Suite("Upload domain on the clock")
struct UploadClockTests {
    let wall = WallClock()
    let clock: MockClock

    init() {
        let wall = self.wall
        clock = MockClock(wall: { wall.now })
    }

    func service(_ configure: (inout UploadSettings) -> Void = { _ in }) -> UploadService {
        var settings = UploadSettings()
        configure(&settings)
        return UploadService(settings: settings, seed: 1, clock: clock)
    }

    func video(_ service: UploadService, as scope: String? = nil, category: MediaCategory? = .tweetVideo,
               finalized: Bool = false) throws -> UInt64 {
        let requester = Requester(scope: scope)
        let id = try service.initialize(MediaDeclaration(totalBytes: 2, mediaType: "video/mp4", category: category), by: requester).mediaID
        _ = try service.append(mediaID: id, segmentIndex: 0, payload: MediaPayload(bytes: [1, 2], parameter: "media", sentBytes: 2),
                               by: requester)
        if finalized { _ = try service.finalize(mediaID: id, by: requester) }
        return id
    }

    @Test("expires_after_secs counts down in clock time; an upload expires on its own scope's clock")
    func expiry() throws {
        let uploads = service()
        let alices = try video(uploads, as: "alice")
        let bobs = try video(uploads, as: "bob")
        try clock.advance(by: 3_600, in: "alice")
        #expect(try uploads.finalize(mediaID: alices, by: Requester(scope: "alice")).expiresAfterSeconds == 86_400)
        try clock.advance(by: 86_399, in: "alice")
        #expect(try uploads.status(mediaID: alices, by: Requester(scope: "alice")).expiresAfterSeconds == 1)
        try clock.advance(by: 1, in: "alice")
        #expect(throws: UploadFailure.expiredMediaID(alices, afterSeconds: 86_400)) {
            try uploads.status(mediaID: alices, by: Requester(scope: "alice"))
        }
        #expect(uploads.report(alices)?.state == .expired)
        #expect(uploads.reports().map(\.state) == [.expired, .initialized], "bob's upload keeps bob's time")
        #expect(try uploads.finalize(mediaID: bobs, by: Requester(scope: "bob")).expiresAfterSeconds == 86_400)
        clock.follow(in: "alice")
        #expect(uploads.report(alices)?.state == .processing, "back on real time, alice's upload is live again")
    }

    @Test("the v2 append's expires_at is on the clock")
    func appendExpiry() throws {
        let uploads = service()
        try clock.set(Date(timeIntervalSince1970: 2_000_000_000))
        let id = try uploads.initialize(MediaDeclaration(totalBytes: 2, mediaType: "video/mp4", category: nil), by: .anonymous).mediaID
        let receipt = try uploads.append(mediaID: id, segmentIndex: 0, payload: MediaPayload(bytes: [1], parameter: "media", sentBytes: 1),
                                         by: .anonymous)
        #expect(receipt.expiresAt == Date(timeIntervalSince1970: 2_000_086_400))
    }

    @Test("timed processing: pending at FINALIZE, in_progress growing with clock time, then the result")
    func timedProcessing() throws {
        let uploads = service { $0.processing.durationSeconds = 600; $0.processing.checkAfterSeconds = 30 }
        try clock.freeze()
        let id = try video(uploads)
        #expect(try uploads.finalize(mediaID: id, by: .anonymous).processing == .pending(checkAfterSeconds: 30))
        var seen: [ProcessingState?] = []
        for _ in 0..<3 {
            seen.append(try uploads.status(mediaID: id, by: .anonymous).processing)
            try clock.advance(by: 290)
        }
        #expect(seen == [.inProgress(checkAfterSeconds: 30, percent: 0), .inProgress(checkAfterSeconds: 30, percent: 48),
                         .inProgress(checkAfterSeconds: 20, percent: 96)], "check_after_secs never points past the end")
        #expect(uploads.report(id)?.state == .succeeded)
        #expect(try uploads.status(mediaID: id, by: .anonymous).processing == .succeeded)
        #expect(try uploads.finalize(mediaID: id, by: .anonymous).processing == .succeeded, "FINALIZE again says the same")
    }

    @Test("polls do not move timed processing, and a clock set back before FINALIZE reads as no progress")
    func timedProcessingIgnoresPolls() throws {
        let uploads = service { $0.processing.durationSeconds = 60; $0.processing.result = .failed }
        try clock.freeze()
        let id = try video(uploads, finalized: true)
        for _ in 0..<5 { _ = try uploads.status(mediaID: id, by: .anonymous) }
        #expect(uploads.report(id)?.state == .processing)
        try clock.set(clock.now().addingTimeInterval(-30))
        #expect(try uploads.status(mediaID: id, by: .anonymous).processing == .inProgress(checkAfterSeconds: 1, percent: 0))
        try clock.advance(by: 90)
        #expect(try uploads.status(mediaID: id, by: .anonymous).processing == .failed(ProcessingSimulation().error))
    }

    @Test("per-category durations win over duration_secs; categories without one count polls as before")
    func categoryDurations() throws {
        let uploads = service { $0.processing.durationSecondsByCategory = ["tweet_gif": 10, "amplify_video": 0] }
        try clock.freeze()
        let gif = try uploads.initialize(MediaDeclaration(totalBytes: 1, mediaType: "image/gif", category: .tweetGIF), by: .anonymous).mediaID
        let amplified = try video(uploads, category: .amplifyVideo, finalized: true)
        let polled = try video(uploads, finalized: true)
        #expect(try uploads.status(mediaID: polled, by: .anonymous).processing == .inProgress(checkAfterSeconds: 1, percent: 50))
        #expect(try uploads.status(mediaID: polled, by: .anonymous).processing == .succeeded, "two polls, the default")
        #expect(uploads.report(amplified)?.state == .succeeded, "a duration of 0 is done at FINALIZE")
        #expect(uploads.report(gif)?.state == .initialized)
        #expect(ProcessingSimulation().duration(for: .tweetGIF) == nil)
    }
}
