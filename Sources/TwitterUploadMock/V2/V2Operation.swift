import UploadMockDomain
import UploadMockJSON

/// A successful v2 answer, before it is dressed as HTTP.
struct V2Answer: Sendable {
    var status: Int
    /// Nil for the command form's APPEND (204, no body).
    var body: JSONValue?
    var mediaID: UInt64?
    var segmentIndex: Int?
    /// What the mock inferred, for the journal.
    var note: String?
    /// The bytes an APPEND stored (its segment, decoded), for the upload's attempt history.
    var storedMediaBytes: Int?
}

/// Hands a v2 request to the upload domain and renders what it answers in v2's shapes.
struct V2Operation {
    var request: V2Request

    func perform(on uploads: UploadService, as requester: Requester) throws(V2Problem) -> V2Answer {
        let commandForm = request.isCommandForm
        let simulation = uploads.settings.processing
        switch request.operation {
        case .initialize(let declaration):
            let media = try domain { () throws(UploadFailure) in try uploads.initialize(declaration, by: requester) }
            return V2Answer(status: commandForm ? 202 : 200, body: V2Rendering.data(V2Rendering.initialized(media)),
                            mediaID: media.mediaID)
        case .append(let mediaID, let index, let payload):
            let receipt = try domain { () throws(UploadFailure) in
                try uploads.append(mediaID: mediaID, segmentIndex: index, payload: payload, by: requester)
            }
            let note = index == nil
                ? "segment_index was not sent: stored as segment \(receipt.segmentIndex), the one after the highest stored "
                    + "(compatibility.infer_v2_segment_index is on)"
                : nil
            return V2Answer(status: commandForm ? 204 : 200, body: commandForm ? nil : V2Rendering.data(V2Rendering.appended(receipt)),
                            mediaID: mediaID, segmentIndex: receipt.segmentIndex, note: note, storedMediaBytes: payload.bytes.count)
        case .finalize(let mediaID):
            let media = try domain { () throws(UploadFailure) in try uploads.finalize(mediaID: mediaID, by: requester) }
            // The command form's FINALIZE was recorded answering 201.
            return V2Answer(status: commandForm ? 201 : 200,
                            body: V2Rendering.data(V2Rendering.finalized(media, processing: simulation, commandForm: commandForm)),
                            mediaID: mediaID)
        case .status(let mediaID):
            let media = try domain(idParameter: "media_id") { () throws(UploadFailure) in
                try uploads.status(mediaID: mediaID, by: requester)
            }
            guard let processing = media.processing else {
                // Recorded: STATUS of media that needed no processing.
                throw .invalid("BadRequest: Not found", explanation: "Media id \(mediaID) needed no processing: STATUS has nothing to "
                               + "report (the real service answers this); only videos and GIFs uploaded with a media_category are processed.")
            }
            return V2Answer(status: 200, body: V2Rendering.data(V2Rendering.status(media, processing: processing, settings: simulation)),
                            mediaID: mediaID)
        case .upload(let payload, let category):
            let media = try uploadOneShot(payload, category: category, on: uploads, as: requester)
            return V2Answer(status: 200, body: V2Rendering.data(V2Rendering.finalized(media, processing: simulation, commandForm: false)),
                            mediaID: media.mediaID)
        case .metadata(let mediaID, let altText, let other, let kept, let ignored):
            try domain { () throws(UploadFailure) in
                try uploads.setMetadata(mediaID: mediaID, altText: altText, other: other, by: requester)
            }
            return V2Answer(status: 200, body: V2Rendering.data(["id": .string(String(mediaID)), "associated_metadata": .object(kept)]),
                            mediaID: mediaID, note: ignored.isEmpty ? nil : Self.ignoredMetadataNote(ignored))
        case .subtitlesCreate(let videoID, let category, let track):
            _ = try domain { () throws(UploadFailure) in try uploads.addSubtitles(videoID: videoID, track: track, by: requester) }
            var data: JSONObject = ["id": .string(String(videoID))]
            if let category { data["media_category"] = .string(category) }
            var subtitles: JSONObject = ["id": .string(String(track.mediaID)), "language_code": .string(track.languageCode)]
            if let name = track.displayName { subtitles["display_name"] = .string(name) }
            data["associated_subtitles"] = .object(subtitles)
            return V2Answer(status: 200, body: V2Rendering.data(data), mediaID: videoID)
        case .subtitlesDelete(let videoID, let languageCode):
            try domain { () throws(UploadFailure) in
                try uploads.removeSubtitles(videoID: videoID, languageCode: languageCode, by: requester)
            }
            return V2Answer(status: 200, body: V2Rendering.data(["deleted": true]), mediaID: videoID)
        }
    }

    /// Names the `metadata` members spec 2.167 does not define: at most five, each cut to 64
    /// characters, so a body of a million keys makes a short journal entry.
    static func ignoredMetadataNote(_ names: [String]) -> String {
        let shown = names.prefix(5).map { name in
            name.unicodeScalars.count > 64 ? "'\(String(String.UnicodeScalarView(name.unicodeScalars.prefix(64))))…'" : "'\(name)'"
        }
        let more = names.count > shown.count ? " and \(names.count - shown.count) more" : ""
        return "metadata members the spec does not define were neither kept nor echoed: \(shown.joined(separator: ", "))\(more) "
            + "(what the real service does with them is unknown; docs/fidelity.md)"
    }

    /// Images and GIFs are read by the domain; the spec's video and subtitles categories are
    /// recognised here from their first bytes, then stored and processed as any video.
    private func uploadOneShot(_ payload: MediaPayload, category: MediaCategory, on uploads: UploadService,
                               as requester: Requester) throws(V2Problem) -> MediaSnapshot {
        try domain { () throws(UploadFailure) in
            let recognized = try Self.recognizedType(payload.bytes, category: category)
            return try uploads.uploadOneShot(payload, category: category, recognizedType: recognized, api: .v2, by: requester)
        }
    }

    /// The media type of a one-shot video or subtitles file, read from its first bytes; nil for
    /// the image categories, whose header the domain reads. A video category with bytes of no
    /// known container is refused as the real service refuses a file it cannot read.
    static func recognizedType(_ bytes: [UInt8], category: MediaCategory) throws(UploadFailure) -> String? {
        switch category {
        case .tweetImage, .dmImage, .tweetGIF, .dmGIF:
            return nil
        case .subtitles:
            let text = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
            return text.starts(with: Array("WEBVTT".utf8)) ? "text/vtt" : "text/srt"
        case .tweetVideo, .dmVideo, .amplifyVideo:
            if bytes.count >= 12, bytes[4..<8].elementsEqual("ftyp".utf8) {
                return bytes[8..<12].elementsEqual("qt  ".utf8) ? "video/quicktime" : "video/mp4"
            }
            if bytes.starts(with: [0x1A, 0x45, 0xDF, 0xA3]) { return "video/webm" }
            if bytes.first == 0x47, bytes.count < 189 || bytes[188] == 0x47 { return "video/mp2t" }
            throw .mediaTypeUnrecognized
        }
    }

    /// Runs a domain operation, its refusal rendered as v2 renders it.
    @discardableResult
    private func domain<Result>(idParameter: String = "id", _ operation: () throws(UploadFailure) -> Result) throws(V2Problem) -> Result {
        do {
            return try operation()
        } catch {
            throw V2Problem.domain(error, idParameter: idParameter)
        }
    }
}
