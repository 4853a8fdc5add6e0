import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TwitterUploadMock
import UploadMockJSON

/// `server.scenarios` (docs/faults.md, Scenarios) from a Swift test, against v2 uploads over real HTTP.
@Suite("Scenarios, Swift API")
struct ScenarioLiveTests {
    let clock = ClockLiveTests()

    @Test("docs/faults.md's Swift example: install, scope, list, remove")
    func documentedExample() async throws {
        try await withLiveMock { server in
            // docs/faults.md scenarios example begins
            let installed = try server.scenarios.install("lost-responses")     // for every credential's requests
            try server.scenarios.scoped(to: "worker-7").install("flaky-uplink") // for one credential's alone
            print(server.scenarios.all.map(\.name), server.scenarios.installed)  // the eight shipped, then your own
            try server.scenarios.remove("lost-responses")                       // its rules go, the others stay
            // docs/faults.md scenarios example ends
            #expect(installed.faults.map(\.scenario) == ["lost-responses"] && installed.faults.first?.attempt == 1)
            #expect(server.scenarios.installed == ["flaky-uplink"])
            #expect(server.scenarios.scoped(to: "worker-8").installed.isEmpty)
            #expect(server.faults.rules.map(\.scope) == ["worker-7"])
            #expect(throws: ScenarioError.unknown("nope", known: server.scenarios.all.map(\.name))) {
                try server.scenarios.install("nope")
            }
        }
    }

    @Test("installing twice leaves one copy; reset restores the configured scenarios")
    func reinstallAndReset() async throws {
        try await withLiveMock({ $0.scenarios = ["over-capacity"] }) { server in
            #expect(server.faults.rules.compactMap(\.scenario) == ["over-capacity", "over-capacity"])
            try server.scenarios.install("over-capacity")
            try server.scenarios.install("rate-limited-appends")
            try server.scenarios.install("rate-limited-appends")
            #expect(server.faults.rules.compactMap(\.scenario) == ["over-capacity", "over-capacity"])
            #expect(server.rateLimits.rules.compactMap(\.scenario) == ["rate-limited-appends"])
            server.faults.removeAll()
            server.reset()
            #expect(server.faults.rules.compactMap(\.scenario) == ["over-capacity", "over-capacity"])
            #expect(server.rateLimits.rules.compactMap(\.scenario).isEmpty)
        }
    }

    @Test("processing-fails: a v2 video's processing ends failed with processing.error")
    func processingFails() async throws {
        try await withLiveMock({ $0.upload.processing.pollsUntilDone = 1 }) { server in
            try server.scenarios.scoped(to: "alice").install("processing-fails")
            let id = try await clock.initialize(server, token: "alice")
            #expect(try await clock.append(server, id, token: "alice").status == 200)
            let finalized = try await clock.v2("POST", server.baseURL + "/2/media/upload/\(id)/finalize", token: "alice")
            #expect(finalized.status == 200)
            let status = try await clock.v2("GET", server.baseURL + "/2/media/upload?command=STATUS&media_id=\(id)", token: "alice")
            let info = status.body["data"]?.objectValue?["processing_info"]?.objectValue
            #expect(info?["state"] == "failed")
            #expect(info?["error"] == .object(["code": 1, "message": "Unsupported video format", "name": "InvalidMedia"]))  // v2 sorts keys
            #expect(server.upload(try #require(UInt64(id)))?.state == .failed)
            #expect(server.requests(RequestFilter(command: .finalize)).first?.fault == "rule 1, processing failed")
            // Another credential's uploads are untouched.
            let bobs = try await clock.initialize(server, token: "bob")
            _ = try await clock.append(server, bobs, token: "bob")
            _ = try await clock.v2("POST", server.baseURL + "/2/media/upload/\(bobs)/finalize", token: "bob")
            _ = try await clock.v2("GET", server.baseURL + "/2/media/upload?command=STATUS&media_id=\(bobs)", token: "bob")
            #expect(server.upload(try #require(UInt64(bobs)))?.state == .succeeded)
        }
    }

    @Test("more rules than admin.max_rules installs nothing")
    func tooManyRules() async throws {
        try await withLiveMock({ $0.maxAdminRules = 2 }) { server in
            server.faults.add(FaultRule(action: FaultAction(delay: .fixed(milliseconds: 1))))
            #expect(throws: ScenarioError.tooManyRules(
                "at most 2 fault rules may be in force (admin.max_rules): 1 are, and scenario over-capacity adds 2")) {
                try server.scenarios.install("over-capacity")
            }
            #expect(server.faults.rules.count == 1 && server.scenarios.installed.isEmpty)
        }
    }
}
