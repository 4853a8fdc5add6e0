#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The upload domain: validates each command as the real service does and keeps the bytes.
/// It knows nothing of HTTP or C; the endpoint hands it parameters and renders its answers.
public final class UploadService: Sendable {
    public let settings: UploadSettings
    let store: UploadStore
    let storage: SegmentStorage
    private let now: @Sendable () -> Date

    init(settings: UploadSettings, seed: UInt64, now: @escaping @Sendable () -> Date = { Date() }) {
        self.settings = settings
        store = UploadStore(seed: seed)
        storage = SegmentStorage(directory: settings.storageDirectory)
        self.now = now
    }

    func handle(_ command: UploadCommand, parameters: UploadParameters, user: String?) throws(UploadError) -> UploadReply {
        switch command {
        case .initialize: try initialize(parameters, user: user)
        case .append: try append(parameters, user: user)
        case .finalize: try finalize(parameters, user: user)
        case .status: try status(parameters, user: user)
        case .simpleUpload: try simpleUpload(parameters, user: user)
        }
    }

    // MARK: INIT

    private func initialize(_ parameters: UploadParameters, user: String?) throws(UploadError) -> UploadReply {
        guard let totalText = parameters["total_bytes"] else { throw .missingParameter("total_bytes") }
        guard let totalBytes = Int(decimal: totalText), totalBytes > 0 else { throw .invalidTotalBytes(totalText) }
        guard let mediaType = parameters["media_type"] else { throw .missingParameter("media_type") }
        guard let kind = MediaKind(mediaType: mediaType) else { throw .mediaTypeUnrecognized }
        var category: MediaCategory?
        if let value = parameters["media_category"] {
            guard let known = MediaCategory(rawValue: value.lowercased()) else { throw .invalidMediaCategory(value) }
            category = known
        }
        let limit = settings.limits.maximumBytes(for: kind, category: category)
        guard totalBytes <= limit else { throw .fileSizeExceeds(limit) }

        let created = now()
        let session = store.create { id in
            UploadSession(mediaID: id, mediaType: mediaType, kind: kind, category: category,
                          totalBytes: totalBytes, owner: user, createdAt: created,
                          expiresAt: created.addingTimeInterval(TimeInterval(settings.expiresAfterSeconds)))
        }
        var body: JSONObject = [
            "media_id": .uint(session.mediaID),
            "media_id_string": .string(String(session.mediaID)),
            "expires_after_secs": .int(Int64(settings.expiresAfterSeconds)),
        ]
        if let key = session.mediaKey { body["media_key"] = .string(key) }
        return UploadReply(status: 202, body: .object(body), mediaID: session.mediaID)
    }

    // MARK: APPEND

    private func append(_ parameters: UploadParameters, user: String?) throws(UploadError) -> UploadReply {
        let mediaID = try mediaID(in: parameters)
        guard let indexText = parameters["segment_index"] else { throw .missingParameter("segment_index") }
        let index = try Self.segmentIndex(indexText)
        if parameters.media != nil && parameters.mediaData != nil { throw .bothMediaAndMediaData }
        guard let payload = parameters.payload else { throw .missingParameter("media") }
        guard payload.sentBytes <= settings.limits.chunkBytes else {
            throw .chunkTooLarge(parameter: payload.parameter, limit: settings.limits.chunkBytes)
        }
        let moment = now()
        let segment = try storage.keep(payload.bytes, mediaID: mediaID, index: index)
        var replaced: StoredSegment? = segment  // discarded unless the store takes it
        defer { storage.discard(replaced) }
        let (count, received) = try store.update(mediaID) { (session) throws(UploadError) in
            try check(session, usableBy: user, at: moment)
            guard !session.isFinalized else { throw .alreadyFinalized(mediaID) }
            // A repeated index replaces the earlier bytes: clients retry lost responses.
            let wouldBe = session.receivedBytes - (session.segments[index]?.count ?? 0) + payload.bytes.count
            guard wouldBe <= session.totalBytes else {
                throw .exceedsTotalBytes(segment: index, bytes: payload.bytes.count, wouldBe: wouldBe,
                                         total: session.totalBytes)
            }
            replaced = session.segments.updateValue(segment, forKey: index)
            return (session.segments.count, wouldBe)
        }
        return UploadReply(status: 204, body: nil, mediaID: mediaID, headers: [
            ("content-type", "text/html;charset=utf-8"),
            ("x-segmentcount", String(count)),
            ("x-totalbytes", String(received)),
        ])
    }

    /// `segment_index` as the real service reads it: a plain decimal integer from 0 to 999.
    static func segmentIndex(_ text: String) throws(UploadError) -> Int {
        guard let value = Int(decimal: text.hasPrefix("-") ? String(text.dropFirst()) : text) else {
            throw .segmentIndexNotInteger(text)
        }
        let index = text.hasPrefix("-") ? -value : value
        guard (0...999).contains(index) else { throw .segmentIndexOutOfRange }
        return index
    }

    // MARK: FINALIZE

    private func finalize(_ parameters: UploadParameters, user: String?) throws(UploadError) -> UploadReply {
        let mediaID = try mediaID(in: parameters)
        let moment = now()
        let session = try store.update(mediaID) { (session) throws(UploadError) in
            try check(session, usableBy: user, at: moment)
            // FINALIZE is idempotent, so a client that lost the first answer can ask again.
            guard !session.isFinalized else { return session }
            guard session.segmentsFormWholeFile else { throw .segmentsDoNotAddUp }
            if session.kind == .video, session.category == nil, session.totalBytes > settings.limits.syncVideoBytes {
                throw .largeFileNotSynchronous
            }
            if session.kind == .image || session.kind == .gif {
                guard let header = ImageHeader.read(Array(Self.prefix(of: session, bytes: 64 * 1024))) else {
                    throw .mediaTypeUnrecognized
                }
                session.image = header
            }
            session.needsProcessing = session.category != nil && (session.kind == .video || session.kind == .gif)
            session.finalizedAt = moment
            session.expiresAt = moment.addingTimeInterval(TimeInterval(settings.expiresAfterSeconds))
            return session
        }
        var body = mediaObject(session, at: moment)
        if session.needsProcessing {
            body["processing_info"] = processingInfo(polls: session.statusPolls)
        }
        return UploadReply(status: 201, body: .object(body), mediaID: mediaID)
    }

    private static func prefix(of session: UploadSession, bytes limit: Int) -> [UInt8] {
        var prefix: [UInt8] = []
        for entry in session.orderedSegments where prefix.count < limit {
            prefix.append(contentsOf: entry.segment.bytes.prefix(limit - prefix.count))
        }
        return prefix
    }

    // MARK: STATUS

    private func status(_ parameters: UploadParameters, user: String?) throws(UploadError) -> UploadReply {
        let mediaID = try mediaID(in: parameters)
        let moment = now()
        let session = try store.update(mediaID) { (session) throws(UploadError) in
            try check(session, usableBy: user, at: moment)
            guard session.isFinalized else { throw .notFinalized(mediaID) }
            if session.needsProcessing { session.statusPolls += 1 }
            return session
        }
        var body = mediaObject(session, at: moment)
        body["processing_info"] = session.needsProcessing
            ? processingInfo(polls: session.statusPolls)
            : .object(["state": "succeeded", "progress_percent": 100])
        return UploadReply(status: 200, body: .object(body), mediaID: mediaID)
    }

    // MARK: Simple upload

    private func simpleUpload(_ parameters: UploadParameters, user: String?) throws(UploadError) -> UploadReply {
        if parameters.media != nil && parameters.mediaData != nil { throw .bothMediaAndMediaData }
        guard let payload = parameters.payload else { throw .missingParameter("media") }
        guard let header = ImageHeader.read(payload.bytes) else { throw .mediaTypeUnrecognized }
        let kind: MediaKind = header.mediaType == "image/gif" ? .gif : .image
        let limit = kind == .gif ? settings.limits.gifBytes : settings.limits.imageBytes
        guard payload.bytes.count <= limit else { throw .simpleUploadTooLarge }
        let category = parameters["media_category"].flatMap { MediaCategory(rawValue: $0.lowercased()) }
        let moment = now()
        let session = store.create { id in
            var session = UploadSession(mediaID: id, mediaType: header.mediaType, kind: kind, category: category,
                                        totalBytes: payload.bytes.count, owner: user, createdAt: moment,
                                        expiresAt: moment.addingTimeInterval(TimeInterval(settings.expiresAfterSeconds)))
            session.segments[0] = .memory(payload.bytes)
            session.image = header
            session.finalizedAt = moment
            return session
        }
        return UploadReply(status: 200, body: .object(mediaObject(session, at: moment)), mediaID: session.mediaID)
    }

    // MARK: Shared rules

    private func mediaID(in parameters: UploadParameters) throws(UploadError) -> UInt64 {
        guard let text = parameters["media_id"] else { throw .missingParameter("media_id") }
        guard let id = UInt64(decimal: text) else { throw .invalidMediaID(text) }
        return id
    }

    private func check(_ session: UploadSession, usableBy user: String?, at moment: Date) throws(UploadError) {
        if session.isExpired(at: moment) { throw .expiredMediaID(session.mediaID, after: settings.expiresAfterSeconds) }
        if let owner = session.owner, owner != user { throw .ownedByAnotherUser(session.mediaID) }
    }

    /// The media object of FINALIZE, STATUS and simple upload, keys in the real order.
    private func mediaObject(_ session: UploadSession, at moment: Date) -> JSONObject {
        var body: JSONObject = [
            "media_id": .uint(session.mediaID),
            "media_id_string": .string(String(session.mediaID)),
        ]
        if let key = session.mediaKey { body["media_key"] = .string(key) }
        body["size"] = .int(Int64(session.totalBytes))
        body["expires_after_secs"] = .int(Int64(max(0, session.expiresAt.timeIntervalSince(moment).rounded(.down))))
        if let image = session.image {
            body["image"] = .object(["image_type": .string(image.mediaType), "w": .int(Int64(image.width)),
                                     "h": .int(Int64(image.height))])
        } else {
            body["video"] = .object(["video_type": .string(session.mediaType)])
        }
        return body
    }

    private func processingInfo(polls: Int) -> JSONValue {
        let processing = settings.processing
        if polls == 0 {
            return .object(["state": "pending", "check_after_secs": .int(Int64(processing.checkAfterSeconds))])
        }
        if polls < processing.pollsUntilDone {
            let percent = Int64(polls * 100 / max(processing.pollsUntilDone, 1))
            return .object(["state": "in_progress", "check_after_secs": .int(Int64(processing.checkAfterSeconds)),
                            "progress_percent": .int(percent)])
        }
        guard processing.result == .failed else {
            return .object(["state": "succeeded", "progress_percent": 100])
        }
        let error = processing.error
        return .object(["state": "failed", "progress_percent": 100, "error": .object([
            "code": .int(Int64(error.code)), "name": .string(error.name), "message": .string(error.message),
        ])])
    }
}

extension FixedWidthInteger {
    /// Parses plain ASCII decimal digits only: no sign, spaces, `+`, or fractions.
    init?(decimal text: some StringProtocol) {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        self.init(text, radix: 10)
    }
}
