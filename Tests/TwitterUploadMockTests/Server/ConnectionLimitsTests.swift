import Testing
import TwitterUploadMock
import UploadMockJSON

@Suite("Connection limits configuration")
struct ConnectionLimitsTests {
    @Test("the connections object sets every bound; absent keys keep their defaults")
    func decode() throws {
        let configuration = try MockConfiguration(json: Array(#"{"connections": {"max": 200, "headroom": 20, "head_timeout_secs": 5, "body_min_bytes_per_sec": 0}}"#.utf8))
        var expected = ConnectionLimits()
        expected.maximum = 200
        expected.headroom = 20
        expected.headTimeoutSeconds = 5
        expected.bodyMinimumBytesPerSecond = 0
        #expect(configuration.connections == expected)
        #expect(try MockConfiguration(json: Array("{}".utf8)).connections == ConnectionLimits())
    }

    @Test("contradictory bounds are refused, naming the keys")
    func contradictions() {
        #expect(throws: ConfigurationError.self) { try MockConfiguration(json: Array(#"{"connections": {"max": 10, "headroom": 10}}"#.utf8)) }
        var limits = ConnectionLimits()
        limits.headroom = 0
        #expect(throws: ConfigurationError("connections.headroom (0) must be from 1 to connections.max - 1 (1023)")) {
            try limits.validate()
        }
    }

    @Test("the embedded server refuses contradictory bounds at construction")
    func embedded() {
        var configuration = MockConfiguration()
        configuration.connections.maximum = 1
        #expect(throws: UploadMockError.self) { try UploadMockServer(configuration: configuration) }
    }
}
