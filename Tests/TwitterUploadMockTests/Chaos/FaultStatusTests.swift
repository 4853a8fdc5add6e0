import Foundation
import Testing
import TwitterUploadMock
import UploadMockDomain
import UploadMockHTTP
@testable import UploadMockChaos

@Suite("Fault statuses are final")
struct FaultStatusTests {
    @Test("a rule built in Swift with a non-final status answers 500 and says why",
          arguments: [100, 101, 199, 0, -1, 600, Int.max, Int.min])
    func nonFinal(status: Int) {
        let faults = FaultInjector(seed: 1)
        faults.add(FaultRule(action: FaultAction(status: status)))
        let fired = faults.fire(for: RequestFacts(api: .v1, method: "POST", path: "/1.1/media/upload.json",
                                                  command: .initialize, mediaID: nil, segmentIndex: nil, user: nil), while: .answering)
        #expect(fired?.sentStatus == 500)
        #expect(fired?.summary.contains("status \(status) is not a final status (200-599), so 500 was sent") == true)
        let reply = fired?.reply(realAnswer: { HTTPReply(status: 200) }, error: { status, _ in HTTPReply(status: status) })
        #expect(reply?.status == 500)
    }

    @Test("final statuses are sent as given", arguments: [200, 299, 418, 503, 599])
    func final(status: Int) {
        let faults = FaultInjector(seed: 1)
        faults.add(FaultRule(action: FaultAction(status: status)))
        let fired = faults.fire(for: RequestFacts(api: .v1, method: "GET", path: "/", command: .status,
                                                  mediaID: nil, segmentIndex: nil, user: nil), while: .answering)
        #expect(fired?.sentStatus == status)
        #expect(fired?.summary == "rule 1, status \(status)")
    }

    @Test("through the Swift API, a 1xx fault answers 500 on the wire and the journal says why")
    func liveInterimStatus() async throws {
        try await withLiveMock { server in
            server.faults.add(FaultRule(match: RequestMatch(command: .initialize), action: FaultAction(status: 100)))
            let reply = try await send("POST", server.baseURL + "/1.1/media/upload.json?command=INIT&total_bytes=1&media_type=video%2Fmp4")
            #expect(reply.status == 500)
            #expect(String(decoding: reply.body, as: UTF8.self) == #"{"errors":[{"code":131,"message":"Internal error"}]}"#)
            let entry = try #require(server.requests().last)
            #expect(entry.status == 500)
            #expect(entry.fault?.contains("status 100 is not a final status (200-599), so 500 was sent") == true)
        }
    }
}
