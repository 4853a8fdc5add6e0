import Testing
import UploadMockDomain
@testable import TwitterUploadMock

/// A JSON append or upload read as it streams must be answered exactly as when the body was
/// read whole: the same operation, or the same refusal in the same order (JSON, schema, base64).
@Suite("v2 JSON bodies read as they stream")
struct V2StreamedJSONTests {
    /// The operation's facts, or the refusal, as text.
    static func outcome(_ endpoint: V2Endpoint, _ body: V2Body) -> String {
        let reader = V2RequestReader(endpoint: endpoint, pathID: "123", query: [], body: body)
        do {
            switch try reader.request().operation {
            case .append(let id, let index, let payload):
                return "append \(id) \(index.map(String.init) ?? "-") \(payload.parameter) \(payload.bytes) \(payload.sentBytes)"
            case .upload(let payload, let category):
                return "upload \(category) \(payload.bytes) \(payload.sentBytes)"
            default:
                return "other"
            }
        } catch {
            return "\(error.status) \(error.description)"
        }
    }

    static func streamed(_ bytes: [UInt8], pieces: Int) -> V2Body {
        var reader = V2StreamedJSONReader(expectedBodyBytes: bytes.count, maximumBodyBytes: 1 << 20)
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + pieces, bytes.count)
            bytes[offset..<end].withUnsafeBytes { reader.receive($0) }
            offset = end
        }
        return .streamedJSON(reader.finish())
    }

    @Test("the same answer as the whole-body path", arguments: [
        #"{"media":"YWJj","segment_index":0}"#, #"{"segment_index":999,"media":"YW\/j"}"#, #"{"media":"YWJj"}"#,
        #"{"media":"YWJj","segment_index":1000}"#, #"{"media":"YW Jj","segment_index":1}"#, #"{"media":"Y","segment_index":1}"#,
        #"{"media":"YWJj","segment_index":"1","extra":true}"#, #"{"media":7,"segment_index":1}"#, #"{"media":"YWJj","segment_index":1,}"#,
        #"{"media":"*","segment_index":-1}"#, #"["media"]"#, "", " ", "null", #"{"media":"\u0041A==","segment_index":1}"#,
        #"{"media":"YWJj","media":"YWJj"}"#, #"{"media":"YWJj\n","segment_index":2}"#, #"{"segment_index":1}"#,
        #"{"media":"YWJj","media_category":"tweet_image"}"#, #"{"media":"YWJj","media_category":"nope"}"#,
        #"{"media":"Y!Jj","media_category":"tweet_gif","additional_owners":"1"}"#,
    ])
    func sameAnswer(_ text: String) {
        let bytes = Array(text.utf8)
        for endpoint in [V2Endpoint.append, .upload] {
            let whole = Self.outcome(endpoint, .json(bytes))
            for pieces in [1, 3, 1 << 20] {
                #expect(Self.outcome(endpoint, Self.streamed(bytes, pieces: pieces)) == whole, "\(endpoint) \(text) in pieces of \(pieces)")
            }
        }
    }
}
