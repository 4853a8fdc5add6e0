import Testing
import UploadMockDomain
import UploadMockForms
@testable import TwitterUploadMock

/// A declared Content-Length is a claim: memory is reserved for bytes that arrived, never for
/// bytes a client only announced.
@Suite("Parameter collection: reservations follow the data")
struct ParameterReservationTests {
    func collect(declared: Int, field: String, pieces: [[UInt8]]) throws -> UploadParameters {
        var collector = try UploadParameterCollector<V1Error>(query: [("command", "APPEND")], limits: UploadLimits(),
                                                     expectedBodyBytes: declared)
        collector.handle(.fieldBegin(FormFieldHead(name: field)))
        for piece in pieces {
            piece.withUnsafeBytes { collector.handle(.fieldData($0)) }
        }
        collector.handle(.fieldEnd)
        #expect(collector.failure == nil)
        return collector.parameters
    }

    @Test("a body declared as 5 MiB that sends 10 bytes reserves about 10 bytes", arguments: ["media", "media_data"])
    func lyingClient(field: String) throws {
        let parameters = try collect(declared: 5 * 1024 * 1024, field: field, pieces: [Array("QUJDREVGR0hJSg==".utf8)])
        let stored = try #require(field == "media" ? parameters.media : parameters.mediaData)
        #expect(stored.capacity < 4096)
    }

    @Test("an honest client's payload ends in a buffer of its declared size, not twice it")
    func honestClient() throws {
        let piece = [UInt8](repeating: 7, count: 100_000)
        let parameters = try collect(declared: 1_000_000, field: "media", pieces: Array(repeating: piece, count: 10))
        let media = try #require(parameters.media)
        #expect(media.count == 1_000_000)
        #expect(media.capacity < 1_100_000)
    }

    @Test("the declared size is reserved only after a sixteenth of it has arrived, then in one step")
    func reservationFollowsASixteenth() throws {
        let declared = 5 * 1024 * 1024
        let piece = [UInt8](repeating: 1, count: 64 * 1024)
        let early = try #require(try collect(declared: declared, field: "media", pieces: Array(repeating: piece, count: 4)).media)
        #expect(early.capacity <= 2 * early.count)  // 256 KiB arrived: no more than twice that held
        let later = try #require(try collect(declared: declared, field: "media", pieces: Array(repeating: piece, count: 10)).media)
        #expect(later.capacity >= declared && later.capacity < declared + 64 * 1024)  // one jump, no doublings
    }

    @Test("a chunked body (nothing declared) still grows geometrically and keeps every byte")
    func chunkedBody() throws {
        let pieces = (0..<200).map { index in [UInt8](repeating: UInt8(index), count: 1000) }
        let parameters = try collect(declared: 0, field: "media", pieces: pieces)
        #expect(parameters.media == pieces.flatMap { $0 })
    }
}
