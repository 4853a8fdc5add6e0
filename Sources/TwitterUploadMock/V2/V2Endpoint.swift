import UploadMockDomain
import UploadMockHTTP

/// The X API v2 media endpoints the mock serves (docs/api-v2.md).
enum V2Endpoint: Sendable, CaseIterable {
    case initialize
    case append
    case finalize
    /// `GET /2/media/upload`
    case status
    /// `POST /2/media/upload`: the one-shot upload, or the 2025 command form.
    case upload
    case metadata
    case subtitlesCreate
    case subtitlesDelete

    var method: String {
        switch self {
        case .status: "GET"
        case .subtitlesDelete: "DELETE"
        default: "POST"
        }
    }

    var pathPattern: String {
        switch self {
        case .initialize: "/2/media/upload/initialize"
        case .append: "/2/media/upload/{id}/append"
        case .finalize: "/2/media/upload/{id}/finalize"
        case .status, .upload: "/2/media/upload"
        case .metadata: "/2/media/metadata"
        case .subtitlesCreate, .subtitlesDelete: "/2/media/subtitles"
        }
    }

    /// What journals and rules call it; `POST /2/media/upload` is decided by its parameters.
    var command: UploadCommand {
        switch self {
        case .initialize: .initialize
        case .append: .append
        case .finalize: .finalize
        case .status: .status
        case .upload: .simpleUpload
        case .metadata: .metadata
        case .subtitlesCreate: .subtitlesCreate
        case .subtitlesDelete: .subtitlesDelete
        }
    }

    /// Endpoints whose bodies may be multipart (and, for the command form, urlencoded).
    var takesForms: Bool { self == .append || self == .upload }

    /// The hosts clients sign v2 requests for (xdk, xurl: api.x.com; older clients
    /// api.twitter.com); the mock's own URL is accepted too.
    static let realBaseURLs = ["https://api.x.com", "https://api.twitter.com"]

    static func register<Route>(in routes: inout HTTPRoutes<Route>, as route: (V2Endpoint) -> Route) {
        for endpoint in allCases { routes.add(endpoint.method, endpoint.pathPattern, route(endpoint)) }
    }

    /// Paths whose refusals (405) are answered in v2's shapes.
    static func owns(_ path: String) -> Bool {
        path.hasPrefix("/2/")
    }
}
