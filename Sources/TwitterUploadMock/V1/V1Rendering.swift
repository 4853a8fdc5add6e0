import UploadMockDomain
import UploadMockJSON

/// The domain's answers in v1.1's JSON, keys in the order and sets the real service writes
/// them (docs/api.md; docs/fidelity.md says which recording each shape comes from).
enum V1Rendering {
    /// INIT: `media_key` comes last, as recorded.
    static func initialized(_ media: MediaSnapshot) -> JSONObject {
        var body: JSONObject = [
            "media_id": .uint(media.mediaID),
            "media_id_string": .string(String(media.mediaID)),
            "expires_after_secs": .int(Int64(media.expiresAfterSeconds)),
        ]
        if let key = media.mediaKey { body["media_key"] = .string(key) }
        return body
    }

    /// APPEND's headers. The real service reports no progress here: `x-segmentcount` and
    /// `x-totalbytes` are always 0 and the 204 says `content-length: 0` (recorded); what was
    /// stored is in the admin API.
    static let appendedHeaders: [(name: String, value: String)] = [
        ("content-type", "text/html;charset=utf-8"), ("content-length", "0"),
        ("x-segmentcount", "0"), ("x-totalbytes", "0"),
    ]

    /// The media object of FINALIZE, STATUS and the one-shot upload. While processing is
    /// pending, in progress or failed there is no `image`/`video` object; once it failed there
    /// is no `expires_after_secs` either.
    static func media(_ media: MediaSnapshot, processing settings: ProcessingSimulation) -> JSONObject {
        var body: JSONObject = [
            "media_id": .uint(media.mediaID),
            "media_id_string": .string(String(media.mediaID)),
        ]
        if let key = media.mediaKey { body["media_key"] = .string(key) }
        body["size"] = .int(Int64(media.size))
        switch media.processing {
        case nil, .succeeded?:
            body["expires_after_secs"] = .int(Int64(media.expiresAfterSeconds))
            if let object = mediaObject(media) { body[object.key] = .object(object.value) }
        case .pending?, .inProgress?:
            body["expires_after_secs"] = .int(Int64(media.expiresAfterSeconds))
        case .failed?:
            break
        }
        if let state = media.processing { body["processing_info"] = processingInfo(state, settings: settings) }
        return body
    }

    /// `image` (read from the bytes) for images and GIFs, `video` for videos. Subtitles and 3D
    /// models get neither: no answer for them was ever recorded, and inventing a `video` for
    /// a text file would mislead a client.
    private static func mediaObject(_ media: MediaSnapshot) -> (key: String, value: JSONObject)? {
        if let image = media.image {
            return ("image", ["image_type": .string(image.mediaType), "w": .int(Int64(image.width)),
                              "h": .int(Int64(image.height))])
        }
        guard media.kind == .video else { return nil }
        return ("video", ["video_type": .string(media.mediaType)])
    }

    static func processingInfo(_ state: ProcessingState, settings: ProcessingSimulation) -> JSONValue {
        switch state {
        case .pending(let checkAfter):
            .object(["state": "pending", "check_after_secs": .int(Int64(checkAfter))])
        case .inProgress(let checkAfter, let percent):
            .object(["state": "in_progress", "check_after_secs": .int(Int64(checkAfter)), "progress_percent": .int(Int64(percent))])
        case .succeeded:
            .object(["state": "succeeded", "progress_percent": 100])
        case .failed(let error):
            // As recorded: no check_after_secs beside an error, whichever state carries it.
            .object(["state": .string(settings.errorState.rawValue),
                     "progress_percent": .int(Int64(settings.errorProgressPercent)), "error": error.json])
        }
    }
}
