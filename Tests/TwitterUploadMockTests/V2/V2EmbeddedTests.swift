import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TwitterUploadMock  // the public API only, as a user's test suite sees it

/// A user's v2 client under test: JSON initialize, base64 JSON appends, finalize, STATUS.
struct ExampleV2Uploader {
    let baseURL: String

    func call(_ method: String, _ path: String, json: [String: Any]? = nil) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let object = data.isEmpty ? [:] : (try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:])
        return ((response as! HTTPURLResponse).statusCode, object)
    }

    func upload(_ bytes: [UInt8], segmentSize: Int) async throws -> (id: UInt64, states: [String]) {
        let (_, initialized) = try await call("POST", "/2/media/upload/initialize", json: [
            "media_type": "video/mp4", "total_bytes": bytes.count, "media_category": "tweet_video"])
        let id = (initialized["data"] as! [String: Any])["id"] as! String
        for (index, start) in stride(from: 0, to: bytes.count, by: segmentSize).enumerated() {
            let chunk = Data(bytes[start..<min(start + segmentSize, bytes.count)]).base64EncodedString()
            var status = 0
            repeat {  // retries what the mock makes fail
                status = try await call("POST", "/2/media/upload/\(id)/append", json: ["media": chunk, "segment_index": index]).0
            } while status == 503
        }
        var (_, answer) = try await call("POST", "/2/media/upload/\(id)/finalize")
        var states: [String] = []
        while let info = (answer["data"] as? [String: Any])?["processing_info"] as? [String: Any], let state = info["state"] as? String {
            states.append(state)
            guard state == "pending" || state == "in_progress" else { break }
            answer = try await call("GET", "/2/media/upload?command=STATUS&media_id=\(id)").1
        }
        return (UInt64(id)!, states)
    }
}

@Suite("Embedded Swift API, X API v2")
struct V2EmbeddedTests {
    @Test("a v2 upload is in the same report, journal and rules as v1.1")
    func v2EndToEnd() async throws {
        let video = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var configuration = MockConfiguration()
        configuration.upload.processing.checkAfterSeconds = 0
        try await withUploadMock(configuration) { mock in
            mock.faults.add(FaultRule(match: RequestMatch(command: .append, segmentIndex: 1, api: .v2),
                                      action: FaultAction(status: 503), times: 1))
            let (id, states) = try await ExampleV2Uploader(baseURL: mock.baseURL).upload(video, segmentSize: 20_000)
            #expect(states == ["pending", "in_progress", "succeeded"])
            let report = try #require(mock.upload(id))
            #expect(report.state == .succeeded && report.mediaCategory == "tweet_video")
            #expect(report.segments?.map(\.bytes) == [20_000, 20_000, 10_000])
            #expect(mock.media(id) == video)
            let requests = mock.requests()
            #expect(requests.allSatisfy { $0.api == .v2 })
            #expect(requests.map(\.command) == ["INIT", "APPEND", "APPEND", "APPEND", "APPEND", "FINALIZE", "STATUS", "STATUS"])
            #expect(requests.filter { $0.status == 503 }.map(\.segmentIndex) == [1])
        }
    }

    /// A multipart append with only the `media` part, as python-twitter-v2 0.9.3 sends it.
    private func appendWithoutIndex(_ bytes: String, to id: String, at baseURL: String) async throws -> Int {
        var request = URLRequest(url: URL(string: baseURL + "/2/media/upload/\(id)/append")!)
        request.httpMethod = "POST"
        request.setValue("multipart/form-data; boundary=b", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data("--b\r\nContent-Disposition: form-data; name=\"media\"; filename=\"m\"\r\n\r\n\(bytes)\r\n--b--\r\n".utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as! HTTPURLResponse).statusCode
    }

    @Test("a multipart append without segment_index is refused until the compatibility switch is on")
    func segmentIndexSwitch() async throws {
        try await withUploadMock { mock in
            let client = ExampleV2Uploader(baseURL: mock.baseURL)
            let (_, initialized) = try await client.call("POST", "/2/media/upload/initialize", json: [
                "media_type": "video/mp4", "total_bytes": 6, "media_category": "tweet_video"])
            let id = try #require((initialized["data"] as? [String: Any])?["id"] as? String)
            #expect(try await appendWithoutIndex("abc", to: id, at: mock.baseURL) == 400)
            #expect(mock.requests().last?.error?.contains("MockConfiguration.compatibility.infersV2SegmentIndex") == true)
            mock.compatibility.infersV2SegmentIndex = true
            #expect(try await appendWithoutIndex("abc", to: id, at: mock.baseURL) == 200)
            #expect(try await appendWithoutIndex("def", to: id, at: mock.baseURL) == 200)
            #expect(mock.upload(try #require(UInt64(id)))?.segments?.map(\.index) == [0, 1])
            mock.reset()
            #expect(mock.compatibility == Compatibility())
        }
        var configuration = MockConfiguration()
        configuration.compatibility.infersV2SegmentIndex = true
        try await withUploadMock(configuration) { mock in
            #expect(mock.compatibility.infersV2SegmentIndex)
        }
    }
}
