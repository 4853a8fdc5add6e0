internal import Crypto
package import UploadMockJSON
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// What arrived for one media id: what `GET /__admin/uploads/{id}` serves as JSON and
/// `UploadMockServer.upload(_:)` returns (README, Verify what arrived).
public struct UploadReport: Sendable, Equatable {
    /// One stored segment.
    public struct Segment: Sendable, Equatable {
        /// `segment_index`.
        public var index: Int
        /// The segment's length.
        public var bytes: Int
        /// Lowercase hex SHA-256 of the segment's bytes.
        public var sha256: String
    }

    /// The media id (`media_id_string` on the wire).
    public var mediaID: UInt64
    /// Where the upload is in its life.
    public var state: UploadState
    /// `media_type` as declared (or read from the bytes of a one-shot upload).
    public var mediaType: String
    /// `media_category`, snake_case, when one was sent.
    public var mediaCategory: String?
    /// The API whose INIT (or one-shot upload) created it.
    public var api: UploadAPI
    /// When the media id expires, in the mock's clock.
    public var expiresAt: Date
    /// An image's pixel size, read from its bytes at FINALIZE (or the one-shot upload).
    public var imageSize: (width: Int, height: Int)? {
        image.map { ($0.width, $0.height) }
    }
    private var image: ImageHeader?
    /// `total_bytes` as declared.
    public var totalBytes: Int
    /// Bytes stored so far, over all segments.
    public var receivedBytes: Int
    /// Segments stored so far.
    public var segmentCount: Int
    /// The user that made it, when authentication is on.
    public var owner: String?
    /// The credential that made it (README, Isolation): the token its INIT carried.
    public var scope: String?
    /// Per segment, in index order; nil in summaries (digests are computed only when asked).
    public var segments: [Segment]?
    /// Lowercase hex digests of the reassembled media, once the segments form the whole file.
    public var sha256: String?
    /// Lowercase hex MD5 of the reassembled media, once whole.
    public var md5: String?
    /// Set through the metadata endpoints.
    public var altText: String?
    /// Every APPEND of this media id, oldest first, whatever became of it: "segment 3 was sent
    /// twice: 503, then 204" is `attempts(forSegment: 3).map(\.status) == [503, 204]`. The
    /// newest 4,096 are kept; empty in summaries.
    public var attempts: [SegmentAttempt] = []
    /// Attempts beyond the newest 4,096, no longer listed.
    public var droppedAttempts = 0
    /// Subtitles attached to this video, in the order they were attached.
    public var subtitles: [SubtitleTrack]
    /// Other v2 metadata fields as sent (`sensitive_media_warning`, …).
    package var otherMetadata: JSONObject
    /// `otherMetadata` serialized as JSON; nil when none were sent.
    public var otherMetadataJSON: String? {
        otherMetadata.members.isEmpty ? nil : JSONValue.object(otherMetadata).text
    }

    /// The full report: digests, computed now, and the APPEND history.
    init(_ session: UploadSession, attempts: AttemptLog, at moment: Date, processing: ProcessingSimulation) {
        self.init(summarizing: session, at: moment, processing: processing)
        self.attempts = attempts.inOrder
        droppedAttempts = attempts.dropped
        var whole = SHA256()
        var wholeMD5 = Insecure.MD5()
        segments = session.orderedSegments.map { entry in
            var digest = SHA256()
            entry.segment.forEachPiece { piece in
                digest.update(bufferPointer: piece)
                whole.update(bufferPointer: piece)
                wholeMD5.update(bufferPointer: piece)
            }
            return Segment(index: entry.index, bytes: entry.segment.count, sha256: Self.hex(digest.finalize()))
        }
        if session.segmentsFormWholeFile {
            sha256 = Self.hex(whole.finalize())
            md5 = Self.hex(wholeMD5.finalize())
        }
    }

    /// A summary: no digests, no history.
    init(summarizing session: UploadSession, at moment: Date, processing: ProcessingSimulation) {
        mediaID = session.mediaID
        state = session.state(at: moment, processing: processing)
        mediaType = session.mediaType
        mediaCategory = session.category?.rawValue
        api = session.api
        expiresAt = session.expiresAt
        image = session.image
        totalBytes = session.totalBytes
        receivedBytes = session.receivedBytes
        segmentCount = session.segments.count
        owner = session.owner
        scope = session.scope
        altText = session.text.altText
        subtitles = session.text.subtitles
        otherMetadata = session.text.metadata
    }

    /// The attempts to send segment `index`, oldest first.
    public func attempts(forSegment index: Int) -> [SegmentAttempt] {
        attempts.filter { $0.segmentIndex == index }
    }

    private static func hex(_ digest: some Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }, as: UTF8.self)
    }
}
