import Foundation
import Testing
import UploadMockDomain
import UploadMockJSON
@testable import UploadMockChaos

@Suite("Faults and rate limits")
struct FaultTests {
    func facts(_ command: UploadCommand, segment: Int? = nil) -> RequestFacts {
        RequestFacts(api: .v1, method: "POST", path: "/1.1/media/upload.json", command: command, mediaID: 1, segmentIndex: segment, user: nil)
    }

    @Test("skip, times and matching pick exactly the intended request")
    func skipAndTimes() {
        let faults = FaultInjector(seed: 1)
        faults.add(FaultRule(match: RequestMatch(command: .append, segmentIndex: 2), skip: 2,
                             action: FaultAction(status: 503), times: 1))
        let fired = (0..<5).map { _ in faults.fire(for: facts(.append, segment: 2), while: .answering) != nil }
        #expect(fired == [false, false, true, false, false])
        #expect(faults.fire(for: facts(.append, segment: 3), while: .answering) == nil)
        #expect(faults.rules.isEmpty)
    }

    @Test("a seeded probability fires on the same requests every time")
    func seededProbability() {
        func run() -> [Int] {
            let faults = FaultInjector(seed: 42)
            faults.add(FaultRule(probability: 0.1, action: FaultAction(failure: .reset)))
            return (0..<1000).filter { _ in faults.fire(for: facts(.append), while: .answering) != nil }
        }
        let first = run()
        #expect(first == run())
        #expect((70...130).contains(first.count))
    }

    @Test("rule JSON round-trips and errors name the field")
    func ruleJSON() throws {
        let text = #"{"match":{"command":"APPEND","segment_index":2,"skip":1,"probability":0.5},"action":{"status":503,"delay_ms":300},"after_commit":true,"times":1}"#
        let rule = try JSONReader.decode(FaultRule.self, from: JSONParser.parse(Array(text.utf8)), path: "rule")
        #expect(rule.match == RequestMatch(command: .append, segmentIndex: 2))
        #expect(rule.action == FaultAction(status: 503, delay: .fixed(milliseconds: 300)))
        #expect(rule.skip == 1 && rule.probability == 0.5 && rule.afterCommit && rule.times == 1)
        #expect(throws: ConfigurationError("unknown key 'rule.action.stauts'")) {
            try JSONReader.decode(FaultRule.self, from: JSONParser.parse(Array(#"{"action":{"stauts":503}}"#.utf8)), path: "rule")
        }
        #expect(throws: ConfigurationError("rule.action.status must be an integer from 200 to 599")) {
            try JSONReader.decode(FaultRule.self, from: JSONParser.parse(Array(#"{"action":{"status":100}}"#.utf8)), path: "rule")
        }
    }

    @Test("a media id is an integer however it is written: 5, 5.0, 5e0 or \"5\"; never 5.5 or -5")
    func mediaIDSpellings() throws {
        func mediaID(_ written: String) throws -> UInt64? {
            let text = #"{"match":{"media_id":"# + written + #"},"action":{"status":503}}"#
            return try JSONReader.decode(FaultRule.self, from: JSONParser.parse(Array(text.utf8)), path: "rule").match.mediaID
        }
        for written in ["5", "5.0", "5e0", #""5""#] { #expect(try mediaID(written) == 5) }
        #expect(try mediaID("18446744073709551615") == .max)
        for written in ["5.5", "-5", "18446744073709551616", "1e20", #""-5""#] {
            #expect(throws: ConfigurationError("rule.match.media_id must be a non-negative integer or a decimal string")) {
                try mediaID(written)
            }
        }
    }

    @Test("every delay draw stays within 0 and one hour, even from the widest lognormal rule")
    func delayDrawsAreClamped() {
        var generator = SeededGenerator(seed: 3)
        let widest = Delay.lognormal(medianMilliseconds: Delay.maximumMilliseconds, sigma: 10)
        for _ in 0..<10_000 {
            let drawn = widest.sample(using: &generator)
            #expect(drawn >= .zero && drawn <= .milliseconds(Int64(Delay.maximumMilliseconds)))
        }
    }

    @Test("rate limits count per window and report remaining")
    func rateLimit() {
        final class Clock: @unchecked Sendable { var now = Date(timeIntervalSince1970: 1_000) }
        let clock = Clock()
        let limiter = RateLimiter(rules: [RateLimitRule(match: RequestMatch(command: .append), limit: 2, windowSeconds: 10)],
                                  clock: MockClock(wall: { clock.now }))
        let decisions = (0..<3).map { _ in limiter.admit(facts(.append))! }
        #expect(decisions.map(\.remaining) == [1, 0, 0])
        #expect(decisions.map(\.exceeded) == [false, false, true])
        #expect(decisions[0].resetEpochSeconds == 1_010)
        #expect(limiter.admit(facts(.initialize)) == nil)
        clock.now += 10
        #expect(limiter.admit(facts(.append))?.exceeded == false)
    }

    @Test("every matching rule counts: a rule added later tightens the defaults, the tightest sets the headers")
    func laterRulesTakeEffect() {
        let limiter = RateLimiter(rules: RateLimitRule.realDefaults)
        #expect(limiter.admit(facts(.append))?.limit == 20_000)
        limiter.add(RateLimitRule(match: RequestMatch(command: .append), limit: 2, windowSeconds: 60))
        let decisions = (0..<3).map { _ in limiter.admit(facts(.append)) }
        #expect(decisions.map { $0?.limit } == [2, 2, 2])
        #expect(decisions.map { $0?.exceeded } == [false, false, true])
        #expect(limiter.admit(facts(.initialize))?.limit == 200, "other commands keep their own limits")
    }

    @Test("v2 requests count against per-user and per-app windows at once")
    func v2Windows() {
        let limiter = RateLimiter(rules: RateLimitRule.realDefaults)
        let decision = limiter.admit(RequestFacts(api: .v2, method: "POST", path: "/2/media/upload", command: .simpleUpload))
        #expect(decision?.limit == 500)
        #expect(decision?.remaining == 499)
    }
}
