/// Who may use the upload endpoints (README, Authentication; docs/configuration.md, `auth`).
public struct AuthSettings: Sendable, Equatable {
    /// How requests prove who sent them.
    public enum Mode: String, Sendable, CaseIterable {
        /// Any request is accepted (the default).
        case none
        /// OAuth 1.0a HMAC-SHA1 signatures, verified as the real service does.
        case oauth1
        /// `Authorization: Bearer <token>` of a configured user.
        case bearer
    }

    /// Default `none`.
    public var mode = Mode.none
    /// The accounts requests may authenticate as.
    public var users: [AuthUser] = []
    /// How far `oauth_timestamp` may be from the server's clock. Default 300.
    public var timestampWindowSeconds = 300
    /// Refuse an `oauth_nonce` seen before within the window, as the real service does. Default true.
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

