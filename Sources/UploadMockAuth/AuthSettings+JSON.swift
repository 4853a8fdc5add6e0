package import UploadMockJSON

extension AuthSettings: JSONReadable {
    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        self.init()
        mode = try reader.choice("mode") ?? mode
        timestampWindowSeconds = try reader.int("timestamp_window_secs", in: 1...Int(Int32.max)) ?? timestampWindowSeconds
        rejectsReplayedNonces = try reader.bool("reject_replayed_nonces") ?? rejectsReplayedNonces
        maxRememberedNonces = try reader.int("max_remembered_nonces", in: 1...100_000_000) ?? maxRememberedNonces
        users = try reader.decodeArray("users") ?? []
        for (index, token) in (try reader.array("app_bearer_tokens") ?? []).enumerated() {
            guard case .string(let text) = token else {
                throw ConfigurationError("\(reader.name("app_bearer_tokens"))[\(index)] must be a string")
            }
            appBearerTokens.append(text)
        }
        try reader.finish()
        if mode.verifies, users.isEmpty {
            throw ConfigurationError("\(reader.name("mode")) \(mode.rawValue) needs at least one entry in \(reader.name("users"))")
        }
    }
}

extension AuthUser: JSONReadable {
    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        let id = try reader.string("user_id")
        self.init(userID: id ?? "", consumerKey: try reader.string("consumer_key"), consumerSecret: try reader.string("consumer_secret"),
                  token: try reader.string("token"), tokenSecret: try reader.string("token_secret"),
                  bearerToken: try reader.string("bearer_token"))
        try reader.finish()
        if id == nil { throw ConfigurationError("\(reader.name("user_id")) is required") }
    }
}
