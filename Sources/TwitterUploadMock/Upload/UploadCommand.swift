/// The commands of `/1.1/media/upload.json`; a request without `command` is a simple upload.
public enum UploadCommand: String, Sendable, CaseIterable {
    case initialize = "INIT"
    case append = "APPEND"
    case finalize = "FINALIZE"
    case status = "STATUS"
    /// The one-shot upload (no `command` parameter), named so in journals and rate limits.
    case simpleUpload = "UPLOAD"

    /// The command a request asks for; `append` and other near misses are errors, not aliases.
    init(parameters: UploadParameters) throws(UploadError) {
        guard let value = parameters.command else {
            self = .simpleUpload
            return
        }
        guard let command = UploadCommand(rawValue: value), command != .simpleUpload else {
            throw UploadError.unknownCommand(value)
        }
        self = command
    }

    var method: String { self == .status ? "GET" : "POST" }
}

/// A successful answer of the upload domain, before it is dressed as HTTP.
public struct UploadReply: Sendable {
    public var status: Int
    public var body: JSONValue?
    public var mediaID: UInt64?
    public var headers: [(name: String, value: String)] = []
}
