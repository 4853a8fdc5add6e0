package import UploadMockJSON

extension RateLimitRule: JSONReadable, JSONWritable {
    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        let match = try JSONReader.decode(RequestMatch.self, from: reader.value("match") ?? .object([:]), path: reader.name("match"))
        let limit = try reader.int("limit", in: 0...Int(Int32.max))
        let window = try reader.int("window_secs", in: 1...Int(Int32.max)) ?? 900
        let per: Scope = try reader.choice("per") ?? .user
        let scope = try reader.string("scope")
        try reader.finish()  // a misspelt key is the likelier mistake: name it first
        guard let limit else { throw ConfigurationError("\(reader.name("limit")) is required") }
        self.init(match: match, limit: limit, windowSeconds: window, per: per)
        self.scope = scope
    }

    package var json: JSONValue {
        .object(["id": .string(id), "match": match.json, "limit": .int(Int64(limit)),
                 "window_secs": .int(Int64(windowSeconds)), "per": .string(per.rawValue),
                 "scope": scope.map { .string($0) } ?? .null, "scenario": scenario.map { .string($0) } ?? .null])
    }
}
