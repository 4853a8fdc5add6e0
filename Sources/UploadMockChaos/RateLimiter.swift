internal import UploadMockDomain
#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
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
    public var match: RequestMatch
    public var limit: Int
    public var windowSeconds: Int
    public var per: Scope

    public init(match: RequestMatch, limit: Int, windowSeconds: Int = 900, per: Scope = .user) {
        self.match = match
        self.limit = limit
        self.windowSeconds = windowSeconds
        self.per = per
    }

    /// The limits recorded from the real service per 15-minute window (STATUS: the
    /// published v2 figure, since v1.1's was never recorded).
    public static let realDefaults: [RateLimitRule] = [
        RateLimitRule(match: RequestMatch(command: .initialize), limit: 200),
        RateLimitRule(match: RequestMatch(command: .append), limit: 20_000),
        RateLimitRule(match: RequestMatch(command: .finalize), limit: 615),
        RateLimitRule(match: RequestMatch(command: .status), limit: 1_000),
        RateLimitRule(match: RequestMatch(command: .simpleUpload), limit: 415),
    ]
}

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
    private let now: @Sendable () -> Date

    package init(rules: [RateLimitRule], now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
        rules.forEach { add($0) }
    }

    /// Counts the request against the first matching rule; nil when no rule matches.
    package func admit(_ facts: RequestFacts) -> RateLimitDecision? {
        let moment = now()
        return state.withLock { state in
            guard let rule = state.rules.first(where: { $0.match.matches(facts) }) else { return nil }
            let key = WindowKey(rule: rule.id, user: rule.per == .user ? facts.user : nil)
            var window = state.windows[key] ?? Window(start: moment, count: 0)
            let length = TimeInterval(rule.windowSeconds)
            if moment.timeIntervalSince(window.start) >= length {
                window = Window(start: moment, count: 0)
            }
            let exceeded = window.count >= rule.limit
            if !exceeded { window.count += 1 }
            state.windows[key] = window
            return RateLimitDecision(
                limit: rule.limit, remaining: max(0, rule.limit - window.count),
                resetEpochSeconds: Int(window.start.addingTimeInterval(length).timeIntervalSince1970.rounded(.up)),
                exceeded: exceeded, ruleID: rule.id)
        }
    }

    /// Adds a rule (tried after the existing ones) and returns it with its id.
    @discardableResult
    public func add(_ rule: RateLimitRule) -> RateLimitRule {
        state.withLock { state in
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
        state.withLock { state in
            guard let index = state.rules.firstIndex(where: { $0.id == id }) else { return false }
            state.rules.remove(at: index)
            state.windows = state.windows.filter { $0.key.rule != id }
            return true
        }
    }

    /// Removes every rule and forgets all counts.
    public func removeAll() {
        state.withLock { $0 = State() }
    }

    public var rules: [RateLimitRule] { state.withLock { $0.rules } }
}
