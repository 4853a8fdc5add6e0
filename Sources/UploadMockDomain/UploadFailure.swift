/// Why the upload domain refused an operation: every rule of docs/api.md that concerns the
/// media itself, whichever API dialect the request came in. Messages the real service is
/// known to use are copied exactly; where its wording was never recorded, the message says
/// precisely what was wrong. Each dialect decides the status and envelope.
package enum UploadFailure: Error, Sendable, Equatable {
    case unknownMediaID(UInt64)
    case expiredMediaID(UInt64, afterSeconds: Int)
    case alreadyFinalized(UInt64)
    case notFinalized(UInt64)
    case ownedByAnotherUser(UInt64)
    /// A declared `media_type` the service does not take, or bytes that are not the image
    /// they claim to be.
    case mediaTypeUnrecognized
    case fileSizeExceeds(limit: Int)
    case segmentIndexOutOfRange(Int)
    case chunkTooLarge(parameter: String, limit: Int)
    case exceedsTotalBytes(segment: Int, bytes: Int, wouldBe: Int, total: Int)
    case segmentsDoNotAddUp
    case largeFileNotSynchronous
    case oneShotTooLarge(limit: Int)
    /// The bytes could not be kept (a full disk under `--storage-dir`, say).
    case storageFailed(reason: String)
    /// A bound of docs/configuration.md was reached; the reason names it.
    case overCapacity(String)
    case altTextTooLong(length: Int, limit: Int)
    /// The upload's alt text, metadata and subtitle tracks would pass `limits.upload_text_bytes`.
    case uploadTextTooLarge(UInt64, bytes: Int, limit: Int)
    case notVideo(UInt64)
    case notSubtitles(UInt64)
    case noSubtitles(UInt64, languageCode: String)

    package var message: String {
        switch self {
        case .unknownMediaID(let id):
            "Invalid media_id: Some(\(id)). No upload with this media_id was initialized (or it was reset)."
        case .expiredMediaID(let id, let seconds):
            "Media id \(id) expired: it was valid for \(seconds) seconds after INIT. Start a new upload with INIT."
        case .alreadyFinalized(let id):
            "Media id \(id) is already finalized: APPEND is only accepted between INIT and FINALIZE."
        case .notFinalized(let id):
            "Media id \(id) has not been finalized: STATUS is available after FINALIZE."
        case .ownedByAnotherUser(let id):
            "Media id \(id) belongs to another user."
        case .mediaTypeUnrecognized:
            "media type unrecognized."
        case .fileSizeExceeds(let limit):
            "File size exceeds \(limit) bytes."
        case .segmentIndexOutOfRange:
            "SegmentIndex must be between 0 and 999."
        case .chunkTooLarge(let parameter, let limit):
            "The \(parameter) parameter exceeds the \(limit)-byte limit for one APPEND segment."
        case .exceedsTotalBytes(let segment, let bytes, let wouldBe, let total):
            "Segment \(segment) of \(bytes) bytes would bring this upload to \(wouldBe) bytes, more than the total_bytes of \(total) declared at INIT."
        case .segmentsDoNotAddUp:
            "Segments do not add up to provided total file size."
        case .largeFileNotSynchronous:
            "Large file can not be finalized synchronously."
        case .oneShotTooLarge(let limit):
            "The media of a one-shot upload exceeds the \(limit)-byte limit for its kind."
        case .storageFailed(let reason):
            "The segment could not be stored: \(reason)"
        case .overCapacity(let reason):
            "The mock is over capacity: \(reason)."
        case .altTextTooLong(let length, let limit):
            "The alt text is \(length) characters long; it may have at most \(limit)."
        case .uploadTextTooLarge(let id, let bytes, let limit):
            "Media id \(id) would keep \(bytes) bytes of alt text, metadata and subtitle tracks, more than limits.upload_text_bytes (\(limit)) allows."
        case .notVideo(let id):
            "Media id \(id) is not a video: subtitles attach to videos only."
        case .notSubtitles(let id):
            "Media id \(id) is not a subtitles file (INIT it with media_type text/srt, text/vtt or text/plain and media_category subtitles)."
        case .noSubtitles(let id, let language):
            "Media id \(id) has no subtitles in language \(language)."
        }
    }
}
