import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TwitterUploadMock
import UploadMockJSON

/// `server.clock` (docs/clock.md) from a Swift test, against uploads made over real HTTP.
@Suite("Virtual clock, Swift API")
struct ClockLiveTests {
    /// A v2 call carrying a user's bearer token, whose scope is that token.
    func v2(_ method: String, _ url: String, token: String, json: String? = nil) async throws -> (status: Int, body: JSONObject) {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(json.utf8)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, try JSONParser.parse(Array(data)).objectValue ?? [:])
    }

    func initialize(_ server: UploadMockServer, token: String) async throws -> String {
        let answer = try await v2("POST", server.baseURL + "/2/media/upload/initialize", token: token,
                                  json: #"{"media_type":"video/mp4","total_bytes":6,"media_category":"tweet_video"}"#)
        return try #require(answer.body["data"]?.objectValue?["id"]?.stringValue)
    }

    func append(_ server: UploadMockServer, _ id: String, token: String) async throws -> (status: Int, body: JSONObject) {
        try await v2("POST", server.baseURL + "/2/media/upload/\(id)/append", token: token, json: #"{"media":"YWJjZGVm","segment_index":0}"#)
    }

    @Test("a day later an upload has expired; the journal shows both times; reset brings real time back")
    func expiry() async throws {
        try await withLiveMock { server in
            let id = try await initialize(server, token: "alice")
            try server.clock.advance(by: .seconds(86_400))
            let refused = try await append(server, id, token: "alice")
            #expect(refused.status == 400)
            let message = refused.body["errors"]?.text ?? ""
            #expect(message.contains("Media id \(id) expired: it was valid for 86400 seconds after INIT."), "\(message)")
            #expect(server.upload(try #require(UInt64(id)))?.state == .expired)
            let entry = try #require(server.requests(RequestFilter(command: .append)).first)
            let clockTime = try #require(entry.clockTime)
            #expect(abs(clockTime.timeIntervalSince(entry.time) - 86_400) < 1)
            #expect(server.requests(RequestFilter(command: .initialize)).first?.clockTime == nil, "INIT arrived on real time")
            server.clock.reset()
            #expect(abs(server.clock.now.timeIntervalSinceNow) < 60)
            #expect(try await append(server, id, token: "alice").status == 200)
        }
    }

    @Test("a credential's own clock moves its uploads only")
    func scopedClock() async throws {
        try await withLiveMock { server in
            let alices = try await initialize(server, token: "alice")
            let bobs = try await initialize(server, token: "bob")
            let alice = server.clock.scoped(to: "alice")
            try alice.freeze()
            try alice.advance(by: .seconds(86_400))
            #expect(alice.isFrozen && !server.clock.isFrozen)
            #expect(try await append(server, alices, token: "alice").status == 400)
            let kept = try await append(server, bobs, token: "bob")
            #expect(kept.status == 200)
            guard case .int(let expiresAt)? = kept.body["data"]?.objectValue?["expires_at"] else {
                Issue.record("no expires_at in \(kept.body)")
                return
            }
            #expect(abs(Double(expiresAt) - Date().addingTimeInterval(86_400).timeIntervalSince1970) < 60, "bob's is on real time")
            alice.reset()
            #expect(try await append(server, alices, token: "alice").status == 200)
        }
    }

    @Test("docs/clock.md's example, as written")
    func documentedExample() async throws {
        try await withLiveMock { server in
            // docs/clock.md example begins
            try server.clock.advance(by: .seconds(86_400))          // every upload made so far has expired
            try server.clock.scoped(to: "worker-7").freeze()        // one credential's clock stands still
            try server.clock.set(Date(timeIntervalSince1970: 1_893_456_000))
            server.clock.reset()                                    // every clock back to real time
            let now = server.clock.now                              // and `isFrozen`, whether it stands still
            // docs/clock.md example ends
            #expect(abs(now.timeIntervalSinceNow) < 60)
            #expect(!server.clock.isFrozen && !server.clock.scoped(to: "worker-7").isFrozen)
        }
    }

    @Test("timed processing follows the clock; a time out of range is refused and changes nothing")
    func timedProcessing() async throws {
        try await withLiveMock({ $0.upload.processing.durationSeconds = 600 }) { server in
            try server.clock.freeze()
            let id = try await initialize(server, token: "alice")
            #expect(try await append(server, id, token: "alice").status == 200)
            let finalized = try await v2("POST", server.baseURL + "/2/media/upload/\(id)/finalize", token: "alice")
            #expect(finalized.body["data"]?.objectValue?["processing_info"] == .object(["check_after_secs": 1, "state": "pending"]), "keys in alphabetical order, as the dedicated finalize was recorded")
            var percents: [JSONValue?] = []
            for _ in 0..<3 {
                let status = try await v2("GET", server.baseURL + "/2/media/upload?command=STATUS&media_id=\(id)", token: "alice")
                let info = status.body["data"]?.objectValue?["processing_info"]?.objectValue
                percents.append(info?["state"] == "succeeded" ? "done" : info?["progress_percent"])
                try server.clock.advance(by: .seconds(300))
            }
            #expect(percents == [.int(0), .int(50), "done"])
            let before = server.clock.now
            #expect(throws: ClockError.outOfRange(Date(timeIntervalSince1970: 0))) { try server.clock.set(Date(timeIntervalSince1970: 0)) }
            #expect(server.clock.now == before)
        }
    }
}
