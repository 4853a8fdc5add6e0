import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TwitterUploadMock
import UploadMockJSON

/// `withUploadMock` with a fixed seed and quiet logs.
func withLiveMock(_ configure: (inout MockConfiguration) -> Void = { _ in },
                  _ body: (UploadMockServer) async throws -> Void) async throws {
    var configuration = MockConfiguration()
    configuration.seed = 1
    configure(&configuration)
    try await withUploadMock(configuration, body)
}

func send(_ method: String, _ url: String, contentType: String? = nil,
          body: [UInt8] = []) async throws -> (status: Int, headers: [String: String], body: [UInt8]) {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
    if !body.isEmpty { request.httpBody = Data(body) }
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as! HTTPURLResponse
    var headers: [String: String] = [:]
    for (name, value) in http.allHeaderFields { headers["\(name)".lowercased()] = "\(value)" }
    return (http.statusCode, headers, Array(data))
}

func multipart(_ fields: [(String, [UInt8])], boundary: String = "xYzZy") -> [UInt8] {
    var body: [UInt8] = []
    for (name, value) in fields {
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n".utf8) + value + Array("\r\n".utf8)
    }
    return body + Array("--\(boundary)--\r\n".utf8)
}

@Suite("Live server on port 0")
struct LiveServerTests {
    @Test("a chunked upload over HTTP reassembles to the same SHA-256")
    func chunkedUpload() async throws {
        try await withLiveMock { server in
            let url = server.baseURL + "/1.1/media/upload.json"
            let media = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let initialized = try await send("POST", url, contentType: "application/x-www-form-urlencoded",
                                             body: Array("command=INIT&total_bytes=\(media.count)&media_type=video%2Fmp4".utf8))
            #expect(initialized.status == 202)
            #expect(initialized.headers["content-type"] == "application/json;charset=utf-8")
            #expect(initialized.headers["x-rate-limit-limit"] == "200")
            let id = try #require(JSONParser.parse(initialized.body).objectValue?["media_id_string"]?.stringValue)
            for (index, start) in stride(from: 0, to: media.count, by: 100_000).enumerated().reversed() {
                let appended = try await send("POST", url, contentType: "multipart/form-data; boundary=xYzZy", body: multipart([
                    ("media", Array(media[start..<min(start + 100_000, media.count)])), ("command", Array("APPEND".utf8)),
                    ("media_id", Array(id.utf8)), ("segment_index", Array(String(index).utf8)),
                ]))
                #expect(appended.status == 204)
                #expect(appended.headers["x-mediaid"] == id)
            }
            let finalized = try await send("POST", url + "?command=FINALIZE&media_id=\(id)")
            #expect(finalized.status == 201)
            #expect(finalized.headers["x-mediaid"] == id, "a synchronous FINALIZE names the media id, as recorded")
            let detail = try await send("GET", server.baseURL + "/__admin/uploads/\(id)")
            let digest = try #require(JSONParser.parse(detail.body).objectValue?["sha256"]?.stringValue)
            #expect(digest == sha256Hex(media))
            let downloaded = try await send("GET", server.baseURL + "/__admin/uploads/\(id)/media")
            #expect(downloaded.body == media)
            #expect(downloaded.headers["content-type"] == "video/mp4")
        }
    }

    @Test("alt text and subtitles set over HTTP show in the Swift report")
    func metadataInTheReport() async throws {
        try await withLiveMock { server in
            let upload = server.baseURL + "/1.1/media/upload.json"
            func uploaded(_ type: String, _ category: String, _ bytes: [UInt8]) async throws -> String {
                let initialized = try await send("POST", upload + "?command=INIT&total_bytes=\(bytes.count)&media_type=\(type)&media_category=\(category)")
                let id = try #require(JSONParser.parse(initialized.body).objectValue?["media_id_string"]?.stringValue)
                _ = try await send("POST", upload, contentType: "multipart/form-data; boundary=xYzZy", body: multipart([
                    ("command", Array("APPEND".utf8)), ("media_id", Array(id.utf8)), ("segment_index", Array("0".utf8)), ("media", bytes),
                ]))
                _ = try await send("POST", upload + "?command=FINALIZE&media_id=\(id)")
                return id
            }
            let video = try await uploaded("video/mp4", "TweetVideo", [1, 2, 3])
            let captions = try await uploaded("text/plain", "Subtitles", Array("1\n00:00:00,000 --> 00:00:01,000\nHi\n".utf8))
            let json = "application/json;charset=UTF-8"
            let described = try await send("POST", server.baseURL + "/1.1/media/metadata/create.json", contentType: json,
                                           body: Array(#"{"media_id":"\#(video)","alt_text":{"text":"a cat, dancing"}}"#.utf8))
            #expect(described.status == 200 && described.body.isEmpty)
            let subtitled = try await send("POST", server.baseURL + "/1.1/media/subtitles/create.json", contentType: json, body: Array(
                #"{"media_id":"\#(video)","media_category":"TweetVideo","subtitle_info":{"subtitles":[{"media_id":"\#(captions)","language_code":"EN","display_name":"English"}]}}"#.utf8))
            #expect(subtitled.status == 200 && subtitled.body.isEmpty)
            let videoID = try #require(UInt64(video)), captionsID = try #require(UInt64(captions))
            let report = try #require(server.upload(videoID))
            #expect(report.altText == "a cat, dancing")
            #expect(report.subtitles == [SubtitleTrack(mediaID: captionsID, languageCode: "EN", displayName: "English")])
            #expect(server.requests().suffix(2).map(\.command) == ["METADATA", "SUBTITLES_CREATE"])
        }
    }

    @Test("unknown paths answer the real 404 shape")
    func unknownPath() async throws {
        try await withLiveMock { server in
            let reply = try await send("GET", server.baseURL + "/1.1/statuses/update.json")
            #expect(reply.status == 404)
            #expect(String(decoding: reply.body, as: UTF8.self) == #"{"errors":[{"code":34,"message":"Sorry, that page does not exist."}]}"#)
        }
    }
}

@Suite("Faults through the Swift API")
struct LiveFaultTests {
    @Test("a fault added in Swift answers 503 once, then the upload goes through")
    func swiftFaultAPI() async throws {
        try await withLiveMock { server in
            server.faults.add(FaultRule(match: RequestMatch(command: .initialize), action: FaultAction(status: 503), times: 1))
            let url = server.baseURL + "/1.1/media/upload.json?command=INIT&total_bytes=1&media_type=video%2Fmp4"
            let refused = try await send("POST", url)
            let accepted = try await send("POST", url)
            #expect(refused.status == 503)
            #expect(accepted.status == 202)
        }
    }
}
