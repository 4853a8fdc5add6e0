import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What arrived for one media id: what the admin API serves as JSON and the Swift API returns.
public struct UploadReport: Sendable, Equatable {
    public struct Segment: Sendable, Equatable {
        public var index: Int
        public var bytes: Int
        public var sha256: String
    }

    public var mediaID: UInt64
    public var state: UploadState
    public var mediaType: String
    public var mediaCategory: String?
    public var totalBytes: Int
    public var receivedBytes: Int
    public var segmentCount: Int
    /// The user that made it, when authentication is on.
    public var owner: String?
    /// Per segment, in index order; nil in summaries (digests are computed only when asked).
    public var segments: [Segment]?
    /// Digests of the reassembled media, once the segments form the whole file.
    public var sha256: String?
    public var md5: String?

    init(_ session: UploadSession, processing: ProcessingSimulation, withDigests: Bool) {
        mediaID = session.mediaID
        state = session.state(at: Date(), processing: processing)
        mediaType = session.mediaType
        mediaCategory = session.category?.rawValue
        totalBytes = session.totalBytes
        receivedBytes = session.receivedBytes
        segmentCount = session.segments.count
        owner = session.owner
        guard withDigests else { return }
        var whole = SHA256()
        var wholeMD5 = Insecure.MD5()
        segments = session.orderedSegments.map { entry in
            let bytes = entry.segment.bytes
            whole.update(data: bytes)
            wholeMD5.update(data: bytes)
            return Segment(index: entry.index, bytes: bytes.count, sha256: Self.hex(SHA256.hash(data: bytes)))
        }
        if session.segmentsFormWholeFile {
            sha256 = Self.hex(whole.finalize())
            md5 = Self.hex(wholeMD5.finalize())
        }
    }

    static func hex(_ digest: some Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }, as: UTF8.self)
    }

    var json: JSONValue {
        var object: JSONObject = [
            "media_id": .uint(mediaID),
            "media_id_string": .string(String(mediaID)),
            "state": .string(state.rawValue),
            "media_type": .string(mediaType),
        ]
        object["media_category"] = mediaCategory.map { .string($0) } ?? .null
        object["total_bytes"] = .int(Int64(totalBytes))
        object["received_bytes"] = .int(Int64(receivedBytes))
        object["segment_count"] = .int(Int64(segmentCount))
        object["owner"] = owner.map { .string($0) } ?? .null
        if let segments {
            object["segments"] = .array(segments.map { segment in
                .object(["index": .int(Int64(segment.index)), "bytes": .int(Int64(segment.bytes)),
                         "sha256": .string(segment.sha256)])
            })
        }
        if let sha256, let md5 {
            object["sha256"] = .string(sha256)
            object["md5"] = .string(md5)
        }
        return .object(object)
    }
}
