/// The operations of the upload APIs, as journals, fault rules and rate limits name them
/// (docs/faults.md). The same names serve v1.1 and v2.
public enum UploadCommand: String, Sendable, CaseIterable {
    /// `command=INIT`, or v2's `initialize`: declares the media and gets a media id.
    case initialize = "INIT"
    /// `command=APPEND`, or v2's `append`: one segment of the bytes.
    case append = "APPEND"
    /// `command=FINALIZE`, or v2's `finalize`: the segments are complete.
    case finalize = "FINALIZE"
    /// `command=STATUS`: processing progress after FINALIZE.
    case status = "STATUS"
    /// The one-shot upload (no `command` parameter).
    case simpleUpload = "UPLOAD"
    /// Alt text and other metadata (`media/metadata/create.json`, `/2/media/metadata`).
    case metadata = "METADATA"
    /// Attaching subtitles to a video.
    case subtitlesCreate = "SUBTITLES_CREATE"
    /// Removing subtitles from a video.
    case subtitlesDelete = "SUBTITLES_DELETE"
}

/// Which API a request used.
public enum UploadAPI: String, Sendable, CaseIterable {
    /// `upload.twitter.com/1.1/media/…`
    case v1 = "v1.1"
    /// `api.x.com/2/media/…`
    case v2 = "v2"
}
