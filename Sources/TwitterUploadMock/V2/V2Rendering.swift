#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import UploadMockDomain
import UploadMockJSON

/// The domain's answers in v2's JSON: everything inside `{"data":…}`, ids as strings, keys in
/// the order the recordings show (docs/api-v2.md).
enum V2Rendering {
    static func data(_ object: JSONObject) -> JSONValue {
        .object(["data": .object(object)])
    }

    /// `initialize`: recorded as `id`, `expires_after_secs`, `media_key`.
    static func initialized(_ media: MediaSnapshot) -> JSONObject {
        var data: JSONObject = ["id": .string(String(media.mediaID)), "expires_after_secs": .int(Int64(media.expiresAfterSeconds))]
        if let key = media.mediaKey { data["media_key"] = .string(key) }
        return data
    }

    static func appended(_ receipt: AppendReceipt) -> JSONObject {
        ["expires_at": .int(Int64(receipt.expiresAt.timeIntervalSince1970.rounded(.down)))]
    }

    /// `finalize` and the one-shot upload: every object's keys in alphabetical order, as
    /// recorded on the dedicated `/finalize` endpoint (2025-08). The command form's FINALIZE
    /// keeps the order recorded for it (2025-04).
    static func finalized(_ snapshot: MediaSnapshot, processing settings: ProcessingSimulation, commandForm: Bool) -> JSONObject {
        let data = media(snapshot, processing: settings)
        return commandForm ? data : alphabetical(data)
    }

    /// `id`, `media_key`, `size`, `expires_after_secs`, then `processing_info` or `image`, as the
    /// command form's FINALIZE was recorded. Videos carry no `video` object, as in every v2
    /// recording.
    static func media(_ media: MediaSnapshot, processing settings: ProcessingSimulation) -> JSONObject {
        var data: JSONObject = ["id": .string(String(media.mediaID))]
        if let key = media.mediaKey { data["media_key"] = .string(key) }
        data["size"] = .int(Int64(media.size))
        data["expires_after_secs"] = .int(Int64(media.expiresAfterSeconds))
        if let processing = media.processing {
            data["processing_info"] = .object(processingInfo(processing, atFinalize: true, settings: settings))
        }
        if let image = media.image {
            data["image"] = .object(["image_type": .string(image.mediaType), "w": .int(Int64(image.width)),
                                     "h": .int(Int64(image.height))])
        }
        return data
    }

    /// STATUS: the same members, every object's keys in alphabetical order as recorded.
    static func status(_ snapshot: MediaSnapshot, processing: ProcessingState, settings: ProcessingSimulation) -> JSONObject {
        var data = media(snapshot, processing: settings)
        data["processing_info"] = .object(processingInfo(processing, atFinalize: false, settings: settings))
        return alphabetical(data)
    }

    /// At FINALIZE a finished state is just `{"state":"succeeded"}`, as recorded; STATUS adds
    /// `progress_percent`. A failure reads as v1.1's (`processing.error_state`, its percent and
    /// the `error` object).
    static func processingInfo(_ state: ProcessingState, atFinalize: Bool, settings: ProcessingSimulation) -> JSONObject {
        switch state {
        case .pending(let checkAfter):
            ["state": "pending", "check_after_secs": .int(Int64(checkAfter))]
        case .inProgress(let checkAfter, let percent):
            ["state": "in_progress", "check_after_secs": .int(Int64(checkAfter)), "progress_percent": .int(Int64(percent))]
        case .succeeded:
            atFinalize ? ["state": "succeeded"] : ["state": "succeeded", "progress_percent": 100]
        case .failed(let error):
            ["state": .string(settings.errorState.rawValue), "progress_percent": .int(Int64(settings.errorProgressPercent)),
             "error": error.json]
        }
    }

    private static func alphabetical(_ object: JSONObject) -> JSONObject {
        JSONObject(object.members.sorted { $0.key < $1.key }.map { member in
            if case .object(let nested) = member.value { return (member.key, JSONValue.object(alphabetical(nested))) }
            return (member.key, member.value)
        })
    }
}
