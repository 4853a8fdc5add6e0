#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import UploadMockJSON

/// Where an upload is in its life, as the admin API reports it.
public enum UploadState: String, Sendable, CaseIterable {
    /// INIT was accepted; segments may arrive.
    case initialized
    /// FINALIZE was accepted and the media needs no processing.
    case finalized
    /// Finalized media whose simulated processing has not finished.
    case processing
    case succeeded
    case failed
    /// Past `expires_after_secs`.
    case expired
}

/// One media id: what INIT declared and the segments that arrived since.
struct UploadSession: Sendable {
    let mediaID: UInt64
    let mediaType: String
    let kind: MediaKind
    let category: MediaCategory?
    /// `3_<id>`, `7_<id>` …: written once, read by every answer that shows the media.
    let mediaKey: String?
    /// The API that created it.
    let api: UploadAPI
    let totalBytes: Int
    let owner: String?
    /// The credential that created it (see `Requester.scope`).
    let scope: String?
    let createdAt: Date
    var expiresAt: Date
    /// Changed only through `store(_:at:drawingOn:)`, which keeps the totals below.
    private(set) var segments: [Int: StoredSegment] = [:]
    /// Bytes over all segments, kept as segments arrive so no APPEND walks them.
    private(set) var receivedBytes = 0
    /// One past the highest index stored: where a segment sent without an index goes.
    private(set) var nextIndex = 0
    /// Bytes this upload holds in memory, as drawn from the memory budget: segments not
    /// spooled, and its text.
    private(set) var memoryBytes = 0
    /// Counts changes to `segments`, so work done outside the lock can tell it is stale.
    var revision = 0
    var finalizedAt: Date?
    /// Set at FINALIZE for media that the real service processes asynchronously.
    var needsProcessing = false
    /// How processing ends for this upload alone, in place of `processing.result` (a fault
    /// rule's `processing`).
    var processingResult: ProcessingSimulation.Result?
    var statusPolls = 0
    var image: ImageHeader?
    /// Alt text, other metadata and subtitle tracks; changed only through `replaceText`.
    private(set) var text = UploadText()
    /// `text.bytes`, as drawn from the budget.
    private var textBytes = 0

    /// A session that holds nothing yet.
    init(mediaID: UInt64, mediaType: String, kind: MediaKind, category: MediaCategory?, api: UploadAPI, totalBytes: Int,
         owner: String?, scope: String?, createdAt: Date, expiresAt: Date) {
        self.mediaID = mediaID
        self.mediaType = mediaType
        self.kind = kind
        self.category = category
        mediaKey = category.map { "\($0.mediaKeyPrefix)_\(mediaID)" }
        self.api = api
        self.totalBytes = totalBytes
        self.owner = owner
        self.scope = scope
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// Stores `segment` under `index`, replacing (and returning) one sent there before. The
    /// memory it adds is drawn from `budget` first: past the budget this throws and changes
    /// nothing.
    mutating func store(_ segment: StoredSegment, at index: Int, drawingOn budget: MemoryBudget) throws(UploadFailure) -> StoredSegment? {
        let previous = segments[index]
        try budget.change(by: segment.memoryBytes - (previous?.memoryBytes ?? 0))
        segments[index] = segment
        receivedBytes += segment.count - (previous?.count ?? 0)
        memoryBytes += segment.memoryBytes - (previous?.memoryBytes ?? 0)
        nextIndex = max(nextIndex, index + 1)
        revision += 1
        return previous
    }

    /// Replaces the upload's text. Past `limit` (`limits.upload_text_bytes`) or the memory
    /// budget this throws and changes nothing.
    mutating func replaceText(_ new: UploadText, limit: Int, drawingOn budget: MemoryBudget) throws(UploadFailure) {
        let bytes = new.bytes
        if bytes > textBytes, bytes > limit { throw .uploadTextTooLarge(mediaID, bytes: bytes, limit: limit) }
        try budget.change(by: bytes - textBytes)
        memoryBytes += bytes - textBytes
        textBytes = bytes
        text = new
    }

    var isFinalized: Bool { finalizedAt != nil }

    func isExpired(at now: Date) -> Bool { now >= expiresAt }

    func state(at now: Date, processing: ProcessingSimulation) -> UploadState {
        if isExpired(at: now) { return .expired }
        guard isFinalized else { return .initialized }
        switch self.processing(at: now, settings: processing) {
        case nil: return .finalized
        case .pending?, .inProgress?: return .processing
        case .succeeded?: return .succeeded
        case .failed?: return .failed
        }
    }

    /// Where simulated processing stands at `now` on this session's clock; nil for media that
    /// needs none.
    func processing(at now: Date, settings: ProcessingSimulation) -> ProcessingState? {
        guard needsProcessing, let finalizedAt else { return nil }
        var settings = settings
        settings.result = processingResult ?? settings.result
        return settings.progress(polls: statusPolls, elapsed: now.timeIntervalSince(finalizedAt), category: category)
    }

    /// Segments in index order, as FINALIZE reassembles them.
    var orderedSegments: [(index: Int, segment: StoredSegment)] {
        segments.sorted { $0.key < $1.key }.map { (index: $0.key, segment: $0.value) }
    }

    /// True when the segments are exactly the indices 0..<n with `totalBytes` between them.
    var segmentsFormWholeFile: Bool {
        receivedBytes == totalBytes && nextIndex == segments.count
    }
}

/// What an upload keeps besides its media, counted per upload against
/// `limits.upload_text_bytes` and, with the media, against the memory budget.
struct UploadText: Sendable {
    /// Set by metadata/create (v1.1) or `/2/media/metadata`.
    var altText: String?
    /// The other `/2/media/metadata` fields the spec defines, as sent.
    var metadata = JSONObject()
    var subtitles: [SubtitleTrack] = []

    /// What is kept per item besides its text: a metadata member's or a track's share of the
    /// structures holding it.
    static let itemOverhead = 64

    /// The size counted (docs/configuration.md, Bounds): the alt text's UTF-8 bytes, each
    /// metadata member's key and value as JSON text, each track's language code and display
    /// name, and `itemOverhead` per member and per track.
    var bytes: Int {
        let metadataBytes = metadata.members.reduce(0) { total, member in
            total + Self.itemOverhead + member.key.utf8.count + member.value.serialized(.plain).count
        }
        let subtitleBytes = subtitles.reduce(0) { total, track in
            total + Self.itemOverhead + track.languageCode.utf8.count + (track.displayName?.utf8.count ?? 0)
        }
        return (altText?.utf8.count ?? 0) + metadataBytes + subtitleBytes
    }
}

/// Every APPEND of one media id, oldest first: a ring of the newest `limit`, appended to in
/// place in O(1), kept beside the session so recording one never copies the session.
struct AttemptLog: Sendable {
    static let limit = 4096

    private var ring: [SegmentAttempt] = []
    /// Where the oldest attempt is once the ring is full.
    private var oldest = 0
    /// Attempts that no longer fit.
    private(set) var dropped = 0
    /// Every attempt per segment index, those dropped from the ring included.
    private var counts: [Int: Int] = [:]

    /// How many APPENDs of segment `index` ended so far.
    func count(forSegment index: Int) -> Int { counts[index] ?? 0 }

    mutating func append(_ attempt: SegmentAttempt) {
        counts[attempt.segmentIndex, default: 0] += 1
        if ring.count < Self.limit {
            ring.append(attempt)
        } else {
            ring[oldest] = attempt
            oldest = (oldest + 1) % Self.limit
            dropped += 1
        }
    }

    var inOrder: [SegmentAttempt] { Array(ring[oldest...] + ring[..<oldest]) }
}
