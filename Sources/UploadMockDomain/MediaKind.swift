/// What kind of media a declared `media_type` is, which decides limits and processing.
package enum MediaKind: String, Sendable {
    case image
    case gif
    case video
    case subtitles

    package init?(mediaType: String) {
        switch mediaType.lowercased() {
        case "image/jpeg", "image/jpg", "image/png", "image/webp", "image/bmp", "image/pjpeg":
            self = .image
        case "image/gif":
            self = .gif
        case "video/mp4", "video/quicktime", "video/mpeg", "video/webm":
            self = .video
        case "text/srt", "application/x-subrip":
            self = .subtitles
        default:
            return nil
        }
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

    /// The prefix of `media_key` ids for media of this category.
    var mediaKeyPrefix: String {
        switch self {
        case .tweetImage, .dmImage: "3"
        case .tweetGIF, .dmGIF: "16"
        case .tweetVideo, .amplifyVideo, .dmVideo: "7"
        case .subtitles: "21"
        }
    }

    var allowsLargeGIF: Bool { self == .tweetGIF || self == .dmGIF }
}
