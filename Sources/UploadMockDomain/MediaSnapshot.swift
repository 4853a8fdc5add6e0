#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Processing as FINALIZE and STATUS report it, before a dialect renders it.
package enum ProcessingState: Sendable, Equatable {
    case pending(checkAfterSeconds: Int)
    case inProgress(checkAfterSeconds: Int, percent: Int)
    case succeeded
    case failed(ProcessingError)
}

/// What the domain answers about one media id at one moment; each API dialect renders it.
package struct MediaSnapshot: Sendable, Equatable {
    package var mediaID: UInt64
    package var mediaKey: String?
    package var mediaType: String
    package var kind: MediaKind
    /// `total_bytes` as declared (and, once finalized, received).
    package var size: Int
    package var expiresAfterSeconds: Int
    /// Read from the bytes at FINALIZE (or the one-shot upload) for images and GIFs.
    package var image: ImageHeader?
    /// Nil for media that needs no processing.
    package var processing: ProcessingState?
}

/// What APPEND stored.
package struct AppendReceipt: Sendable, Equatable {
    package var mediaID: UInt64
    /// The index the segment was stored under (as sent, or inferred).
    package var segmentIndex: Int
    package var segmentCount: Int
    package var receivedBytes: Int
    /// When the media id stops being usable (v2 answers it as `expires_at`).
    package var expiresAt: Date
}

/// A media payload as the client sent it.
package struct MediaPayload: Sendable {
    package var bytes: [UInt8]
    /// The parameter that carried it (`media`, `media_data`), for messages.
    package var parameter: String
    /// Its size as sent: base64 text is larger than the bytes it decodes to, and the chunk
    /// limit applies to what was sent.
    package var sentBytes: Int

    package init(bytes: [UInt8], parameter: String, sentBytes: Int) {
        self.bytes = bytes
        self.parameter = parameter
        self.sentBytes = sentBytes
    }
}

/// What INIT declares.
package struct MediaDeclaration: Sendable {
    package var totalBytes: Int
    package var mediaType: String
    package var category: MediaCategory?
    /// The API the INIT came through, kept for the admin API's reports.
    package var api: UploadAPI

    package init(totalBytes: Int, mediaType: String, category: MediaCategory?, api: UploadAPI = .v1) {
        self.totalBytes = totalBytes
        self.mediaType = mediaType
        self.category = category
        self.api = api
    }
}

/// One subtitles file attached to a video.
public struct SubtitleTrack: Sendable, Equatable {
    /// The media id of the subtitles file (uploaded with `media_category` `subtitles`).
    public var mediaID: UInt64
    /// As sent, e.g. `EN`.
    public var languageCode: String
    /// As sent, e.g. `English`.
    public var displayName: String?

    /// A track.
    public init(mediaID: UInt64, languageCode: String, displayName: String? = nil) {
        self.mediaID = mediaID
        self.languageCode = languageCode
        self.displayName = displayName
    }
}

/// One APPEND of a segment, whatever became of it: stored, refused, faulted or cut off.
public struct SegmentAttempt: Sendable, Equatable {
    /// `segment_index` as sent.
    public var segmentIndex: Int
    /// When the request arrived, on the wall clock.
    public var time: Date
    /// When the request arrived on the mock's clock, when that clock was moved or frozen
    /// (docs/clock.md); nil while it reads real time.
    public var clockTime: Date?
    /// The status answered; nil when the connection ended without one (reset, close, hang).
    public var status: Int?
    /// Request body bytes received (the whole body, framing and any base64 included).
    public var bytesReceived: Int
    /// The fault rule that fired, described (`rule 3, status 503`), if any.
    public var fault: String?
    /// The media bytes this attempt stored, decoded (the segment's size); nil when it stored
    /// nothing. An `after_commit` fault stores first: its attempt has a failed `status` (or
    /// none) and these bytes.
    public var mediaBytes: Int?
    /// Whether this attempt stored its segment, whatever its client was answered.
    public var stored: Bool { mediaBytes != nil }

    public init(segmentIndex: Int, time: Date, clockTime: Date? = nil, status: Int?, bytesReceived: Int, fault: String? = nil,
                mediaBytes: Int? = nil) {
        self.segmentIndex = segmentIndex
        self.time = time
        self.clockTime = clockTime
        self.status = status
        self.bytesReceived = bytesReceived
        self.fault = fault
        self.mediaBytes = mediaBytes
    }
}

/// Who asks for an operation: the authenticated user, who owns what they create, and the
/// credential's scope, which keeps parallel test workers on one server apart (docs/isolation
/// in README, Isolation).
package struct Requester: Sendable, Equatable {
    /// Set when authentication is on.
    package var user: String?
    /// The token the request carried (`oauth_token` or a bearer token), read even when
    /// authentication is off; nil without one.
    package var scope: String?

    package init(user: String? = nil, scope: String? = nil) {
        self.user = user
        self.scope = scope
    }

    /// Nobody in particular: what embedding code and tests act as.
    package static let anonymous = Requester()
}
