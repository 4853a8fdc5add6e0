import UploadMockDomain
import UploadMockJSON

/// The domain's answers in v1.1's JSON, keys in the order the real service writes them
/// (docs/api.md).
enum V1Rendering {
    static func initialized(_ media: MediaSnapshot) -> JSONObject {
        var body: JSONObject = [
            "media_id": .uint(media.mediaID),
            "media_id_string": .string(String(media.mediaID)),
            "expires_after_secs": .int(Int64(media.expiresAfterSeconds)),
        ]
        if let key = media.mediaKey { body["media_key"] = .string(key) }
        return body
    }

    static func appended(_ receipt: AppendReceipt) -> [(name: String, value: String)] {
        [("content-type", "text/html;charset=utf-8"),
         ("x-segmentcount", String(receipt.segmentCount)),
         ("x-totalbytes", String(receipt.receivedBytes))]
    }

    /// The media object of FINALIZE and the one-shot upload.
    static func media(_ media: MediaSnapshot) -> JSONObject {
        var body: JSONObject = [
            "media_id": .uint(media.mediaID),
            "media_id_string": .string(String(media.mediaID)),
        ]
        if let key = media.mediaKey { body["media_key"] = .string(key) }
        body["size"] = .int(Int64(media.size))
        body["expires_after_secs"] = .int(Int64(media.expiresAfterSeconds))
        if let image = media.image {
            body["image"] = .object(["image_type": .string(image.mediaType), "w": .int(Int64(image.width)),
                                     "h": .int(Int64(image.height))])
        } else {
            body["video"] = .object(["video_type": .string(media.mediaType)])
        }
        if let processing = media.processing { body["processing_info"] = processingInfo(processing) }
        return body
    }

    static func status(_ snapshot: MediaSnapshot) -> JSONObject {
        var body = media(snapshot)
        if snapshot.processing == nil { body["processing_info"] = processingInfo(.succeeded) }
        return body
    }

    static func processingInfo(_ state: ProcessingState) -> JSONValue {
        switch state {
        case .pending(let checkAfter):
            .object(["state": "pending", "check_after_secs": .int(Int64(checkAfter))])
        case .inProgress(let checkAfter, let percent):
            .object(["state": "in_progress", "check_after_secs": .int(Int64(checkAfter)), "progress_percent": .int(Int64(percent))])
        case .succeeded:
            .object(["state": "succeeded", "progress_percent": 100])
        case .failed(let error):
            .object(["state": "failed", "progress_percent": 100, "error": error.json])
        }
    }
}
