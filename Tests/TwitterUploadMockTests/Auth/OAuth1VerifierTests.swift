import Foundation
import Testing
@testable import UploadMockAuth

@Suite("OAuth 1.0a")
struct OAuth1VerifierTests {
    /// The worked example of X's "Creating a signature" documentation.
    @Test("the documented example signs to the documented signature")
    func documentedExample() {
        let parameters: [(name: String, value: String)] = [
            ("status", "Hello Ladies + Gentlemen, a signed OAuth request!"), ("include_entities", "true"),
            ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"), ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            ("oauth_signature_method", "HMAC-SHA1"), ("oauth_timestamp", "1318622958"),
            ("oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"), ("oauth_version", "1.0"),
        ]
        let base = OAuth1Verifier.baseString(method: "post", url: "https://api.twitter.com/1.1/statuses/update.json",
                                             normalized: OAuth1Verifier.normalize(parameters))
        #expect(base.hasPrefix("POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key"))
        #expect(base.contains("status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"))
        let key = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw&LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
        #expect(OAuth1Verifier.sign(base, key: key) == "hCtSmYh+iHYCEqBWrE7C7hYmtUk=")
    }

    @Test("a request's scope reads oauth_token as the whole header parse does, decoding nothing else")
    func tokenAsParsed() {
        let headers: [Substring] = [
            #"oauth_consumer_key="ck", oauth_nonce="n", oauth_signature="tnnArxj06cWHq44gCs1OSKk%2FjY%3D", oauth_token="370773112-Gm%2BHx""#,
            #"oauth_token=plain, oauth_token="second""#,
            #" , =x, oauth_token = "a\"quoted\\" , realm="""#,
            #"oauth_token="t", oauth_signature="bad%2""#,
            #"oauth_token="t%zz""#,
            #"oauth_nonce="n%41""#,
            #"oauth_token="%E2%9C%93 tick+plus""#,
            "",
            ",,,",
        ]
        for header in headers {
            let parsed = (try? OAuth1Verifier.parseHeader(String(header))).map { $0.first { $0.name == "oauth_token" }?.value }
            #expect(OAuth1Verifier.token(inHeader: header) == parsed ?? nil, "\(header)")
        }
        #expect(OAuth1Verifier.token(inHeader: #"oauth_token="370773112-Gm%2BHx""#) == "370773112-Gm+Hx")
    }

    @Test("percent-encoding keeps only unreserved characters")
    func encoding() {
        #expect(OAuth1Verifier.encode("Ladies + Gentlemen/~é") == "Ladies%20%2B%20Gentlemen%2F~%C3%A9")
    }

    @Test("each failed check says which one")
    func reasons() throws {
        let user = AuthUser(userID: "1", consumerKey: "ck", consumerSecret: "cs", token: "t", tokenSecret: "ts")
        let verifier = OAuth1Verifier(users: [user], windowSeconds: 300)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        func request(_ header: String?) -> SignedRequest {
            SignedRequest(method: "POST", baseURLs: ["http://127.0.0.1:1/x"], parameters: [], authorization: header)
        }
        func signedHeader(nonce: String, timestamp: Int) -> String {
            let oauth: [(name: String, value: String)] = [("oauth_consumer_key", "ck"), ("oauth_nonce", nonce),
                ("oauth_signature_method", "HMAC-SHA1"), ("oauth_timestamp", String(timestamp)), ("oauth_token", "t")]
            let signature = OAuth1Verifier.sign(OAuth1Verifier.baseString(method: "POST", url: "http://127.0.0.1:1/x",
                                                                         normalized: OAuth1Verifier.normalize(oauth)), key: "cs&ts")
            return "OAuth " + (oauth + [("oauth_signature", signature)])
                .map { "\($0.name)=\"\(OAuth1Verifier.encode($0.value))\"" }.joined(separator: ", ")
        }
        #expect(try verifier.verify(request(signedHeader(nonce: "n1", timestamp: 1_700_000_000)), now: now) == "1")
        #expect(throws: AuthFailure(reason: "oauth_nonce was already used (a replayed request)")) {
            try verifier.verify(request(signedHeader(nonce: "n1", timestamp: 1_700_000_000)), now: now)
        }
        #expect(throws: AuthFailure(reason: "oauth_timestamp is -301 s from the server clock (allowed: ±300 s)")) {
            try verifier.verify(request(signedHeader(nonce: "n2", timestamp: 1_699_999_699)), now: now)
        }
        #expect(throws: AuthFailure(reason: "no 'Authorization: OAuth …' header")) { try verifier.verify(request(nil), now: now) }
    }

    @Test("timestamps that would overflow the clock arithmetic are refused, not trapped on",
          arguments: ["-9223372036854775808", "9223372036854775807", "99999999999999999999", "-1", "1e9", " 1700000000"])
    func hostileTimestamps(_ timestamp: String) {
        let user = AuthUser(userID: "1", consumerKey: "ck", consumerSecret: "cs", token: "t", tokenSecret: "ts")
        let verifier = OAuth1Verifier(users: [user], windowSeconds: 300)
        let header = "OAuth oauth_consumer_key=\"ck\", oauth_nonce=\"n\", oauth_signature=\"x\", oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"\(OAuth1Verifier.encode(timestamp))\", oauth_token=\"t\""
        let request = SignedRequest(method: "POST", baseURLs: ["http://127.0.0.1:1/x"], parameters: [], authorization: header)
        #expect(throws: AuthFailure.self) { try verifier.verify(request, now: Date(timeIntervalSince1970: 1_700_000_000)) }
    }

    @Test("nonces expire from the front in constant time, and their number is bounded")
    func nonceMemory() {
        var memory = NonceMemory(capacity: 1_000)
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        let first = memory.insert("a", at: start, forgettingBefore: start - 600)
        let replay = memory.insert("a", at: start + 1, forgettingBefore: start - 599)
        #expect(first && !replay, "a replay within the horizon is caught")
        for second in 0..<200_000 {
            let now = start + Double(second) / 100
            _ = memory.insert("n\(second)", at: now, forgettingBefore: now - 600)
        }
        #expect(memory.count <= 1_000)
        let later = memory.insert("a", at: start + 2_000, forgettingBefore: start + 1_400)
        #expect(later, "forgotten once past the horizon")
    }
}
