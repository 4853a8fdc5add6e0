// README.md, "Embed it in Swift tests", shows this file's code between the markers as it is:
// Tests/python/test_readme.py checks that the two stay the same, so the example compiles.
// README example begins
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TwitterUploadMock

struct UploadFailed: Error {}

/// Your client under test; this one sends base64 segments and retries a 503.
func upload(_ media: [UInt8], to baseURL: String, segmentSize: Int = 100_000) async throws -> UInt64 {
    guard let url = URL(string: baseURL + "/1.1/media/upload.json") else { throw UploadFailed() }
    func post(_ form: String) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(form.utf8)
        let (body, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, body)
    }
    let initialized = try await post("command=INIT&total_bytes=\(media.count)&media_type=video%2Fmp4")
    guard let json = try JSONSerialization.jsonObject(with: initialized.body) as? [String: Any],
          let id = json["media_id_string"] as? String, let mediaID = UInt64(id) else { throw UploadFailed() }
    for (index, start) in stride(from: 0, to: media.count, by: segmentSize).enumerated() {
        let chunk = Data(media[start..<min(start + segmentSize, media.count)]).base64EncodedString()
        let escaped = chunk.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? chunk
        while try await post("command=APPEND&media_id=\(id)&segment_index=\(index)&media_data=\(escaped)").status == 503 {}
    }
    _ = try await post("command=FINALIZE&media_id=\(id)")
    return mediaID
}

@Test func uploadSurvivesA503() async throws {
    try await withUploadMock { mock in            // a free port, always stopped
        mock.faults.add(FaultRule(match: RequestMatch(command: .append, segmentIndex: 1),
                                  action: FaultAction(status: 503), times: 1))
        let video = (0..<250_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let id = try await upload(video, to: mock.baseURL)
        let report = try #require(mock.upload(id))
        #expect(mock.media(id) == video)
        #expect(report.segments?.count == 3 && report.sha256 != nil)
        #expect(report.attempts(forSegment: 1).map(\.status) == [503, 204])  // retried once
        #expect(mock.requests(RequestFilter(status: 503)).count == 1)
    }
}
// README example ends
