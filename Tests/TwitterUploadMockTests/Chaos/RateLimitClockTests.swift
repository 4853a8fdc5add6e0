import Foundation
import Testing
import UploadMockDomain
@testable import UploadMockChaos

/// Rate-limit windows on the virtual clock (docs/clock.md, Rate limits): per-user windows and
/// rules added within a scope run on the request's scope's clock, the rest on the server's.
@Suite("Rate-limit windows on the clock")
struct RateLimitClockTests {
    let clock: MockClock

    init() throws {
        clock = MockClock()
        try clock.freeze()
        try clock.set(Date(timeIntervalSince1970: 2_000_000_000))
    }

    func append(as scope: String?) -> RequestFacts {
        RequestFacts(api: .v1, method: "POST", path: "/1.1/media/upload.json", command: .append, user: nil, scope: scope)
    }

    @Test("a 429 clears once the request's clock passes the reset; x-rate-limit-reset is on that clock")
    func perUserWindow() throws {
        let limiter = RateLimiter(rules: [RateLimitRule(match: RequestMatch(command: .append), limit: 1, windowSeconds: 900)], clock: clock)
        #expect(limiter.admit(append(as: "alice"))?.resetEpochSeconds == 2_000_000_900)
        let refused = try #require(limiter.admit(append(as: "alice")))
        #expect(refused.exceeded && refused.headers.map(\.value) == ["1", "0", "2000000900"])
        try clock.advance(by: 899, in: "alice")
        #expect(limiter.admit(append(as: "alice"))?.exceeded == true)
        try clock.advance(by: 1, in: "alice")
        let cleared = try #require(limiter.admit(append(as: "alice")))
        #expect(!cleared.exceeded && cleared.resetEpochSeconds == 2_000_001_800)
    }

    @Test("global windows run on the server's clock: a scope's own clock does not clear them")
    func globalWindow() throws {
        let limiter = RateLimiter(rules: [RateLimitRule(match: RequestMatch(command: .append), limit: 1, windowSeconds: 60, per: .global)],
                                  clock: clock)
        _ = limiter.admit(append(as: "alice"))
        try clock.advance(by: 3_600, in: "alice")
        #expect(limiter.admit(append(as: "alice"))?.exceeded == true)
        try clock.advance(by: 60)
        #expect(limiter.admit(append(as: "bob"))?.exceeded == false)
    }

    @Test("a global rule added within a scope counts that scope alone, on its clock")
    func scopedGlobalRule() throws {
        var rule = RateLimitRule(match: RequestMatch(command: .append), limit: 1, windowSeconds: 60, per: .global)
        rule.scope = "alice"
        let limiter = RateLimiter(rules: [rule], clock: clock)
        _ = limiter.admit(append(as: "alice"))
        #expect(limiter.admit(append(as: "alice"))?.exceeded == true)
        try clock.advance(by: 60, in: "alice")
        #expect(limiter.admit(append(as: "alice"))?.exceeded == false)
    }

    @Test("a clock set back before a window's start begins a new window")
    func clockSetBack() throws {
        let limiter = RateLimiter(rules: [RateLimitRule(match: RequestMatch(command: .append), limit: 1, windowSeconds: 900)], clock: clock)
        _ = limiter.admit(append(as: nil))
        #expect(limiter.admit(append(as: nil))?.exceeded == true)
        try clock.set(Date(timeIntervalSince1970: 1_999_999_000))
        let decision = try #require(limiter.admit(append(as: nil)))
        #expect(!decision.exceeded && decision.resetEpochSeconds == 1_999_999_900)
    }
}
