/// What kind of media a declared `media_type` is, which decides limits, processing and what
/// FINALIZE reports (docs/api.md, Media types).
package enum MediaKind: String, Sendable {
    case image
    case gif
    case video
    case subtitles
    /// 3D models (`model/gltf-binary`, `model/vnd.usdz+zip`): in the v2 spec, never described.
    case model

    /// Every `media_type` the real service is known to take: the v2 spec's enum, plus what
    /// v1.1 clients send (`text/plain` for SRT from node-twitter-api-v2, `image/jpg`,
    /// `video/mpeg`, `application/x-subrip`). Compared without regard to case.
    package static let byMediaType: [String: MediaKind] = [
        "image/jpeg": .image, "image/jpg": .image, "image/pjpeg": .image, "image/png": .image, "image/webp": .image,
        "image/bmp": .image, "image/tiff": .image,
        "image/gif": .gif,
        "video/mp4": .video, "video/quicktime": .video, "video/webm": .video, "video/mp2t": .video, "video/mpeg": .video,
        "text/srt": .subtitles, "text/vtt": .subtitles, "text/plain": .subtitles, "application/x-subrip": .subtitles,
        "model/gltf-binary": .model, "model/vnd.usdz+zip": .model,
    ]

    package init?(mediaType: String) {
        guard let kind = Self.byMediaType[mediaType.lowercased()] else { return nil }
        self = kind
    }

    /// Images and GIFs report their pixel size, read from the bytes.
    var hasImageHeader: Bool { self == .image || self == .gif }
}

/// The `media_category` values the real service knows.
package enum MediaCategory: String, Sendable, CaseIterable {
    case tweetImage = "tweet_image"
    case tweetGIF = "tweet_gif"
    case tweetVideo = "tweet_video"
    case amplifyVideo = "amplify_video"
    case dmImage = "dm_image"
    case dmGIF = "dm_gif"
    case dmVideo = "dm_video"
    case subtitles

    /// v1.1 reads a category in any case and with or without underscores: the docs spell
    /// them `TweetImage`, node-twitter-api-v2 sends that, tweepy sends `tweet_image`, and the
    /// developer tutorial `TWEET_IMAGE`.
    package init?(lenient text: String) {
        let folded = text.lowercased().filter { $0 != "_" }
        guard let category = Self.allCases.first(where: { $0.rawValue.filter { $0 != "_" } == folded }) else { return nil }
        self = category
    }

    /// The prefix of `media_key` ids for media of this category.
    var mediaKeyPrefix: String {
        switch self {
        case .tweetImage, .dmImage: "3"
        case .tweetGIF, .dmGIF: "16"
        case .tweetVideo, .dmVideo: "7"
        case .amplifyVideo: "13"
        case .subtitles: "21"
        }
    }

    var allowsLargeGIF: Bool { self == .tweetGIF || self == .dmGIF }
}
