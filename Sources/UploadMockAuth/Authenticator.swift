import UploadMockForms
package import UploadMockHTTP

/// The kinds of credential an endpoint takes.
package struct AcceptedCredentials: OptionSet, Sendable {
    package let rawValue: Int

    package init(rawValue: Int) {
        self.rawValue = rawValue
    }

    /// OAuth 1.0a user context.
    package static let oauth1 = AcceptedCredentials(rawValue: 1)
    /// An OAuth 2.0 user token (`Authorization: Bearer`) of a configured user.
    package static let userBearer = AcceptedCredentials(rawValue: 2)
}

/// What authentication decided for one request.
package enum AuthOutcome: Sendable, Equatable {
    /// Go ahead; `user` is who signed it (nil when verification is off).
    case accepted(user: String?)
    /// A credential of a kind this endpoint never takes (the real service answers 403).
    case unsupported(reason: String)
    /// No credential, or an invalid one (401).
    case invalid(reason: String)
    /// A credential that breaks its protocol's syntax, such as a duplicated OAuth parameter
    /// (RFC 5849 §3.2: 400).
    case malformed(reason: String)
}

/// Decides who sent a request: recognises the credential it carries, refuses kinds the endpoint
/// does not take, and (when `auth.mode` verifies) checks it against the configured users.
package final class Authenticator: Sendable {
    package let settings: AuthSettings
    private let oauth: OAuth1Verifier
    private let scheme: String

    package init(settings: AuthSettings, scheme: String) {
        self.settings = settings
        self.scheme = scheme
        oauth = OAuth1Verifier(users: settings.users, windowSeconds: settings.timestampWindowSeconds,
                               rejectsReplayedNonces: settings.rejectsReplayedNonces,
                               maximumNonces: settings.maxRememberedNonces)
    }

    /// Whether urlencoded body parameters must be kept as text for signature checks.
    package var needsSignedBody: Bool { settings.mode.verifies }

    private enum Presented {
        case nothing
        case oauth1
        case userBearer(AuthUser)
        case appBearer
        case unknownBearer
    }

    /// - Parameters:
    ///   - bodyParameters: the urlencoded body's pairs as sent (multipart and JSON bodies are
    ///     never signed).
    ///   - realBaseURLs: the real service's origins a client may have signed for, e.g.
    ///     `https://upload.twitter.com`; the mock's own URL is always accepted too.
    package func authenticate(_ head: HTTPRequestHead, bodyParameters: [(name: String, value: String)],
                              accepts: AcceptedCredentials, realBaseURLs: [String]) -> AuthOutcome {
        let presented = Self.recognise(head.headers["authorization"], settings: settings)
        switch presented {
        case .appBearer:
            return .unsupported(reason: "an app-only bearer token was sent; this endpoint takes user context only")
        case .userBearer where !accepts.contains(.userBearer):
            return .unsupported(reason: "an OAuth 2.0 user bearer token was sent; this endpoint takes OAuth 1.0a user context only")
        default:
            break
        }
        guard settings.mode.verifies else { return .accepted(user: nil) }
        switch presented {
        case .nothing:
            return .invalid(reason: "no Authorization header")
        case .unknownBearer:
            return .invalid(reason: "unknown bearer token")
        case .userBearer(let user):
            return .accepted(user: user.userID)
        case .oauth1:
            guard accepts.contains(.oauth1) else { return .unsupported(reason: "OAuth 1.0a is not taken here") }
            return verifyOAuth1(head, bodyParameters: bodyParameters, realBaseURLs: realBaseURLs)
        case .appBearer:
            return .unsupported(reason: "an app-only bearer token was sent")
        }
    }

    /// The credential's scope, read whether or not authentication is on: the bearer token, or
    /// the `oauth_token` of an OAuth 1.0a header (unverified; only which token it is matters).
    /// Parallel test workers sharing one server each send their own, and see only what theirs
    /// did (README, Isolation).
    package static func scope(of head: HTTPRequestHead) -> String? {
        guard let header = head.headers["authorization"] else { return nil }
        if header.hasCaseInsensitivePrefix("bearer ") {
            let token = header.dropFirst(7).trimmingASCIIWhitespace()
            return token.isEmpty ? nil : String(token)
        }
        guard header.hasCaseInsensitivePrefix("oauth ") else { return nil }
        return OAuth1Verifier.token(inHeader: header.dropFirst(6))
    }

    private static func recognise(_ header: String?, settings: AuthSettings) -> Presented {
        guard let header else { return .nothing }
        if header.hasCaseInsensitivePrefix("oauth ") { return .oauth1 }
        guard header.hasCaseInsensitivePrefix("bearer ") else { return .nothing }
        let token = String(header.dropFirst(7).trimmingASCIIWhitespace())
        if settings.appBearerTokens.contains(token) { return .appBearer }
        if let user = settings.users.first(where: { $0.bearerToken == token }) { return .userBearer(user) }
        return .unknownBearer
    }

    private func verifyOAuth1(_ head: HTTPRequestHead, bodyParameters: [(name: String, value: String)],
                              realBaseURLs: [String]) -> AuthOutcome {
        let query: [(name: String, value: String)]
        do {
            query = try URLEncodedFormParser.parse(head.query)
        } catch {
            return .invalid(reason: "the query string cannot be decoded")
        }
        var urls = realBaseURLs.map { $0 + head.path }
        if let host = head.headers["host"] {
            urls.insert("\(scheme)://\(Self.normalizedAuthority(host, scheme: scheme))\(head.path)", at: 0)
        }
        do {
            let user = try oauth.verify(SignedRequest(method: head.method, baseURLs: urls, parameters: query + bodyParameters,
                                                      authorization: head.headers["authorization"]))
            return .accepted(user: user)
        } catch {
            return error.malformed ? .malformed(reason: error.reason) : .invalid(reason: error.reason)
        }
    }

    /// RFC 5849 3.4.1.2: lowercase host, default ports left out.
    static func normalizedAuthority(_ host: String, scheme: String) -> String {
        let lowered = host.lowercased()
        let defaultPort = scheme == "https" ? ":443" : ":80"
        return lowered.hasSuffix(defaultPort) ? String(lowered.dropLast(defaultPort.count)) : lowered
    }
}
