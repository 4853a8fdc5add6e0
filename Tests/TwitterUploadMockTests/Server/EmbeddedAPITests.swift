import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import InMemoryLogging
import Logging
import TwitterUploadMock  // the public API only, as a user's test suite sees it
import XCTest

/// A user's client under test: uploads a file in segments with URLSession.
struct ExampleUploader {
    let baseURL: String

    func post(_ body: String) async throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: baseURL + "/1.1/media/upload.json")!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as! HTTPURLResponse).statusCode, data)
    }

    func upload(_ bytes: [UInt8], segmentSize: Int) async throws -> UInt64 {
        let (_, data) = try await post("command=INIT&total_bytes=\(bytes.count)&media_type=video%2Fmp4")
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let id = object["media_id_string"] as! String
        for (index, start) in stride(from: 0, to: bytes.count, by: segmentSize).enumerated() {
            let chunk = Data(bytes[start..<min(start + segmentSize, bytes.count)]).base64EncodedString()
            let encoded = chunk.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            var status = 0
            repeat {  // retries what the mock makes fail
                status = try await post("command=APPEND&media_id=\(id)&segment_index=\(index)&media_data=\(encoded)").0
            } while status == 503
        }
        _ = try await post("command=FINALIZE&media_id=\(id)")
        return UInt64(id)!
    }
}

@Suite("Embedded Swift API")
struct EmbeddedAPITests {
    @Test("a client retries an injected 503 and the mock confirms the bytes")
    func embeddedEndToEnd() async throws {
        let video = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        try await withUploadMock { mock in
            mock.faults.add(FaultRule(match: RequestMatch(command: .append, segmentIndex: 1),
                                      action: FaultAction(status: 503), times: 1))
            let id = try await ExampleUploader(baseURL: mock.baseURL).upload(video, segmentSize: 20_000)
            let report = try #require(mock.upload(id))
            #expect(report.state == .finalized)
            #expect(report.segments?.map(\.bytes) == [20_000, 20_000, 10_000])
            #expect(report.sha256 == mock.uploads().first.flatMap { mock.upload($0.mediaID)?.sha256 })
            #expect(mock.media(id) == video)
            #expect(mock.requests().filter { $0.status == 503 }.count == 1)
            #expect(report.attempts(forSegment: 1).map(\.status) == [503, 204], "segment 1 was sent twice: 503, then 204")
            #expect(report.attempts(forSegment: 0).map(\.status) == [204])
            #expect(mock.requests(RequestFilter(command: .append, segmentIndex: 1)).map(\.status) == [503, 204])
            #expect(mock.requests(RequestFilter(faulted: true)).count == 1)
            mock.reset()
            #expect(mock.uploads().isEmpty && mock.faults.rules.isEmpty)
        }
    }

    @Test("a rule built in Swift resets an APPEND partway through its body; the retry is stored")
    func bodyTimeReset() async throws {
        try await withUploadMock { mock in
            let uploader = ExampleUploader(baseURL: mock.baseURL)
            let (_, data) = try await uploader.post("command=INIT&total_bytes=30000&media_type=video%2Fmp4")
            let id = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["media_id_string"] as? String)
            mock.faults.add(FaultRule(match: RequestMatch(command: .append),
                                      action: FaultAction(failure: .reset, afterRequestBytes: 10_000), times: 1))
            let chunk = Data((0..<30_000).map { UInt8(truncatingIfNeeded: $0) }).base64EncodedString()
            let append = "command=APPEND&media_id=\(id)&segment_index=0&media_data="
                + (chunk.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            // A bare socket: Foundation's URLSession on Linux reports a reset met while sending
            // only after about 30 seconds.
            let connection = try RawConnection(port: mock.port)
            connection.send("POST /1.1/media/upload.json HTTP/1.1\r\nHost: mock\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                            + "Content-Length: \(append.utf8.count)\r\n\r\n" + append)
            #expect(connection.readToEnd().ending == .reset)
            let cut = try #require(mock.requests(RequestFilter(command: .append)).first)
            #expect(cut.status == nil && cut.bytesReceived == 10_000)
            #expect(cut.fault?.hasSuffix("reset after 10000 request bytes") == true)
            #expect(try await uploader.post(append).0 == 204)
            #expect(mock.upload(try #require(UInt64(id)))?.segmentCount == 1)
        }
    }
}

/// The same from XCTest.
final class EmbeddedAPIXCTests: XCTestCase {
    func testUploadThroughTheEmbeddedMock() async throws {
        try await withUploadMock { mock in
            let id = try await ExampleUploader(baseURL: mock.baseURL).upload(Array("hello".utf8), segmentSize: 2)
            XCTAssertEqual(mock.media(id), Array("hello".utf8))
            XCTAssertEqual(mock.upload(id)?.segmentCount, 3)
        }
    }
}

/// Logging through the embedder's own `Logger`.
@Suite("Embedded logging")
struct EmbeddedLoggingTests {
    @Test("a test suite's own logger receives refused requests and fired faults, with the rule id")
    func ownLogger() async throws {
        let handler = InMemoryLogHandler()
        try await withUploadMock(logger: Logger(label: "test", factory: { _ in handler })) { mock in
            let rule = mock.faults.add(FaultRule(match: RequestMatch(command: .initialize), action: FaultAction(status: 503), times: 1))
            var request = URLRequest(url: URL(string: mock.baseURL + "/1.1/media/upload.json?command=INIT&total_bytes=1&media_type=video%2Fmp4")!)
            request.httpMethod = "POST"
            _ = try await URLSession.shared.data(for: request)
            let fired = try #require(handler.entries.first { $0.message == "fault fired" })
            #expect(fired.level == .info)
            #expect(fired.metadata["rule"] == "\(rule.id)")
            let refused = try #require(handler.entries.first { $0.message == "request refused" })
            #expect(refused.metadata["status"]?.description == "503" && refused.metadata["command"] == "INIT")
            #expect(refused.metadata["api"] == "v1.1" && refused.metadata["fault"] == "rule \(rule.id), status 503")
            #expect(refused.metadata["latency_ms"].flatMap { Double($0.description) } != nil)
        }
        let listening = try #require(handler.entries.first { $0.message == "listening" })
        // The vector kernel level in force (docs/configuration.md, Environment).
        #expect(["scalar", "ssse3", "avx2", "avx512"].contains(listening.metadata["vector_kernel"]?.description))
    }

    @Test("configured rate limits count beside the real ones, as rules added live do")
    func rateLimitsAddBesideTheRealOnes() async throws {
        var configuration = MockConfiguration()
        configuration.rateLimits = [RateLimitRule(match: RequestMatch(command: .append), limit: 1, per: .global)]
        try await withUploadMock(configuration) { mock in
            #expect(mock.rateLimits.rules.count == RateLimitRule.realDefaults.count + 1)
            let (status, _) = try await ExampleUploader(baseURL: mock.baseURL).post("command=INIT&total_bytes=1&media_type=video%2Fmp4")
            #expect(status == 202)
            #expect(mock.requests().last?.rateLimit == nil)
            mock.rateLimits.add(RateLimitRule(match: RequestMatch(command: .initialize), limit: 0))
            #expect(try await ExampleUploader(baseURL: mock.baseURL).post("command=INIT&total_bytes=1&media_type=video%2Fmp4").0 == 429)
            mock.reset()
            #expect(mock.rateLimits.rules.count == RateLimitRule.realDefaults.count + 1)
        }
        configuration.realRateLimits = false
        try await withUploadMock(configuration) { mock in
            #expect(mock.rateLimits.rules.map(\.limit) == [1])
        }
    }

    @Test("the default logger discards everything, so an embedding suite's output stays clean")
    func quietByDefault() {
        #expect(UploadMockServer.quietLogger.handler is SwiftLogNoOpLogHandler)
    }
}
