import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TwitterUploadMock  // the public API only, as a user's test suite sees it

/// State a UI-facing client keeps on the main actor, as an app's view model would.
@MainActor
final class UploadProgressModel {
    var finishedUploads: [UInt64] = []
}

@Suite("Embedding from the main actor")
struct MainActorEmbeddingTests {
    /// Compiles only because `withUploadMock` runs its closure on the caller's actor
    /// (`isolation: isolated (any Actor)? = #isolation`): the closure touches main-actor state
    /// with no `await` and no `Sendable` result.
    @MainActor
    @Test("a @MainActor test's closure touches main-actor state")
    func mainActorClosure() async throws {
        let model = UploadProgressModel()
        let finished = try await withUploadMock { mock in
            MainActor.assertIsolated("the closure runs on the caller's actor")
            let (status, data) = try await ExampleUploader(baseURL: mock.baseURL).post("command=INIT&total_bytes=1&media_type=video%2Fmp4")
            #expect(status == 202)
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let id = try #require((object["media_id_string"] as? String).flatMap(UInt64.init))
            model.finishedUploads.append(id)
            return model  // a non-Sendable result comes back to the same actor
        }.finishedUploads
        #expect(finished.count == 1 && model.finishedUploads == finished)
    }

    @Test("a server made in code listens on a free port; the command line's default is 8080")
    func portDefaults() throws {
        #expect(MockConfiguration().port == 0)
        #expect(try MockConfiguration(json: Array("{}".utf8)).port == MockConfiguration.commandLinePort)
        let first = try UploadMockServer(configuration: MockConfiguration())
        let second = try UploadMockServer(configuration: MockConfiguration())
        try first.start()
        defer { first.stop() }
        try second.start()
        defer { second.stop() }
        #expect(first.port != 0 && second.port != 0 && first.port != second.port)
    }
}
