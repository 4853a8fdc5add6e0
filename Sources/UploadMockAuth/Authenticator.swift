import UploadMockForms
package import UploadMockHTTP

/// Decides who sent a request, by the configured mode; nil means anonymous (mode `none`).
package final class Authenticator: Sendable {
    static let realUploadHost = "https://upload.twitter.com"

    package let settings: AuthSettings
    private let oauth: OAuth1Verifier
    private let scheme: String

    package init(settings: AuthSettings, scheme: String) {
        self.settings = settings
        self.scheme = scheme
        oauth = OAuth1Verifier(users: settings.users, windowSeconds: settings.timestampWindowSeconds,
                               rejectsReplayedNonces: settings.rejectsReplayedNonces)
    }

    /// Whether urlencoded body parameters must be kept as text for signature checks.
    package var needsSignedBody: Bool { settings.mode == .oauth1 }

    /// `bodyParameters`: the urlencoded body's pairs as sent (multipart fields are not signed).
    package func authenticate(_ head: HTTPRequestHead, bodyParameters: [(name: String, value: String)]) throws(AuthFailure) -> String? {
        switch settings.mode {
        case .none:
            return nil
        case .bearer:
            let header = head.headers["authorization"] ?? ""
            guard header.lowercased().hasPrefix("bearer ") else { throw AuthFailure(reason: "no 'Authorization: Bearer …' header") }
            let token = header.dropFirst(7).trimmingASCIIWhitespace()
            guard let user = settings.users.first(where: { $0.bearerToken.map { $0[...] } == token }) else {
                throw AuthFailure(reason: "unknown bearer token")
            }
            return user.userID
        case .oauth1:
            let query: [(name: String, value: String)]
            do {
                query = try URLEncodedFormParser.parse(head.query)
            } catch {
                throw AuthFailure(reason: "the query string cannot be decoded")
            }
            var urls = [Self.realUploadHost + head.path]
            if let host = head.headers["host"] {
                urls.insert("\(scheme)://\(Self.normalizedAuthority(host, scheme: scheme))\(head.path)", at: 0)
            }
            return try oauth.verify(SignedRequest(method: head.method, baseURLs: urls, parameters: query + bodyParameters,
                                                  authorization: head.headers["authorization"]))
        }
    }

    /// RFC 5849 3.4.1.2: lowercase host, default ports left out.
    static func normalizedAuthority(_ host: String, scheme: String) -> String {
        let lowered = host.lowercased()
        let defaultPort = scheme == "https" ? ":443" : ":80"
        return lowered.hasSuffix(defaultPort) ? String(lowered.dropLast(defaultPort.count)) : lowered
    }
}
