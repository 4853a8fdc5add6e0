package import UploadMockDomain
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// One rate limit: how many matching requests a window allows (docs/configuration.md, Rate
/// limits).
///
/// ```swift
/// mock.rateLimits.add(RateLimitRule(match: RequestMatch(command: .append), limit: 5, windowSeconds: 60))
/// ```
public struct RateLimitRule: Sendable, Equatable {
    /// Who shares a window's count.
    public enum Scope: String, Sendable, CaseIterable {
        /// Each authenticated user has its own count.
        case user
        /// Everyone shares one count.
        case global
    }

    /// Assigned when the rule is added; used to delete it.
    public internal(set) var id = ""
    /// Which requests count.
    public var match: RequestMatch
    /// Requests allowed per window.
    public var limit: Int
    /// The window's length; it restarts with the first request after it ends.
    public var windowSeconds: Int
    /// Who shares a count. Default `.user`.
    public var per: Scope
    /// The credential whose requests alone the rule counts; nil counts everyone's. Set by an
    /// admin call made with `X-Mock-Scope`.
    public var scope: String?
    /// The scenario that installed the rule (docs/faults.md, Scenarios); nil for rules added
    /// one by one.
    public package(set) var scenario: String?

    /// A rule; `id` is assigned when it is added.
    public init(match: RequestMatch, limit: Int, windowSeconds: Int = 900, per: Scope = .user) {
        self.match = match
        self.limit = limit
        self.windowSeconds = windowSeconds
        self.per = per
    }

    /// The real service's limits (docs/configuration.md, Rate limits): v1.1's as recorded per
    /// command (windows of an hour, inferred from the recorded reset times; STATUS unrecorded,
    /// so v2's figure), and v2's as documented, per user per 15 minutes and per app per day.
    public static let realDefaults: [RateLimitRule] = v1Defaults + v2Defaults

    private static let v1Defaults: [RateLimitRule] = [
        (UploadCommand.initialize, 200), (.append, 20_000), (.finalize, 615), (.status, 1_000), (.simpleUpload, 415),
    ].map { command, limit in
        RateLimitRule(match: RequestMatch(command: command, api: .v1), limit: limit, windowSeconds: 3_600)
    }

    private static let v2Defaults: [RateLimitRule] = [
        (UploadCommand.initialize, 1_875, 180_000), (.append, 1_875, 180_000), (.finalize, 1_875, 180_000),
        (.status, 1_000, 100_000), (.simpleUpload, 500, 50_000), (.metadata, 500, 50_000),
        (.subtitlesCreate, 100, 10_000), (.subtitlesDelete, 100, 10_000),
    ].flatMap { command, perUser, perApp in
        [RateLimitRule(match: RequestMatch(command: command, api: .v2), limit: perUser, windowSeconds: 900, per: .user),
         RateLimitRule(match: RequestMatch(command: command, api: .v2), limit: perApp, windowSeconds: 86_400, per: .global)]
    }
}

extension RateLimitRule: ScopedRule {}

/// What the limiter decided for one request: the headers to send, and whether to refuse.
package struct RateLimitDecision: Sendable {
    package var limit: Int
    package var remaining: Int
    /// Epoch seconds when the window restarts.
    package var resetEpochSeconds: Int
    package var exceeded: Bool
    package var ruleID: String

    package var headers: [(name: String, value: String)] {
        [("x-rate-limit-limit", String(limit)), ("x-rate-limit-remaining", String(remaining)),
         ("x-rate-limit-reset", String(resetEpochSeconds))]
    }
}

/// The live rate-limit rules of a running mock: fixed windows per rule and per user (or
/// globally), like the real service's.
public final class RateLimiter: Sendable {
    private struct WindowKey: Hashable {
        var rule: String
        var user: String?
    }

    private struct Window {
        var start: Date
        var count: Int
    }

    private struct State {
        var rules: [RateLimitRule] = []
        var windows: [WindowKey: Window] = [:]
        var nextID = 1
    }

    private let state = Mutex(State())
    private let clock: MockClock
    /// Written under the lock with every change of the rules, read without it: with the real
    /// limits off and none added, a request neither reads the clock nor takes the lock.
    private let ruleCount = Atomic<Int>(0)

    package init(rules: [RateLimitRule], clock: MockClock = MockClock()) {
        self.clock = clock
        rules.forEach { add($0) }
    }

    /// Counts the request against every rule that matches it; nil when none does. If any of
    /// them is exhausted the request is refused and counts against none; the headers describe
    /// the tightest rule (the exhausted one, or the one with the fewest requests left), so a
    /// rule added at run time takes effect beside the defaults.
    package func admit(_ facts: RequestFacts) -> RateLimitDecision? {
        guard ruleCount.load(ordering: .acquiring) > 0 else { return nil }
        let readings = clock.readings()
        return state.withLock { state in
            var windows: [(rule: RateLimitRule, key: WindowKey, window: Window)] = []
            for rule in state.rules where rule.applies(to: facts) {
                // Per user: the authenticated user, or else the credential, so parallel test
                // workers sharing one server without authentication keep apart windows.
                let key = WindowKey(rule: rule.id, user: rule.per == .user ? facts.user ?? facts.scope : nil)
                let moment = readings.now(in: Self.clockScope(of: rule, for: facts))
                var window = state.windows[key] ?? Window(start: moment, count: 0)
                // A window ends when the clock passes it, or is set back before its start.
                let elapsed = moment.timeIntervalSince(window.start)
                if elapsed >= TimeInterval(rule.windowSeconds) || elapsed < 0 {
                    window = Window(start: moment, count: 0)
                }
                windows.append((rule, key, window))
            }
            if let exhausted = windows.first(where: { $0.window.count >= $0.rule.limit }) {
                return Self.decision(exhausted.rule, exhausted.window, exceeded: true)
            }
            for index in windows.indices {
                windows[index].window.count += 1
                state.windows[windows[index].key] = windows[index].window
            }
            let tightest = windows.min { $0.rule.limit - $0.window.count < $1.rule.limit - $1.window.count }
            return tightest.map { Self.decision($0.rule, $0.window, exceeded: false) }
        }
    }

    /// Whose clock a rule's windows run on (docs/clock.md): the request's scope for per-user
    /// rules and rules added within a scope, which count that scope alone; the server's for
    /// the rest (per-app in the real service), which every scope shares.
    private static func clockScope(of rule: RateLimitRule, for facts: RequestFacts) -> String? {
        rule.per == .user || rule.scope != nil ? facts.scope : nil
    }

    private static func decision(_ rule: RateLimitRule, _ window: Window, exceeded: Bool) -> RateLimitDecision {
        RateLimitDecision(
            limit: rule.limit, remaining: max(0, rule.limit - window.count),
            resetEpochSeconds: Int(window.start.addingTimeInterval(TimeInterval(rule.windowSeconds)).timeIntervalSince1970.rounded(.up)),
            exceeded: exceeded, ruleID: rule.id)
    }

    /// Adds a rule and returns it with its `id`; it counts beside the existing rules.
    @discardableResult
    public func add(_ rule: RateLimitRule) -> RateLimitRule {
        changingRules { state in
            var rule = rule
            rule.id = String(state.nextID)
            state.nextID += 1
            state.rules.append(rule)
            return rule
        }
    }

    /// Removes one rule and its counts; false when no rule has that id.
    @discardableResult
    public func remove(id: String) -> Bool {
        remove(id: id, in: nil)
    }

    /// Removes one rule of `scope` (nil: of any scope) and its counts; false when there is none.
    package func remove(id: String, in scope: String?) -> Bool {
        changingRules { state in
            guard let index = state.rules.firstIndex(where: { $0.id == id && $0.isVisible(to: scope) }) else {
                return false
            }
            state.rules.remove(at: index)
            state.windows = state.windows.filter { $0.key.rule != id }
            return true
        }
    }

    /// Removes every rule and forgets all counts.
    public func removeAll() {
        changingRules { state in state = State() }
    }

    /// Removes the rules of one scope and their counts; the others are left alone.
    package func removeAll(in scope: String) {
        removeAll { $0.scope == scope }
    }

    /// Removes the rules `selected` picks, and their counts; the others are left alone.
    package func removeAll(where selected: (RateLimitRule) -> Bool) {
        changingRules { state in
            let removed = Set(state.rules.filter(selected).map(\.id))
            state.rules.removeAll { removed.contains($0.id) }
            state.windows = state.windows.filter { !removed.contains($0.key.rule) }
        }
    }

    /// Changes the rules under the lock, then publishes their count for `admit`'s lock-free
    /// check, so no change can forget it.
    private func changingRules<Result: Sendable>(_ change: (inout State) -> Result) -> Result {
        state.withLock { state in
            let result = change(&state)
            ruleCount.store(state.rules.count, ordering: .releasing)
            return result
        }
    }

    /// The rules in force, oldest first.
    public var rules: [RateLimitRule] { state.withLock { $0.rules } }

    /// The rules of one scope (nil: all of them).
    package func rules(in scope: String?) -> [RateLimitRule] {
        rules.filter { $0.isVisible(to: scope) }
    }
}
