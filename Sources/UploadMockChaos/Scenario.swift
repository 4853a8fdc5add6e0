/// A named rehearsal of one way uploads fail in production (docs/faults.md, Scenarios): fault
/// rules and rate limits, installed together and removed together. Scenarios are data, read
/// from `NAME.json` files in the shapes the admin API and the config file take.
///
/// ```swift
/// try mock.scenarios.install("lost-responses")   // the first APPEND of each segment is stored, its answer lost
/// ```
public struct Scenario: Sendable, Equatable {
    /// Lowercase letters, digits and dashes, as the file is named and the admin API's path says it.
    public var name: String
    /// What it rehearses, for people.
    public var description: String
    /// Tried after the rules already in force; `id` and `scope` are assigned at installation.
    public var faults: [FaultRule]
    /// Counted beside the rate limits already in force.
    public var rateLimits: [RateLimitRule]

    /// A scenario; its name must be valid (`isValidName`).
    public init(name: String, description: String, faults: [FaultRule] = [], rateLimits: [RateLimitRule] = []) {
        self.name = name
        self.description = description
        self.faults = faults
        self.rateLimits = rateLimits
    }

    /// The rules as installed for `scope` (nil: for everyone), each marked with the scenario's name.
    package func installableRules(in scope: String?) -> (faults: [FaultRule], rateLimits: [RateLimitRule]) {
        (faults.map { rule in
            var rule = rule
            rule.scope = scope
            rule.scenario = name
            return rule
        }, rateLimits.map { rule in
            var rule = rule
            rule.scope = scope
            rule.scenario = name
            return rule
        })
    }

    /// The longest name: one path segment of the admin API, short enough to read in a list.
    public static let maximumNameLength = 64

    /// `lost-responses`: 1 to 64 lowercase ASCII letters, digits and dashes, starting with a
    /// letter or digit, so a name is a file name and a URL path segment as it stands.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= maximumNameLength, first != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") }
    }
}
