package import UploadMockJSON

/// A scenario file (docs/faults.md, Scenarios): `{"name", "description", "faults", "rate_limits"}`,
/// its rules in exactly the shapes `POST /__admin/faults` and `POST /__admin/rate-limits` take.
extension Scenario: JSONReadable, JSONWritable {
    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        guard let name = try reader.string("name") else { throw ConfigurationError("\(reader.name("name")) is required") }
        guard Self.isValidName(name) else {
            throw ConfigurationError("\(reader.name("name")) must be 1 to \(Self.maximumNameLength) lowercase letters, digits and dashes, starting with a letter or digit, not '\(name)'")
        }
        guard let description = try reader.string("description"), !description.isEmpty else {
            throw ConfigurationError("\(reader.name("description")) is required: say what the scenario rehearses")
        }
        let faults: [FaultRule] = try reader.decodeArray("faults") ?? []
        let rateLimits: [RateLimitRule] = try reader.decodeArray("rate_limits") ?? []
        try reader.finish()
        guard !faults.isEmpty || !rateLimits.isEmpty else {
            throw ConfigurationError("\(reader.path.isEmpty ? "the scenario" : reader.path) needs at least one rule in faults or rate_limits")
        }
        // The call that installs a scenario decides whose requests its rules apply to.
        let scoped = faults.firstIndex { $0.scope != nil }.map { reader.name("faults[\($0)].scope") }
            ?? rateLimits.firstIndex { $0.scope != nil }.map { reader.name("rate_limits[\($0)].scope") }
        if let scoped {
            throw ConfigurationError("\(scoped): a scenario's rules take their scope from the call that installs it (X-Mock-Scope); leave scope out")
        }
        self.init(name: name, description: description, faults: faults, rateLimits: rateLimits)
    }

    /// What `GET /__admin/scenarios` lists: the rules in the shapes the admin API takes, without
    /// the `id`, `scope` and `scenario` that installing gives them.
    package var json: JSONValue {
        func input(_ rule: JSONValue) -> JSONValue {
            var object = rule.objectOrEmpty
            for key in ["id", "scope", "scenario"] { object[key] = nil }
            return .object(object)
        }
        return .object(["name": .string(name), "description": .string(description),
                        "faults": .array(faults.map { input($0.json) }),
                        "rate_limits": .array(rateLimits.map { input($0.json) })])
    }
}
