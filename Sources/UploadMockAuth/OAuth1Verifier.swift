import Crypto
import Synchronization
import UploadMockForms
import UploadMockJSON
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a request was not authenticated: said in the journal so a developer can fix the client.
package struct AuthFailure: Error, Equatable {
    package var reason: String
    /// The request breaks the protocol's syntax (400) rather than failing a check (401).
    package var malformed = false
}

/// What OAuth 1.0a signs: the method, the URL without query, and the query and urlencoded
/// body parameters (never multipart fields), decoded.
struct SignedRequest {
    var method: String
    /// Base URLs the client may have signed for: the mock's own and the real service's.
    var baseURLs: [String]
    var parameters: [(name: String, value: String)]
    var authorization: String?
}

/// Verifies OAuth 1.0a HMAC-SHA1 signatures per RFC 5849, with a timestamp window and nonce
/// replay protection, as the real service does.
final class OAuth1Verifier: Sendable {
    private let users: [AuthUser]
    private let windowSeconds: Int
    private let rejectsReplayedNonces: Bool
    private let seenNonces: Mutex<NonceMemory>

    init(users: [AuthUser], windowSeconds: Int, rejectsReplayedNonces: Bool = true, maximumNonces: Int = 1_000_000) {
        seenNonces = Mutex(NonceMemory(capacity: maximumNonces))
        self.users = users
        self.windowSeconds = windowSeconds
        self.rejectsReplayedNonces = rejectsReplayedNonces
    }

    /// The user the request is signed by, or why it is not.
    func verify(_ request: SignedRequest, now: Date = Date()) throws(AuthFailure) -> String {
        guard let header = request.authorization, header.lowercased().hasPrefix("oauth ") else {
            throw AuthFailure(reason: "no 'Authorization: OAuth …' header")
        }
        let oauth = try Self.parseHeader(String(header.dropFirst(6)))
        var seenNames = Set<String>()
        let protocolNames = (oauth + request.parameters).map(\.name).filter { $0.hasPrefix("oauth_") }
        if let duplicate = protocolNames.first(where: { !seenNames.insert($0).inserted }) {
            throw AuthFailure(reason: "\(duplicate) is sent more than once (RFC 5849 §3.2 forbids duplicated protocol parameters)",
                              malformed: true)
        }
        func required(_ name: String) throws(AuthFailure) -> String {
            guard let value = oauth.first(where: { $0.name == name })?.value else {
                throw AuthFailure(reason: "the Authorization header has no \(name)")
            }
            return value
        }
        let signature = try required("oauth_signature")
        let method = try required("oauth_signature_method")
        guard method == "HMAC-SHA1" else { throw AuthFailure(reason: "oauth_signature_method is \(method), not HMAC-SHA1") }
        if let version = oauth.first(where: { $0.name == "oauth_version" })?.value, version != "1.0" {
            throw AuthFailure(reason: "oauth_version is \(version), not 1.0")
        }
        let consumerKey = try required("oauth_consumer_key")
        let token = try required("oauth_token")
        let nonce = try required("oauth_nonce")
        let timestampText = try required("oauth_timestamp")
        // One app (consumer key) usually has many users: the token picks the user.
        let appUsers = users.filter { $0.consumerKey == consumerKey }
        guard !appUsers.isEmpty else { throw AuthFailure(reason: "unknown oauth_consumer_key \(consumerKey)") }
        guard let user = appUsers.first(where: { $0.token == token }) else {
            throw AuthFailure(reason: "unknown oauth_token \(token) for consumer \(consumerKey)")
        }
        // Digits only, so no value a client sends can overflow the arithmetic below.
        guard let timestamp = Int64(decimal: timestampText), timestamp < Int64(Int32.max) * 4 else {
            throw AuthFailure(reason: "oauth_timestamp \(timestampText) is not a plausible count of seconds since 1970")
        }
        let skew = Int(timestamp) - Int(now.timeIntervalSince1970)
        guard abs(skew) <= windowSeconds else {
            throw AuthFailure(reason: "oauth_timestamp is \(skew) s from the server clock (allowed: ±\(windowSeconds) s)")
        }

        let signed = oauth.filter { $0.name != "oauth_signature" && $0.name != "realm" } + request.parameters
        let normalized = Self.normalize(signed)
        let key = Self.encode(user.consumerSecret ?? "") + "&" + Self.encode(user.tokenSecret ?? "")
        let baseStrings = request.baseURLs.map { Self.baseString(method: request.method, url: $0, normalized: normalized) }
        guard baseStrings.contains(where: { Self.sign($0, key: key) == signature }) else {
            throw AuthFailure(reason: "signature mismatch: expected HMAC-SHA1 of \(baseStrings.first ?? "")"
                + " (multipart fields are never signed; query and urlencoded body parameters are)")
        }
        if rejectsReplayedNonces { try remember(nonce: "\(consumerKey) \(token) \(nonce)", now: now) }
        return user.userID
    }

    private func remember(nonce: String, now: Date) throws(AuthFailure) {
        // A nonce is remembered for twice the timestamp window: any request older than that is
        // refused for its timestamp anyway.
        let horizon = now.addingTimeInterval(-TimeInterval(2 * windowSeconds))
        let replayed = seenNonces.withLock { $0.insert(nonce, at: now, forgettingBefore: horizon) == false }
        if replayed { throw AuthFailure(reason: "oauth_nonce was already used (a replayed request)") }
    }

    /// `oauth_consumer_key="k", oauth_nonce="n"` → decoded pairs.
    static func parseHeader(_ text: String) throws(AuthFailure) -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        for piece in text.split(separator: ",") {
            let (name, rawValue) = MultipartParser.nameAndValue(piece)
            guard !name.isEmpty else { continue }
            guard let value = try? URLEncodedFormParser.percentDecode(Substring(rawValue), plusIsSpace: false) else {
                throw AuthFailure(reason: "the Authorization header value of \(name) has an invalid percent-escape")
            }
            pairs.append((name, value))
        }
        return pairs
    }

    /// The `oauth_token` of an OAuth header's parameters (the text after `OAuth `) as
    /// `parseHeader` reads them: nil when there is none, or when any value has an invalid
    /// percent-escape. Only that value is decoded, as every request's scope is read from it
    /// and the whole parse allocated about 70 times per request.
    static func token(inHeader text: Substring) -> String? {
        let bytes = Array(text.utf8)
        var token: ArraySlice<UInt8>?
        var start = bytes.startIndex
        while start <= bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: ",")) ?? bytes.endIndex
            let (name, value) = MultipartParser.nameAndValue(bytes: bytes[start..<end])
            start = end + 1
            guard !name.isEmpty else { continue }
            guard URLEncodedFormParser.hasValidEscapes(value) else { return nil }
            if token == nil, name.elementsEqual("oauth_token".utf8) { token = value }
        }
        return token.map { String(decoding: URLEncodedFormParser.percentDecodedBytes(Array($0), plusIsSpace: false) ?? [], as: UTF8.self) }
    }

    /// RFC 5849 3.4.1.3.2: encode each name and value, sort by name then value, join.
    static func normalize(_ parameters: [(name: String, value: String)]) -> String {
        let encoded: [(name: String, value: String)] = parameters.map { (encode($0.name), encode($0.value)) }
        let sorted = encoded.sorted { lhs, rhs in lhs.name == rhs.name ? lhs.value < rhs.value : lhs.name < rhs.name }
        return sorted.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
    }

    static func baseString(method: String, url: String, normalized: String) -> String {
        "\(method.uppercased())&\(encode(url))&\(encode(normalized))"
    }

    static func sign(_ baseString: String, key: String) -> String {
        let code = HMAC<Insecure.SHA1>.authenticationCode(for: Array(baseString.utf8), using: SymmetricKey(data: Array(key.utf8)))
        return Data(code).base64EncodedString()
    }

    /// RFC 3986 percent-encoding, as RFC 5849 §3.6 asks.
    static func encode(_ text: String) -> String {
        URLEncodedFormParser.percentEncode(text)
    }
}

/// The nonces seen within the replay horizon. Insertion order is arrival order, so expired
/// nonces are dropped from the front: O(1) amortized per request however many are kept. Past
/// `capacity` the oldest are forgotten early (a replay of one of them would then pass).
struct NonceMemory {
    private var seen: [String: Date] = [:]
    private var arrivals: [(nonce: String, time: Date)] = []
    /// Where the oldest live arrival is; the prefix before it is compacted away in bulk.
    private var head = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { seen.count }

    /// Remembers `nonce`; false when it was already seen since `horizon`.
    mutating func insert(_ nonce: String, at now: Date, forgettingBefore horizon: Date) -> Bool {
        while head < arrivals.count, arrivals[head].time <= horizon || seen.count >= capacity {
            let oldest = arrivals[head]
            if seen[oldest.nonce] == oldest.time { seen[oldest.nonce] = nil }
            head += 1
        }
        if head > 1024, head * 2 > arrivals.count {
            arrivals.removeFirst(head)
            head = 0
        }
        if let earlier = seen[nonce], earlier > horizon { return false }
        seen[nonce] = now
        arrivals.append((nonce, now))
        return true
    }
}
