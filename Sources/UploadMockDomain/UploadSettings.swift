/// Byte limits, as the real service applies them; every one can be configured
/// (docs/configuration.md, `limits`).
public struct UploadLimits: Sendable, Equatable {
    /// The most one APPEND may carry, measured on the parameter as sent (base64 text for
    /// `media_data`). Default 5 MiB.
    public var chunkBytes = 5 * 1024 * 1024
    /// `total_bytes` limit for images. Default 5 MiB.
    public var imageBytes = 5 * 1024 * 1024
    /// `total_bytes` limit for GIFs sent with a GIF `media_category`. Default 15 MiB.
    public var gifBytes = 15 * 1024 * 1024
    /// `total_bytes` limit for videos (and 3D models). Default 512 MiB.
    public var videoBytes = 512 * 1024 * 1024
    /// The largest video the real service finalizes without a `media_category`. Default 15 MiB.
    public var syncVideoBytes = 15 * 1024 * 1024
    /// Uploads kept at once; INIT past it is refused (expired ones are evicted first). Default 100,000.
    public var maxSessions = 100_000
    /// Everything held in memory for clients, over all uploads: segments (spooled ones,
    /// `--storage-dir`, do not count), each upload's text, and request bodies still arriving.
    /// What would pass it is refused with 503, never the process killed. Nil (the default)
    /// derives it at start from the machine: half of the cgroup's memory limit or of physical
    /// memory, whichever is lower, less 32 MiB for the server itself, at most 4 GiB
    /// (`memoryCeiling`); docs/configuration.md, Bounds.
    public var maxMemoryBytes: Int?
    /// The text kept per upload: alt text, `/2/media/metadata` fields, subtitle tracks'
    /// language codes and display names (see `UploadText.bytes` for how it is measured). A
    /// request that would keep more is refused with 400. Default 256 KiB.
    public var uploadTextBytes = 256 * 1024
    /// The longest text parameter (anything but `media`/`media_data`) one request may carry.
    /// Default 64 KiB.
    public var fieldBytes = 64 * 1024
    /// Parameters one request may carry, query and body together. Real requests send about a
    /// dozen; the bound keeps a body of thousands of tiny fields from pinning memory. Default 100.
    public var maxFields = 100

    /// The real service's limits.
    public init() {}

    /// The most `maxMemoryBytes` defaults to, however much memory the machine has: 4 GiB.
    public static let memoryCeiling = 4 * 1024 * 1024 * 1024

    /// The largest payload one request may carry: an APPEND's chunk or a one-shot image or GIF.
    package var largestPayloadBytes: Int { max(chunkBytes, imageBytes, gifBytes) }

    /// Room in a request body for everything but the payload: the other parameters and the
    /// form's framing.
    package var bodyOverheadBytes: Int { max(64 * 1024, fieldBytes) }

    func maximumBytes(for kind: MediaKind, category: MediaCategory?) -> Int {
        switch kind {
        case .image, .subtitles: imageBytes
        case .gif: category?.allowsLargeGIF == true ? gifBytes : imageBytes
        case .video, .model: videoBytes
        }
    }
}

/// How FINALIZE and STATUS pretend to transcode videos and GIFs (docs/configuration.md,
/// `processing`).
public struct ProcessingSimulation: Sendable, Equatable {
    /// How processing ends.
    public enum Result: String, Sendable, Equatable, CaseIterable {
        case succeeded
        case failed
    }

    /// Told to clients in `processing_info.check_after_secs`. Default 1.
    public var checkAfterSeconds = 1
    /// STATUS polls until the result: earlier polls answer `in_progress`. Default 2. Unused
    /// for media whose processing is timed (`durationSeconds`).
    public var pollsUntilDone = 2
    /// Processing takes this long on the mock's clock after FINALIZE (docs/clock.md), however
    /// often STATUS polls; nil counts polls instead (`pollsUntilDone`). Default nil.
    public var durationSeconds: Int?
    /// Durations for media of one `media_category` (snake_case: `tweet_video`, `tweet_gif`,
    /// `amplify_video`, …), in place of `durationSeconds`. Default none.
    public var durationSecondsByCategory: [String: Int] = [:]
    /// Default `succeeded`.
    public var result = Result.succeeded
    /// The `processing_info.error` object when `result` is `failed`.
    public var error = ProcessingError(code: 1, name: "InvalidMedia", message: "Unsupported video format")
    /// The `state` reported beside the error: the real service has been recorded answering
    /// both `failed` and, indefinitely, `in_progress` with an `error` attached.
    public var errorState = ErrorState.failed
    /// `progress_percent` once processing failed (recorded: 12, 99 and 100). Default 100.
    public var errorProgressPercent = 100

    /// Which `state` STATUS reports once processing failed.
    public enum ErrorState: String, Sendable, Equatable, CaseIterable {
        /// `failed`, as the STATUS reference documents.
        case failed
        /// `in_progress` with the `error` object, forever: only clients that check `error`
        /// stop polling.
        case inProgress = "in_progress"
    }

    /// Processing succeeds after two STATUS polls.
    public init() {}
}

/// The `processing_info.error` object of failed processing.
public struct ProcessingError: Sendable, Equatable {
    /// `code`, e.g. 1.
    public var code: Int
    /// `name`, e.g. `InvalidMedia`.
    public var name: String
    /// `message`, e.g. `Unsupported video format`; nil leaves it out, as the real service
    /// sometimes does.
    public var message: String?

    /// An error object.
    public init(code: Int, name: String, message: String? = nil) {
        self.code = code
        self.name = name
        self.message = message
    }
}

/// Everything the upload domain can be told at startup.
public struct UploadSettings: Sendable, Equatable {
    /// Byte limits.
    public var limits = UploadLimits()
    /// How long a media id stays usable after INIT (and after FINALIZE). Default 86400.
    public var expiresAfterSeconds = 86_400
    /// The same for `amplify_video`, whose media the real service keeps 15 days
    /// (recorded 1296000; docs/fidelity.md). Default 1,296,000.
    public var amplifyVideoExpiresAfterSeconds = 1_296_000
    /// How processing is simulated.
    public var processing = ProcessingSimulation()
    /// Spool segments to files here instead of keeping them in memory (`--storage-dir`).
    public var storageDirectory: String?

    public init() {}

    /// How long media of this category stays usable.
    package func expiresAfterSeconds(for category: MediaCategory?) -> Int {
        category == .amplifyVideo ? amplifyVideoExpiresAfterSeconds : expiresAfterSeconds
    }
}
