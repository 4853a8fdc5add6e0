public import UploadMockChaos

/// Named scenarios from Swift (docs/faults.md, Scenarios): install one, and its rules join the
/// fault rules and rate limits in force; remove it, and they go.
///
/// ```swift
/// let installed = try mock.scenarios.install("lost-responses")
/// // … run the client under test …
/// try mock.scenarios.remove("lost-responses")
/// try mock.scenarios.scoped(to: "worker-7").install("flaky-uplink")   // that credential's requests only
/// ```
public struct UploadMockScenarios: Sendable {
    private let application: MockApplication
    /// The credential whose requests the rules installed here apply to (the token they carry);
    /// nil: everyone's.
    public let scope: String?

    init(_ application: MockApplication, scope: String?) {
        self.application = application
        self.scope = scope
    }

    /// The same scenarios, installed for one credential's requests alone.
    public func scoped(to token: String) -> UploadMockScenarios {
        UploadMockScenarios(application, scope: token)
    }

    /// Every scenario the server knows: the shipped ones, then `scenariosDirectory`'s.
    public var all: [Scenario] { application.scenarios.scenarios }

    /// Installs a scenario's rules after those in force, in place of what it installed in
    /// this scope before; throws, changing nothing, for an unknown name or too many rules.
    @discardableResult
    public func install(_ name: String) throws(ScenarioError) -> InstalledScenario {
        try application.installScenario(name, in: scope)
    }

    /// Removes the rules the scenario installed (unscoped: in every scope).
    public func remove(_ name: String) throws(ScenarioError) {
        try application.removeScenario(name, in: scope)
    }

    /// The names of the scenarios with rules in force here.
    public var installed: Set<String> { application.installedScenarios(in: scope) }
}
