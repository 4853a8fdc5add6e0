public import UploadMockChaos
import UploadMockDomain
import UploadMockJSON

/// A scenario as installed: its rules with the ids that `DELETE /__admin/faults/{id}` (and
/// `/rate-limits/{id}`) take, each marked with the scenario's name.
public struct InstalledScenario: Sendable, Equatable {
    /// The scenario installed.
    public var scenario: Scenario
    /// The credential whose requests alone its rules apply to; nil: everyone's.
    public var scope: String?
    /// Its fault rules as now in force, after the rules that were there before.
    public var faults: [FaultRule]
    /// Its rate limits as now in force, beside the others.
    public var rateLimits: [RateLimitRule]
}

extension MockApplication {
    /// Installs the scenario called `name` for `scope` (nil: everyone), after the rules in
    /// force. What it installed in that very scope before goes first, so installing twice leaves
    /// one copy. All or nothing: a rule this server's limits make unusable, or more rules than
    /// `admin.max_rules`, change nothing.
    func installScenario(_ name: String, in scope: String?) throws(ScenarioError) -> InstalledScenario {
        let scenario = try scenarios.lookUp(name)
        do {
            try scenario.checkBodyReach(limits: uploads.settings.limits)
        } catch {
            throw .unusable(error.message)
        }
        let rules = scenario.installableRules(in: scope)
        let previousFaults = { (rule: FaultRule) in rule.scenario == name && rule.scope == scope }
        let previousLimits = { (rule: RateLimitRule) in rule.scenario == name && rule.scope == scope }
        let faultRules = faults.rules, limitRules = rateLimiter.rules
        for (kind, inForce, replaced, added) in [
            ("fault rules", faultRules.count, faultRules.count(where: previousFaults), rules.faults.count),
            ("rate limits", limitRules.count, limitRules.count(where: previousLimits), rules.rateLimits.count),
        ] where inForce - replaced + added > configuration.maxAdminRules {
            throw .tooManyRules("at most \(configuration.maxAdminRules) \(kind) may be in force (admin.max_rules): "
                + "\(inForce) are, and scenario \(name) adds \(added)\(replaced > 0 ? " in place of \(replaced)" : "")")
        }
        faults.removeAll(where: previousFaults)
        rateLimiter.removeAll(where: previousLimits)
        return InstalledScenario(scenario: scenario, scope: scope, faults: rules.faults.map { faults.add($0) },
                                 rateLimits: rules.rateLimits.map { rateLimiter.add($0) })
    }

    /// Removes the rules the scenario called `name` installed that `scope` sees (nil: in every
    /// scope), whether any are in force or not.
    func removeScenario(_ name: String, in scope: String?) throws(ScenarioError) {
        _ = try scenarios.lookUp(name)
        faults.removeAll { $0.scenario == name && (scope == nil || $0.scope == scope) }
        rateLimiter.removeAll { $0.scenario == name && (scope == nil || $0.scope == scope) }
    }

    /// The names of the scenarios with rules in force that `scope` sees (nil: any).
    func installedScenarios(in scope: String?) -> Set<String> {
        Set(faults.rules(in: scope).compactMap(\.scenario) + rateLimiter.rules(in: scope).compactMap(\.scenario))
    }
}

extension Scenario {
    /// Refuses a rule whose `after_request_bytes` no request body could reach under `limits`.
    func checkBodyReach(limits: UploadLimits) throws(ConfigurationError) {
        for (index, rule) in faults.enumerated() {
            try rule.checkBodyReach(limits: limits, path: "scenario \(name): faults[\(index)]")
        }
    }
}
