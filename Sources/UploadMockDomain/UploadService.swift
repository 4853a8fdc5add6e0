#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
package import UploadMockJSON

/// The upload domain: applies the rules of docs/api.md to each operation and keeps the bytes.
/// It knows nothing of HTTP, C or any API dialect: endpoints hand it typed requests and
/// render what it answers.
package final class UploadService: Sendable {
    package let settings: UploadSettings
    /// `limits.max_memory_bytes`: what the uploads hold in memory, and what request bodies
    /// still arriving hold (the exchanges draw on it, see `MemoryBudget`).
    package let memory: MemoryBudget
    private let store: UploadStore
    private let storage: SegmentStorage
    /// Each session keeps time on the clock of the scope that created it (docs/clock.md).
    private let clock: MockClock

    /// - Parameter settings: `limits.maxMemoryBytes` must be resolved (the server facade
    ///   derives it from the machine when it is not set); nil takes the built-in default.
    package init(settings: UploadSettings, seed: UInt64, clock: MockClock = MockClock()) {
        self.settings = settings
        memory = MemoryBudget(limit: settings.limits.maxMemoryBytes ?? UploadLimits.memoryCeiling)
        store = UploadStore(seed: seed, maximumSessions: settings.limits.maxSessions, memory: memory)
        storage = SegmentStorage(directory: settings.storageDirectory)
        self.clock = clock
    }

    // MARK: INIT

    package func initialize(_ declaration: MediaDeclaration, by requester: Requester) throws(UploadFailure) -> MediaSnapshot {
        guard let kind = MediaKind(mediaType: declaration.mediaType) else { throw .mediaTypeUnrecognized }
        let limit = settings.limits.maximumBytes(for: kind, category: declaration.category)
        guard declaration.totalBytes <= limit else { throw .fileSizeExceeds(limit: limit) }
        let readings = clock.readings()
        let created = readings.now(in: requester.scope)
        let session = try store.create(at: readings) { id in
            UploadSession(mediaID: id, mediaType: declaration.mediaType, kind: kind, category: declaration.category,
                          api: declaration.api, totalBytes: declaration.totalBytes, owner: requester.user, scope: requester.scope, createdAt: created,
                          expiresAt: created.addingTimeInterval(TimeInterval(settings.expiresAfterSeconds(for: declaration.category))))
        }
        return snapshot(session, at: readings)
    }

    // MARK: APPEND

    /// - Parameter index: the segment's index; nil takes the one after the highest stored (0
    ///   for the first), for clients that send none (python-twitter-v2, docs/api-v2.md).
    package func append(mediaID: UInt64, segmentIndex requested: Int?, payload: MediaPayload,
                        by requester: Requester) throws(UploadFailure) -> AppendReceipt {
        if let requested, !(0...999).contains(requested) { throw .segmentIndexOutOfRange(requested) }
        guard payload.sentBytes <= settings.limits.chunkBytes else {
            throw .chunkTooLarge(parameter: payload.parameter, limit: settings.limits.chunkBytes)
        }
        let readings = clock.readings()
        let segment = try storage.keep(payload.bytes, name: "\(mediaID)-\(requested ?? -1)-\(UUID().uuidString)")
        // The segment replaced by a retry is released after the lock (a spool file's removal
        // takes system calls).
        var replaced: StoredSegment?
        defer { withExtendedLifetime(replaced) {} }
        return try store.update(mediaID) { (session) throws(UploadFailure) in
            try check(session, usableBy: requester, at: readings)
            guard !session.isFinalized else { throw .alreadyFinalized(mediaID) }
            let index = requested ?? session.nextIndex
            guard index <= 999 else { throw .segmentIndexOutOfRange(index) }
            // A repeated index replaces the earlier bytes: clients retry lost responses.
            let wouldBe = session.receivedBytes - (session.segments[index]?.count ?? 0) + payload.bytes.count
            guard wouldBe <= session.totalBytes else {
                throw .exceedsTotalBytes(segment: index, bytes: payload.bytes.count, wouldBe: wouldBe, total: session.totalBytes)
            }
            replaced = try session.store(segment, at: index, drawingOn: memory)
            return AppendReceipt(mediaID: mediaID, segmentIndex: index, segmentCount: session.segments.count,
                                 receivedBytes: wouldBe, expiresAt: session.expiresAt)
        }
    }

    // MARK: FINALIZE

    package func finalize(mediaID: UInt64, by requester: Requester) throws(UploadFailure) -> MediaSnapshot {
        let readings = clock.readings()
        // Images need their header read from the bytes, which may be spooled to disk: that
        // read happens outside the lock, against a revision that must still hold afterwards.
        while true {
            let session = try store.update(mediaID) { (session) throws(UploadFailure) in
                try check(session, usableBy: requester, at: readings)
                return session
            }
            // FINALIZE is idempotent, so a client that lost the first answer can ask again.
            if session.isFinalized { return snapshot(session, at: readings) }
            try checkComplete(session)
            let image = try session.kind.hasImageHeader ? Self.readImageHeader(session) : nil
            let finalized = try store.update(mediaID) { (current) throws(UploadFailure) -> UploadSession? in
                guard current.revision == session.revision, !current.isFinalized else { return nil }
                try check(current, usableBy: requester, at: readings)
                let moment = readings.now(in: current.scope)
                current.image = image
                current.needsProcessing = current.category != nil && (current.kind == .video || current.kind == .gif)
                current.finalizedAt = moment
                current.expiresAt = moment.addingTimeInterval(TimeInterval(settings.expiresAfterSeconds(for: current.category)))
                return current
            }
            if let finalized { return snapshot(finalized, at: readings) }
            // A segment changed (or another FINALIZE won) while the header was read: look again.
        }
    }

    private func checkComplete(_ session: UploadSession) throws(UploadFailure) {
        guard session.segmentsFormWholeFile else { throw .segmentsDoNotAddUp }
        if session.kind == .video, session.category == nil, session.totalBytes > settings.limits.syncVideoBytes {
            throw .largeFileNotSynchronous
        }
    }

    /// Reads the first 64 KiB, enough for every supported header but a TIFF whose directory
    /// lies further in; that one is read up to its directory (at most the whole image, which
    /// the image limit bounds).
    private static func readImageHeader(_ session: UploadSession) throws(UploadFailure) -> ImageHeader {
        let prefix = Self.prefix(of: session, bytes: 64 * 1024)
        if let header = ImageHeader.read(prefix) { return header }
        guard let needed = ImageHeader.bytesNeeded(after: prefix), prefix.count < session.totalBytes,
              let header = ImageHeader.read(Self.prefix(of: session, bytes: min(needed, session.totalBytes))) else {
            throw .mediaTypeUnrecognized
        }
        return header
    }

    private static func prefix(of session: UploadSession, bytes limit: Int) -> [UInt8] {
        var prefix: [UInt8] = []
        for entry in session.orderedSegments where prefix.count < limit {
            prefix += entry.segment.prefix(limit - prefix.count)
        }
        return prefix
    }

    // MARK: STATUS

    package func status(mediaID: UInt64, by requester: Requester) throws(UploadFailure) -> MediaSnapshot {
        let readings = clock.readings()
        let session = try store.update(mediaID) { (session) throws(UploadFailure) in
            try check(session, usableBy: requester, at: readings)
            guard session.isFinalized else { throw .notFinalized(mediaID) }
            if session.needsProcessing { session.statusPolls += 1 }
            return session
        }
        return snapshot(session, at: readings)
    }

    // MARK: One-shot upload

    /// An image or GIF read from its header; or, when the caller recognised the file as a video or
    /// subtitles (`recognizedType`, v2's one-shot categories), that type. Stored whole and
    /// finalized at once: a video with a category then processes like a chunked one.
    package func uploadOneShot(_ payload: MediaPayload, category: MediaCategory?, recognizedType: String? = nil,
                               api: UploadAPI = .v1, by requester: Requester) throws(UploadFailure) -> MediaSnapshot {
        let mediaType: String
        let kind: MediaKind
        let header: ImageHeader?
        if let recognizedType {
            guard let recognized = MediaKind(mediaType: recognizedType) else { throw .mediaTypeUnrecognized }
            (mediaType, kind, header) = (recognizedType, recognized, nil)
        } else {
            guard let read = ImageHeader.read(payload.bytes) else { throw .mediaTypeUnrecognized }
            (mediaType, kind, header) = (read.mediaType, read.mediaType == "image/gif" ? .gif : .image, read)
        }
        let limit = switch kind {
        case .gif: settings.limits.gifBytes
        case .image: settings.limits.imageBytes
        case .video, .subtitles, .model: settings.limits.maximumBytes(for: kind, category: category)
        }
        guard payload.bytes.count <= limit else { throw .oneShotTooLarge(limit: limit) }
        let readings = clock.readings()
        let moment = readings.now(in: requester.scope)
        let session = try store.create(at: readings) { (id) throws(UploadFailure) in
            var session = UploadSession(mediaID: id, mediaType: mediaType, kind: kind, category: category, api: api,
                                        totalBytes: payload.bytes.count, owner: requester.user, scope: requester.scope, createdAt: moment,
                                        expiresAt: moment.addingTimeInterval(TimeInterval(settings.expiresAfterSeconds(for: category))))
            _ = try session.store(.memory(payload.bytes), at: 0, drawingOn: memory)
            session.image = header
            session.needsProcessing = kind == .video && category != nil
            session.finalizedAt = moment
            return session
        }
        return snapshot(session, at: readings)
    }

    // MARK: Metadata and subtitles

    /// The longest alt text the real service takes (docs: "Must be <= 1000 chars").
    package static let altTextLimit = 1000

    /// Sets alt text (when given) and other metadata fields (merged over earlier ones), within
    /// `limits.upload_text_bytes` and the memory budget.
    package func setMetadata(mediaID: UInt64, altText: String?, other: JSONObject = [:],
                             by requester: Requester) throws(UploadFailure) {
        if let altText, altText.count > Self.altTextLimit {
            throw .altTextTooLong(length: altText.count, limit: Self.altTextLimit)
        }
        try changeText(of: mediaID, by: requester) { (session, text) throws(UploadFailure) in
            if let altText { text.altText = altText }
            for member in other.members { text.metadata[member.key] = member.value }
        }
    }

    /// Attaches a subtitles file to a video; a track in the same language is replaced.
    package func addSubtitles(videoID: UInt64, track: SubtitleTrack, by requester: Requester) throws(UploadFailure) -> [SubtitleTrack] {
        try addSubtitles(videoID: videoID, tracks: [track], by: requester)
    }

    /// Attaches several subtitles files at once (v1.1 takes a list): all of them, or, when one
    /// is refused, none.
    package func addSubtitles(videoID: UInt64, tracks: [SubtitleTrack], by requester: Requester) throws(UploadFailure) -> [SubtitleTrack] {
        let readings = clock.readings()
        for track in tracks {
            let kind = try store.update(track.mediaID) { (session) throws(UploadFailure) in
                try check(session, usableBy: requester, at: readings)
                return session.kind
            }
            guard kind == .subtitles else { throw .notSubtitles(track.mediaID) }
        }
        return try changeText(of: videoID, by: requester) { (session, text) throws(UploadFailure) in
            guard session.kind == .video else { throw .notVideo(videoID) }
            for track in tracks {
                text.subtitles.removeAll { $0.languageCode == track.languageCode }
                text.subtitles.append(track)
            }
            return text.subtitles
        }
    }

    /// Removes a video's subtitles in one language.
    package func removeSubtitles(videoID: UInt64, languageCode: String, by requester: Requester) throws(UploadFailure) {
        try removeSubtitles(videoID: videoID, languageCodes: [languageCode], by: requester)
    }

    /// Removes a video's subtitles in several languages: all of them, or, when one is
    /// missing, none.
    package func removeSubtitles(videoID: UInt64, languageCodes: [String], by requester: Requester) throws(UploadFailure) {
        try changeText(of: videoID, by: requester) { (session, text) throws(UploadFailure) in
            guard session.kind == .video else { throw .notVideo(videoID) }
            for language in languageCodes where !text.subtitles.contains(where: { $0.languageCode == language }) {
                throw .noSubtitles(videoID, languageCode: language)
            }
            text.subtitles.removeAll { languageCodes.contains($0.languageCode) }
        }
    }

    /// Edits a copy of an upload's text and keeps it, when it fits `limits.upload_text_bytes`
    /// and the memory budget; otherwise the upload keeps what it had.
    private func changeText<Result>(of mediaID: UInt64, by requester: Requester,
                                    _ edit: (UploadSession, inout UploadText) throws(UploadFailure) -> Result) throws(UploadFailure) -> Result {
        let readings = clock.readings()
        return try store.update(mediaID) { (session) throws(UploadFailure) -> Result in
            try check(session, usableBy: requester, at: readings)
            var text = session.text
            let result = try edit(session, &text)
            try session.replaceText(text, limit: settings.limits.uploadTextBytes, drawingOn: memory)
            return result
        }
    }

    // MARK: Verification

    /// Which APPEND of its segment the next one is (1: the first), from the upload's attempt
    /// history, in O(1); nil for an unknown media id.
    package func nextAttempt(mediaID: UInt64, segmentIndex: Int) -> Int? {
        store.attemptCount(mediaID, segmentIndex: segmentIndex).map { $0 + 1 }
    }

    /// Makes the processing of one upload end as `result`, whatever `processing.result` says
    /// (a fault rule's `processing`); an unknown media id is left to the request to refuse.
    package func decideProcessing(mediaID: UInt64, _ result: ProcessingSimulation.Result) {
        try? store.update(mediaID) { $0.processingResult = result }
    }

    /// Keeps one APPEND's outcome in the upload's history, whatever it was; an unknown media
    /// id keeps nothing.
    package func recordAttempt(mediaID: UInt64, _ attempt: SegmentAttempt) {
        store.recordAttempt(mediaID, attempt)
    }

    /// Every upload, oldest first, without digests; within `scope` only that credential's
    /// (nil: everyone's).
    package func reports(in scope: String? = nil) -> [UploadReport] {
        let readings = clock.readings()
        return store.all().filter { Self.visible($0, in: scope) }
            .map { UploadReport(summarizing: $0, at: readings.now(in: $0.scope), processing: settings.processing) }
    }

    /// One upload with per-segment and whole-file digests, computed now, outside the lock;
    /// nil when unknown or another credential's.
    package func report(_ mediaID: UInt64, in scope: String? = nil) -> UploadReport? {
        guard let (session, attempts) = store.sessionWithAttempts(mediaID), Self.visible(session, in: scope) else { return nil }
        return UploadReport(session, attempts: attempts, at: clock.now(in: session.scope), processing: settings.processing)
    }

    /// One upload's segment map, with nothing hashed; nil when unknown or another credential's.
    package func segmentMap(_ mediaID: UInt64, in scope: String? = nil) -> SegmentMap? {
        guard let (session, attempts) = store.sessionWithAttempts(mediaID), Self.visible(session, in: scope) else { return nil }
        return SegmentMap(stored: session.segments.keys, attempts: attempts.inOrder)
    }

    /// The media as stored, segments in index order: a consistent snapshot that later
    /// retries or a reset do not change.
    package func media(_ mediaID: UInt64, in scope: String? = nil) -> (mediaType: String, segments: [StoredSegment])? {
        visibleSession(mediaID, in: scope).map { ($0.mediaType, $0.orderedSegments.map(\.segment)) }
    }

    /// Forgets every upload, or only those of one credential.
    package func reset(scope: String? = nil) {
        guard let scope else { return store.removeAll() }
        store.removeAll { $0.scope == scope }
    }

    private func visibleSession(_ mediaID: UInt64, in scope: String?) -> UploadSession? {
        guard let session = store.session(mediaID), Self.visible(session, in: scope) else { return nil }
        return session
    }

    private static func visible(_ session: UploadSession, in scope: String?) -> Bool {
        scope == nil || session.scope == scope
    }

    // MARK: Shared rules

    private func check(_ session: UploadSession, usableBy requester: Requester, at readings: ClockReadings) throws(UploadFailure) {
        if session.isExpired(at: readings.now(in: session.scope)) {
            throw .expiredMediaID(session.mediaID, afterSeconds: settings.expiresAfterSeconds(for: session.category))
        }
        if let owner = session.owner, owner != requester.user { throw .ownedByAnotherUser(session.mediaID) }
    }

    private func snapshot(_ session: UploadSession, at readings: ClockReadings) -> MediaSnapshot {
        let moment = readings.now(in: session.scope)
        return MediaSnapshot(
            mediaID: session.mediaID, mediaKey: session.mediaKey, mediaType: session.mediaType, kind: session.kind,
            size: session.totalBytes,
            expiresAfterSeconds: max(0, Int(session.expiresAt.timeIntervalSince(moment).rounded(.down))),
            image: session.image,
            processing: session.processing(at: moment, settings: settings.processing))
    }
}
