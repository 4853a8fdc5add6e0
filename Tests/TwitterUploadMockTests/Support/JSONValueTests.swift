import Testing
@testable import TwitterUploadMock

@Suite("JSON")
struct JSONValueTests {
    @Test("slashes are escaped as the real service does, key order is kept")
    func serialization() {
        let value: JSONValue = .object(["video": .object(["video_type": "video/mp4"]), "a": .array([1, true, .null])])
        #expect(value.text == #"{"video":{"video_type":"video\/mp4"},"a":[1,true,null]}"#)
    }

    @Test("control characters and quotes are escaped")
    func escaping() {
        #expect(JSONValue.string("a\"b\\c\n\u{1}").text == #""a\"b\\c\n\u0001""#)
    }

    @Test("config readers name unknown keys and wrong types")
    func strictReading() throws {
        #expect(throws: JSONReadError("unknown key 'limits.chunk_byte'")) {
            try MockConfiguration(json: JSONValue.parse(Array(#"{"limits":{"chunk_byte":1}}"#.utf8)))
        }
        #expect(throws: JSONReadError("port must be an integer from 0 to 65535")) {
            try MockConfiguration(json: JSONValue.parse(Array(#"{"port":"x"}"#.utf8)))
        }
        let configuration = try MockConfiguration(json: JSONValue.parse(Array(#"{"rate_limits":[{"match":{"command":"APPEND"},"limit":5,"window_secs":2,"per":"global"}]}"#.utf8)))
        #expect(configuration.rateLimits == [RateLimitRule(match: RequestMatch(command: .append), limit: 5, windowSeconds: 2, per: .global)])
    }
}
