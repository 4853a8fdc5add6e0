/// Who may use the upload endpoints (README, Authentication; docs/configuration.md, `auth`).
public struct AuthSettings: Sendable, Equatable {
    /// How requests prove who sent them.
    public enum Mode: String, Sendable, CaseIterable {
        /// No credential is verified (the default). A credential of a kind the endpoint never
        /// takes is still refused: a user's bearer token on v1.1, an app-only token anywhere.
        case none
        /// Every request must carry a valid credential of a kind its endpoint takes: OAuth 1.0a
        /// on v1.1; OAuth 1.0a or a user's OAuth 2.0 bearer token on v2.
        case verify
        /// The first version's name for `verify`, kept so existing config files still work.
        case oauth1
        /// The first version's name for `verify`, kept so existing config files still work.
        case bearer

        /// Whether credentials are checked.
        package var verifies: Bool { self != .none }
    }

    /// Default `none`.
    public var mode = Mode.none
    /// The accounts requests may authenticate as.
    public var users: [AuthUser] = []
    /// App-only (OAuth 2.0 client credentials) bearer tokens: recognised so that they get the
    /// real service's 403, never accepted.
    public var appBearerTokens: [String] = []
    /// How far `oauth_timestamp` may be from the server's clock. Default 300.
    public var timestampWindowSeconds = 300
    /// Refuse an `oauth_nonce` seen before within the window, as the real service does. Default true.
    public var rejectsReplayedNonces = true
    /// Nonces remembered at most (the oldest are forgotten first). Default 1,000,000.
    public var maxRememberedNonces = 1_000_000

    /// No verification, no users.
    public init() {}
}

/// One account: OAuth 1.0a consumer and access credentials, and/or a bearer token.
public struct AuthUser: Sendable, Equatable {
    /// Who owns the media this user uploads; named in reports and the journal.
    public var userID: String
    /// OAuth 1.0a consumer (app) key.
    public var consumerKey: String?
    /// OAuth 1.0a consumer (app) secret.
    public var consumerSecret: String?
    /// OAuth 1.0a access token.
    public var token: String?
    /// OAuth 1.0a access token secret.
    public var tokenSecret: String?
    /// An OAuth 2.0 user access token (`Authorization: Bearer`), taken by v2 endpoints.
    public var bearerToken: String?

    /// One account; give OAuth 1.0a credentials, a bearer token, or both.
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

