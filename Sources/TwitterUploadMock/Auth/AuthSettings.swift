/// Who may use the upload endpoint (SPEC section 6).
public struct AuthSettings: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Any request is accepted (the default).
        case none
        /// OAuth 1.0a HMAC-SHA1 signatures, verified as the real service does.
        case oauth1
        /// `Authorization: Bearer <token>` of a configured user.
        case bearer
    }

    public var mode = Mode.none
    public var users: [AuthUser] = []
    /// How far `oauth_timestamp` may be from the server's clock.
    public var timestampWindowSeconds = 300
    /// Refuse an `oauth_nonce` seen before within the window, as the real service does.
    public var rejectsReplayedNonces = true

    public init() {}
}

/// One account: OAuth 1.0a consumer and access credentials, and/or a bearer token.
public struct AuthUser: Sendable, Equatable {
    public var userID: String
    public var consumerKey: String?
    public var consumerSecret: String?
    public var token: String?
    public var tokenSecret: String?
    public var bearerToken: String?

    public init(userID: String, consumerKey: String? = nil, consumerSecret: String? = nil, token: String? = nil,
                tokenSecret: String? = nil, bearerToken: String? = nil) {
        self.userID = userID
        self.consumerKey = consumerKey
        self.consumerSecret = consumerSecret
        self.token = token
        self.tokenSecret = tokenSecret
        self.bearerToken = bearerToken
    }
}

extension AuthSettings {
    init(reader: inout JSONReader) throws(JSONReadError) {
        self.init()
        if let value = try reader.string("mode") {
            guard let parsed = Mode(rawValue: value) else {
                throw JSONReadError("auth.mode must be one of \(Mode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            mode = parsed
        }
        timestampWindowSeconds = try reader.int("timestamp_window_secs", in: 1...Int(Int32.max)) ?? timestampWindowSeconds
        rejectsReplayedNonces = try reader.bool("reject_replayed_nonces") ?? rejectsReplayedNonces
        for (index, value) in (try reader.array("users") ?? []).enumerated() {
            var user = try JSONReader(value, path: reader.element(index, of: "users"))
            guard let id = try user.string("user_id") else { throw JSONReadError("\(user.path).user_id is required") }
            users.append(AuthUser(userID: id, consumerKey: try user.string("consumer_key"),
                                  consumerSecret: try user.string("consumer_secret"), token: try user.string("token"),
                                  tokenSecret: try user.string("token_secret"), bearerToken: try user.string("bearer_token")))
            try user.finish()
        }
        try reader.finish()
        if mode != .none, users.isEmpty { throw JSONReadError("auth.mode \(mode.rawValue) needs at least one entry in auth.users") }
    }
}
