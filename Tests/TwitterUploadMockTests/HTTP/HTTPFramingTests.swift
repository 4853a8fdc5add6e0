import Testing
@testable import UploadMockHTTP

@Suite("HTTP framing (RFC 9112 §6)")
struct HTTPFramingTests {
    static let refused: [(headers: [(String, String)], status: Int, says: String)] = [
        ([("Transfer-Encoding", "gzip, chunked")], 501, "the 'gzip' coding is not supported"),
        ([("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "chunked")], 501, "the 'gzip' coding is not supported"),
        ([("Transfer-Encoding", "chunked, chunked")], 400, "applies chunked more than once"),
        ([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")], 400, "applies chunked more than once"),
        ([("Transfer-Encoding", "identity")], 400, "does not end with chunked"),
        ([("Transfer-Encoding", "chunked, gzip")], 400, "does not end with chunked"),
        ([("Transfer-Encoding", "chunked ")], 501, "exactly 'chunked'"),
        ([("Transfer-Encoding", "chunked,")], 501, "exactly 'chunked'"),
        ([("Transfer-Encoding", "")], 400, "Transfer-Encoding is empty"),
        ([("Transfer-Encoding", "chu nked")], 400, "is not a list of transfer codings"),
        ([("Transfer-Encoding", "chunked;q=1")], 400, "chunked takes no parameters"),
        ([("Transfer-Encoding", "chunked"), ("Content-Length", "5")], 400, "Transfer-Encoding and Content-Length together"),
        ([("Content-Length", "5"), ("Content-Length", "6")], 400, "Content-Length appears 2 times ('5, 6')"),
        ([("Content-Length", "5"), ("Content-Length", "5")], 400, "Content-Length appears 2 times"),
        ([("Content-Length", "-5")], 400, "is not a number of bytes"),
        ([("Content-Length", "")], 400, "is not a number of bytes"),
    ]

    @Test("unsupported or malformed framing is refused with the status RFC 9112 names", arguments: refused.indices)
    func refusedFraming(index: Int) {
        let (fields, status, says) = Self.refused[index]
        let violation = HTTPFraming.check(HTTPHeaders(fields.map { (name: $0.0, value: $0.1) }))
        #expect(violation?.status == status)
        #expect(violation?.message.contains(says) == true, "\(violation?.message ?? "accepted")")
    }

    @Test("ordinary framing passes")
    func accepted() {
        for fields in [[], [("Content-Length", "0")], [("Content-Length", "123")], [("transfer-encoding", "Chunked")],
                       [("Host", "x"), ("Transfer-Encoding", "chunked")]] {
            #expect(HTTPFraming.check(HTTPHeaders(fields.map { (name: $0.0, value: $0.1) })) == nil)
        }
    }

    @Test("messages quote at most a short prefix of a huge header")
    func hugeValue() throws {
        let huge = String(repeating: "x", count: 200_000)
        let violation = try #require(HTTPFraming.check(HTTPHeaders([(name: "Transfer-Encoding", value: huge)])))
        #expect(violation.message.utf8.count < 300)
        #expect(violation.message.contains("(200000 bytes)"))
    }
}
