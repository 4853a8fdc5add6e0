import Synchronization
import UploadMockDomain
package import UploadMockHTTP

/// A fault rule that fired for one request, and the delay drawn for it.
package struct FiredFault: Sendable {
    package var rule: FaultRule
    package var delay: Duration

    /// How the journal and the log name it.
    package var summary: String {
        var parts = ["rule \(rule.id)"]
        if let status = rule.action.status {
            parts.append(status == sentStatus ? "status \(status)"
                : "status \(status) is not a final status (200-599), so 500 was sent")
        }
        if let rate = rule.action.requestBytesPerSecond { parts.append("request body at \(rate) bytes/s") }
        if let (interruption, bytes) = rule.action.bodyInterruption {
            parts.append("\(interruption) after \(bytes) request bytes")
        } else if let failure = rule.action.failure {
            parts.append(failure.rawValue)
        }
        if delay > .zero { parts.append("delay \(Int(delay.timeInterval * 1000)) ms") }
        if let seconds = rule.action.advanceClockSeconds {
            parts.append("clock advanced \(seconds == seconds.rounded() ? String(Int64(seconds)) : String(seconds)) s")
        }
        if let processing = rule.action.processing { parts.append("processing \(processing.rawValue)") }
        if rule.afterCommit { parts.append("after commit") }
        return parts.joined(separator: ", ")
    }

    /// The status answered for the rule's `status`. Rules read from JSON are limited to final
    /// statuses, but one built in Swift can hold any Int: a 1xx would reach the client as an
    /// interim answer with no final one after it, so anything outside 200-599 is sent as 500
    /// and `summary` (the journal's `fault`) says why.
    package var sentStatus: Int? {
        rule.action.status.map { HTTPReply.finalStatuses.contains($0) ? $0 : 500 }
    }

    /// The failure that replaces or follows the answer; a body-time reset, close or stall has
    /// done its work before there is one (a body that ended before `after_request_bytes` is
    /// answered as if the rule had no failure).
    private var answerFailure: FaultAction.Failure? {
        rule.action.bodyInterruption == nil ? rule.action.failure : nil
    }

    /// Whether the request's real effect happens: only when the client could see the real
    /// answer, or when the rule says `after_commit`.
    package var commitsRealAnswer: Bool {
        let showsRealAnswer = rule.action.status == nil && ![.reset, .close, .hang].contains(answerFailure)
        return rule.afterCommit || showsRealAnswer
    }

    /// The reply a client gets: `realAnswer` (computed only when `commitsRealAnswer`), or the
    /// rule's status rendered by `error`, delivered as the rule says.
    package func reply(realAnswer: () -> HTTPReply, error: (_ status: Int, _ message: String?) -> HTTPReply) -> HTTPReply {
        let action = rule.action
        // Status 0 is never sent: without a real answer the failure below always applies.
        var result = commitsRealAnswer ? realAnswer() : HTTPReply(status: 0)
        if let status = sentStatus {
            result = error(status, action.error)
        }
        switch answerFailure {
        case .reset: result.delivery = .reset
        case .close: result.delivery = .close
        case .hang: result.delivery = .hang
        // A bodyless answer (an APPEND's 204) has nothing to cut after its headers, and a
        // client would read it as complete: the connection closes instead, with no answer.
        case .truncate where result.body.count == 0: result.delivery = .close
        case .truncate: result.delivery = .truncate(bytes: action.truncateBytes ?? result.body.count / 2)
        case .slow: result.delivery = .slow(bytesPerSecond: action.bytesPerSecond)
        case .stall, nil: break  // a stall is always a body-time failure, done before any answer
        }
        result.delay = delay
        return result
    }
}

/// When in a request's life fault rules are tried.
package enum FaultMoment: Sendable {
    /// While the body arrives, once the fields before the media are known.
    case receivingBody
    /// With the whole request read, before it is answered.
    case answering
}

extension FaultRule {
    func applies(to facts: RequestFacts, while moment: FaultMoment) -> Bool {
        if let attempt, attempt != facts.attempt { return false }
        // A processing result belongs to a FINALIZE.
        if action.processing != nil, facts.command != .finalize { return false }
        switch moment {
        case .answering:
            return !action.actsOnRequestBody && applies(to: facts)
        case .receivingBody:
            // A rule that ends the body after N bytes waits for a body that long.
            if let (_, bytes) = action.bodyInterruption, let declared = facts.declaredBodyBytes, declared < bytes { return false }
            return action.actsOnRequestBody && applies(to: facts)
        }
    }
}

/// The live fault rules of a running mock. Matching, skipping, probability draws and
/// retirement happen in one critical section, so concurrent requests see a consistent count.
public final class FaultInjector: Sendable {
    private struct Entry {
        var rule: FaultRule
        var matched = 0
        var fired = 0
        /// The rule's own generator, when it has a `seed`.
        var generator: SeededGenerator?
    }

    private struct State {
        var entries: [Entry] = []
        var nextID = 1
        var generator: SeededGenerator
    }

    private let state: Mutex<State>
    private let seed: UInt64
    /// What a request asks before it takes the lock, written under the lock with every change
    /// of the rules: most runs have none at all, and each request asks up to three times.
    private let ruleCount = Atomic<Int>(0)
    private let bodyRuleCount = Atomic<Int>(0)
    private let attemptRuleCount = Atomic<Int>(0)

    package init(seed: UInt64) {
        self.seed = seed
        state = Mutex(State(generator: SeededGenerator(seed: seed ^ 0xFA17)))
    }

    /// Adds a rule, tried after the existing ones, and returns it with its `id`.
    @discardableResult
    public func add(_ rule: FaultRule) -> FaultRule {
        state.withLock { state in
            var rule = rule
            rule.id = String(state.nextID)
            state.nextID += 1
            // A seeded rule's draws follow from its own seed alone, so a scenario repeats in
            // every run whatever `--seed` the server was given.
            state.entries.append(Entry(rule: rule, generator: rule.seed.map { SeededGenerator(seed: $0) }))
            publish(state.entries)
            return rule
        }
    }

    private func publish(_ entries: [Entry]) {
        ruleCount.store(entries.count, ordering: .releasing)
        bodyRuleCount.store(entries.count { $0.rule.action.actsOnRequestBody }, ordering: .releasing)
        attemptRuleCount.store(entries.count { $0.rule.attempt != nil }, ordering: .releasing)
    }

    /// Whether any rule acts on request bodies: when none does, a request is never asked what
    /// it names before its body is whole.
    package var hasRulesActingOnBody: Bool { bodyRuleCount.load(ordering: .acquiring) > 0 }

    /// Whether any rule matches on `attempt`: when none does, a request need not count its
    /// attempts (`RequestFacts.attempt`, a lookup in the upload store).
    package var matchesAttempts: Bool { attemptRuleCount.load(ordering: .acquiring) > 0 }

    /// The active rules, in the order they are tried.
    public var rules: [FaultRule] { state.withLock { $0.entries.map(\.rule) } }

    /// The rules of one scope (nil: all of them).
    package func rules(in scope: String?) -> [FaultRule] {
        rules.filter { $0.isVisible(to: scope) }
    }

    /// Removes one rule; false when no rule has that id.
    @discardableResult
    public func remove(id: String) -> Bool {
        remove(id: id, in: nil)
    }

    /// Removes one rule of `scope` (nil: of any scope); false when there is none.
    package func remove(id: String, in scope: String?) -> Bool {
        state.withLock { state in
            guard let index = state.entries.firstIndex(where: { $0.rule.id == id && $0.rule.isVisible(to: scope) }) else {
                return false
            }
            state.entries.remove(at: index)
            publish(state.entries)
            return true
        }
    }

    /// Removes every rule; the generator restarts from the seed, so a reset run repeats exactly.
    public func removeAll() {
        state.withLock { state in
            state = State(generator: SeededGenerator(seed: seed ^ 0xFA17))
            publish(state.entries)
        }
    }

    /// Removes the rules of one scope; the others, and the generator, are left alone.
    package func removeAll(in scope: String) {
        removeAll { $0.scope == scope }
    }

    /// Removes the rules `selected` picks; the others, and the generator, are left alone.
    package func removeAll(where selected: (FaultRule) -> Bool) {
        state.withLock { state in
            state.entries.removeAll { selected($0.rule) }
            publish(state.entries)
        }
    }

    /// The first rule that fires for this request at this moment of its life, if any. Rules
    /// that act on the request body are tried while it arrives, the others once it is whole;
    /// so one request fires at most one rule. Rules that have fired `times` times retire.
    package func fire(for facts: RequestFacts, while moment: FaultMoment) -> FiredFault? {
        guard ruleCount.load(ordering: .acquiring) > 0 else { return nil }
        return state.withLock { state in
            for index in state.entries.indices where state.entries[index].rule.applies(to: facts, while: moment) {
                state.entries[index].matched += 1
                let rule = state.entries[index].rule
                guard state.entries[index].matched > rule.skip else { continue }
                if rule.probability < 1,
                   Self.draw(&state, for: index, { Double.random(in: 0..<1, using: &$0) }) >= rule.probability {
                    continue
                }
                state.entries[index].fired += 1
                let delay = rule.action.delay.map { delay in Self.draw(&state, for: index) { delay.sample(using: &$0) } } ?? .zero
                if let times = rule.times, state.entries[index].fired >= times {
                    state.entries.remove(at: index)
                    publish(state.entries)
                }
                return FiredFault(rule: rule, delay: delay)
            }
            return nil
        }
    }

    /// Draws with the rule's own generator when it has a seed, else with the one all others share.
    private static func draw<Value>(_ state: inout State, for index: Int, _ body: (inout SeededGenerator) -> Value) -> Value {
        guard var own = state.entries[index].generator else { return body(&state.generator) }
        defer { state.entries[index].generator = own }
        return body(&own)
    }
}
