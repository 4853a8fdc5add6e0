package import UploadMockJSON

extension UploadLimits: JSONReadable {
    /// The most any byte limit may be set to: v2's largest `total_bytes` (16 GiB), and small
    /// enough that a body limit derived from it cannot overflow.
    package static let ceiling = 16 * 1024 * 1024 * 1024
    /// One request's payload is held in memory: at most 1 GiB.
    package static let chunkCeiling = 1024 * 1024 * 1024
    /// Text parameters are held whole while a request streams in: at most 1 MiB each and 1,000
    /// of them, so one request's text stays under a gigabyte whatever the settings.
    package static let fieldCeiling = 1024 * 1024
    package static let fieldCountCeiling = 1000
    /// The text kept per upload is read whole into every admin report of it: at most 64 MiB.
    package static let uploadTextCeiling = 64 * 1024 * 1024

    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        self.init()
        chunkBytes = try reader.int("chunk_bytes", in: 1...Self.chunkCeiling) ?? chunkBytes
        imageBytes = try reader.int("image_bytes", in: 1...Self.chunkCeiling) ?? imageBytes
        gifBytes = try reader.int("gif_bytes", in: 1...Self.chunkCeiling) ?? gifBytes
        videoBytes = try reader.int("video_bytes", in: 1...Self.ceiling) ?? videoBytes
        syncVideoBytes = try reader.int("sync_video_bytes", in: 1...Self.ceiling) ?? syncVideoBytes
        maxSessions = try reader.int("max_sessions", in: 1...10_000_000) ?? maxSessions
        maxMemoryBytes = try reader.int("max_memory_bytes", in: 1...Int(Int64(1) << 40)) ?? maxMemoryBytes
        uploadTextBytes = try reader.int("upload_text_bytes", in: 1...Self.uploadTextCeiling) ?? uploadTextBytes
        fieldBytes = try reader.int("field_bytes", in: 1...Self.fieldCeiling) ?? fieldBytes
        maxFields = try reader.int("max_fields", in: 1...Self.fieldCountCeiling) ?? maxFields
    }
}

extension ProcessingSimulation: JSONReadable {
    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        self.init()
        checkAfterSeconds = try reader.int("check_after_secs", in: 0...86_400) ?? checkAfterSeconds
        pollsUntilDone = try reader.int("polls_until_done", in: 0...Int(Int32.max)) ?? pollsUntilDone
        durationSeconds = try reader.int("duration_secs", in: Self.durationRange)
        if let byCategory = reader.value("duration_secs_by_category") {
            durationSecondsByCategory = try Self.categoryDurations(byCategory, path: reader.name("duration_secs_by_category"))
        }
        result = try reader.choice("result") ?? result
        error = try reader.decode("error") ?? error
        errorState = try reader.choice("error_state") ?? errorState
        errorProgressPercent = try reader.int("error_progress_percent", in: 0...100) ?? errorProgressPercent
    }
}

extension ProcessingSimulation {
    /// Up to 68 years: any duration a test means, and one whose arithmetic cannot overflow.
    static let durationRange = 0...Int(Int32.max)

    /// `{"tweet_gif": 5, "AmplifyVideo": 600}`: categories read as INIT reads them, kept in snake_case.
    private static func categoryDurations(_ value: JSONValue, path: String) throws(ConfigurationError) -> [String: Int] {
        guard case .object(let object) = value else { throw ConfigurationError("\(path) must be an object of media_category: seconds") }
        var reader = try JSONReader(value, path: path)
        var durations: [String: Int] = [:]
        for name in object.members.map(\.key) {
            guard let category = MediaCategory(lenient: name) else {
                throw ConfigurationError("\(reader.name(name)) is not a media_category: expected one of \(MediaCategory.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            durations[category.rawValue] = try reader.int(name, in: durationRange)
        }
        return durations
    }
}

extension ProcessingError: JSONReadable, JSONWritable {
    /// `code` and `name` default to the default error's; a `message` left out stays out.
    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        let defaults = ProcessingSimulation().error
        self.init(code: try reader.int("code", in: Int(Int32.min)...Int(Int32.max)) ?? defaults.code,
                  name: try reader.string("name") ?? defaults.name,
                  message: try reader.string("message"))
    }

    package var json: JSONValue {
        var object: JSONObject = ["code": .int(Int64(code)), "name": .string(name)]
        if let message { object["message"] = .string(message) }
        return .object(object)
    }
}
