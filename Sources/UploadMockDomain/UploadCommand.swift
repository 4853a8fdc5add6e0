/// The operations of the upload API, as journals, fault rules and rate limits name them.
public enum UploadCommand: String, Sendable, CaseIterable {
    /// `command=INIT`: declares the media and gets a media id.
    case initialize = "INIT"
    /// `command=APPEND`: one segment of the bytes.
    case append = "APPEND"
    /// `command=FINALIZE`: the segments are complete.
    case finalize = "FINALIZE"
    /// `command=STATUS`: processing progress after FINALIZE.
    case status = "STATUS"
    /// The one-shot upload (no `command` parameter).
    case simpleUpload = "UPLOAD"
}
