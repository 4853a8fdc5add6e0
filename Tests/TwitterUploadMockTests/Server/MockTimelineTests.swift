import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import TwitterUploadMock
import UploadMockDomain

@Suite("Segment map and timeline")
struct MockTimelineTests {
    @Test("a segment is arrived, retried, refused or missing by its stored bytes and its APPENDs")
    func segmentMap() {
        let now = Date()
        func attempt(_ index: Int, _ status: Int?) -> SegmentAttempt {
            SegmentAttempt(segmentIndex: index, time: now, status: status, bytesReceived: 1)
        }
        let map = SegmentMap(stored: [0, 1, 4], attempts: [attempt(0, 204), attempt(1, 503), attempt(1, 204), attempt(3, nil),
                                                           attempt(4, nil), attempt(5, 400)])
        #expect(map.states == [.arrived, .retried, .missing, .refused, .arrived, .refused])
        #expect(SegmentMap(stored: [], attempts: []).states.isEmpty)
    }

    @Test("withUploadMock's timeline names the upload, draws its map and lists requests with faults")
    func timeline() async throws {
        let video = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try await withUploadMock { mock in
            mock.faults.add(FaultRule(match: RequestMatch(command: .append, segmentIndex: 1), action: FaultAction(status: 503), times: 1))
            let id = try await ExampleUploader(baseURL: mock.baseURL).upload(video, segmentSize: 20_000)
            let text = "\(mock)"
            #expect(text == mock.timeline().description)
            let lines = text.split(separator: "\n").map(String.init)
            #expect(lines.first == "twitter-upload-mock: 1 upload, 6 requests")
            #expect(lines.contains("dashboard: \(mock.baseURL)/__admin/ui"))
            #expect(lines.contains { $0.hasPrefix("  upload \(id)  v1.1  video/mp4  finalized  50000/50000 bytes in 3 segments") })
            #expect(lines.contains("       0  #R#"))
            #expect(lines.contains { $0.contains("APPEND  media \(id)  segment 1  -> 503  fault: rule 1, status 503") })
            let short = mock.timeline(uploads: 0, requests: 2)
            #expect(short.requests.map(\.command) == ["APPEND", "FINALIZE"] && short.requestCount == 6)
            #expect(short.description.contains("the last 2 requests:") && !short.description.contains("upload \(id)"))
            #expect(mock.timeline(scope: "someone-else").description == "twitter-upload-mock: 0 uploads, 0 requests with X-Mock-Scope someone-else\n"
                    + "dashboard: \(mock.baseURL)/__admin/ui?scope=someone-else")
        }
    }
}
