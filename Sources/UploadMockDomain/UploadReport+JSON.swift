package import UploadMockJSON

extension UploadReport: JSONWritable {
    package var json: JSONValue {
        var object: JSONObject = [
            "media_id": .uint(mediaID),
            "media_id_string": .string(String(mediaID)),
            "state": .string(state.rawValue),
            "media_type": .string(mediaType),
        ]
        object["media_category"] = mediaCategory.map { .string($0) } ?? .null
        object["api"] = .string(api.rawValue)
        object["total_bytes"] = .int(Int64(totalBytes))
        object["received_bytes"] = .int(Int64(receivedBytes))
        object["segment_count"] = .int(Int64(segmentCount))
        object["owner"] = owner.map { .string($0) } ?? .null
        object["scope"] = scope.map { .string($0) } ?? .null
        object["expires_at"] = .string(JSONValue.timestamp(expiresAt))
        object["image"] = imageSize.map { .object(["width": .int(Int64($0.width)), "height": .int(Int64($0.height))]) } ?? .null
        if let segments {
            object["segments"] = .array(segments.map { segment in
                .object(["index": .int(Int64(segment.index)), "bytes": .int(Int64(segment.bytes)),
                         "sha256": .string(segment.sha256)])
            })
        }
        if let sha256, let md5 {
            object["sha256"] = .string(sha256)
            object["md5"] = .string(md5)
        }
        if segments != nil {
            object["attempts"] = .array(attempts.map(\.json))
            object["dropped_attempts"] = .int(Int64(droppedAttempts))
        }
        object["alt_text"] = altText.map { .string($0) } ?? .null
        object["subtitles"] = .array(subtitles.map { track in
            .object(["media_id": .string(String(track.mediaID)), "language_code": .string(track.languageCode),
                     "display_name": track.displayName.map { .string($0) } ?? .null])
        })
        if !otherMetadata.members.isEmpty { object["metadata"] = .object(otherMetadata) }
        return .object(object)
    }
}

extension SegmentAttempt: JSONWritable {
    package var json: JSONValue {
        .object([
            "segment_index": .int(Int64(segmentIndex)),
            "time": .string(JSONValue.timestamp(time)),
            "clock_time": clockTime.map { .string(JSONValue.timestamp($0)) } ?? .null,
            "status": status.map { .int(Int64($0)) } ?? .null,
            "bytes_received": .int(Int64(bytesReceived)),
            "media_bytes": mediaBytes.map { .int(Int64($0)) } ?? .null,
            "stored": .bool(stored),
            "fault": fault.map { .string($0) } ?? .null,
        ])
    }
}
