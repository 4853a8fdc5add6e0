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
    /// The API that created it.
    let api: UploadAPI
    let totalBytes: Int
    let owner: String?
    /// The credential that created it (see `Requester.scope`).
    let scope: String?
    let createdAt: Date
    var expiresAt: Date
    var segments: [Int: StoredSegment] = [:]
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
    /// Set by metadata/create (v1.1) or `/2/media/metadata`.
    var altText: String?
    /// Other v2 metadata fields, as sent.
    var otherMetadata = JSONObject()
    var subtitles: [SubtitleTrack] = []

    var receivedBytes: Int { segments.values.reduce(0) { $0 + $1.count } }
    /// Bytes of segments held in memory (spooled ones live on disk).
    var memoryBytes: Int {
        segments.values.reduce(0) { total, segment in
            if case .memory(let bytes) = segment { return total + bytes.count }
            return total
        }
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
        receivedBytes == totalBytes && segments.keys.sorted().enumerated().allSatisfy { $0.offset == $0.element }
    }

    var mediaKey: String? {
        category.map { "\($0.mediaKeyPrefix)_\(mediaID)" }
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
