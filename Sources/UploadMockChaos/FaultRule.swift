#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import UploadMockDomain
package import UploadMockHTTP

/// "The 3rd APPEND of segment 2 answers 503 once": which requests, what happens, how often
/// (docs/faults.md).
///
/// ```swift
/// mock.faults.add(FaultRule(match: RequestMatch(command: .append, segmentIndex: 2), skip: 2,
///                           action: FaultAction(status: 503), times: 1))
/// ```
public struct FaultRule: Sendable, Equatable {
    /// Assigned when the rule is added; used to delete it.
    public internal(set) var id = ""
    /// Which requests the rule applies to.
    public var match = RequestMatch()
    /// Matching requests to let through before the rule starts firing.
    public var skip = 0
    /// Chance that a matching request (after `skip`) fires the rule, drawn from the seeded generator.
    public var probability = 1.0
    /// Only this APPEND of its media id and segment index: 1 is the first, 2 the first retry
    /// (counted from the upload's attempt history; docs/faults.md). Nil matches any request.
    public var attempt: Int?
    /// What happens to them.
    public var action = FaultAction()
    /// Store the request's effect (the segment) first, then fail: the lost-response case.
    public var afterCommit = false
    /// Firings before the rule retires; nil fires forever.
    public var times: Int?
    /// The credential (a bearer token or `oauth_token`) whose requests alone the rule applies
    /// to; nil applies to everyone. Set by an admin call made with `X-Mock-Scope`, so parallel
    /// test workers sharing one server never fault each other's requests.
    public var scope: String?
    /// Gives the rule a random generator of its own, seeded with this value: its `probability`
    /// and delay draws then depend only on the requests it matched (not on other rules or other
    /// scopes' traffic) and repeat in every run, whatever the server's seed. Nil draws from the
    /// server's shared generator, seeded by `--seed`.
    public var seed: UInt64?
    /// The scenario that installed the rule (docs/faults.md, Scenarios); nil for rules added
    /// one by one.
    public package(set) var scenario: String?

    /// A rule; `id` is assigned when it is added.
    public init(match: RequestMatch = RequestMatch(), skip: Int = 0, probability: Double = 1.0, attempt: Int? = nil,
                action: FaultAction = FaultAction(), afterCommit: Bool = false, times: Int? = nil, scope: String? = nil,
                seed: UInt64? = nil) {
        self.scope = scope
        self.match = match
        self.skip = skip
        self.probability = probability
        self.attempt = attempt
        self.action = action
        self.afterCommit = afterCommit
        self.times = times
        self.seed = seed
    }
}

extension FaultRule: ScopedRule {}

/// What a fault does: any combination of a status, a transport failure, a delay and a slow
/// request body; or, while the body is arriving, a reset, close or stall.
public struct FaultAction: Sendable, Equatable {
    /// A transport failure instead of (or after part of) the answer, or while the request
    /// body arrives (with `afterRequestBytes`).
    public enum Failure: String, Sendable, CaseIterable {
        /// A TCP reset, no response.
        case reset
        /// The connection closes without a response.
        case close
        /// No response until the client gives up or the idle timeout passes.
        case hang
        /// Headers and part of the body, then the connection closes.
        case truncate
        /// The response dribbles at `bytesPerSecond`.
        case slow
        /// The request body stops being read after `afterRequestBytes` (default 0): the
        /// client's send blocks until it gives up or the idle timeout passes; no response.
        case stall
    }

    /// Answer with this status (200–599) and a real-shaped error body instead of the real answer.
    /// Any other value is answered 500, and the journal's `fault` says why.
    public var status: Int?
    /// The error message in that body; a sensible one per status when absent.
    public var error: String?
    /// A transport failure, alone or after the status.
    public var failure: Failure?
    /// `truncate`: body bytes sent before the connection closes (default: half the body).
    public var truncateBytes: Int?
    /// `slow`: the response's pace.
    public var bytesPerSecond = 1024
    /// Latency added before anything is sent.
    public var delay: Delay?
    /// `reset`, `close` or `stall` once this many request body bytes have arrived, with no
    /// answer and nothing stored; the rule applies only to bodies at least this long.
    public var afterRequestBytes: Int?
    /// Read the request body no faster than this (a slow uplink), then act as the rest of the
    /// action says.
    public var requestBytesPerSecond: Int?
    /// Moves the requester's clock (its scope's, or the server's for a request without a
    /// credential) this many seconds forward just before the request is performed, so the
    /// upload answers as it would that much later: an expired session, a window that passed
    /// (docs/clock.md).
    public var advanceClockSeconds: Double?
    /// The processing of the upload a FINALIZE names ends this way, with `processing.error`
    /// when failed, whatever the configuration says; the rule applies only to FINALIZE.
    public var processing: ProcessingSimulation.Result?

    /// Any combination; at least one of status, failure, delay, request pace, clock advance or
    /// processing result.
    public init(status: Int? = nil, error: String? = nil, failure: Failure? = nil,
                truncateBytes: Int? = nil, bytesPerSecond: Int = 1024, delay: Delay? = nil,
                afterRequestBytes: Int? = nil, requestBytesPerSecond: Int? = nil,
                advanceClockSeconds: Double? = nil, processing: ProcessingSimulation.Result? = nil) {
        self.status = status
        self.error = error
        self.failure = failure
        self.truncateBytes = truncateBytes
        self.bytesPerSecond = bytesPerSecond
        self.delay = delay
        self.afterRequestBytes = afterRequestBytes
        self.requestBytesPerSecond = requestBytesPerSecond
        self.advanceClockSeconds = advanceClockSeconds
        self.processing = processing
    }

    /// Whether the action works while the request body arrives, so its rule is decided then
    /// (docs/faults.md, Faults while the body arrives).
    public var actsOnRequestBody: Bool {
        failure == .stall || afterRequestBytes != nil || requestBytesPerSecond != nil
    }

    /// How the request ends while its body arrives, and after how many bytes.
    package var bodyInterruption: (interruption: HTTPInterruption, afterBytes: Int)? {
        switch failure {
        case .stall?: (.stall, afterRequestBytes ?? 0)
        case .reset?: afterRequestBytes.map { (.reset, $0) }
        case .close?: afterRequestBytes.map { (.close, $0) }
        case .hang?, .truncate?, .slow?, nil: nil
        }
    }
}

/// Added latency: fixed, or drawn from a distribution with the seeded generator. Every draw is
/// clamped to 0…`Delay.maximumMilliseconds`.
public enum Delay: Sendable, Equatable {
    case fixed(milliseconds: Double)
    case uniform(minMilliseconds: Double, maxMilliseconds: Double)
    /// A long-tailed network: median and the shape parameter sigma of the log.
    case lognormal(medianMilliseconds: Double, sigma: Double)

    /// One hour: the longest delay any rule may add.
    public static let maximumMilliseconds = 3_600_000.0

    package func sample(using generator: inout SeededGenerator) -> Duration {
        let milliseconds: Double = switch self {
        case .fixed(let value):
            value
        case .uniform(let low, let high):
            high > low ? Double.random(in: low...high, using: &generator) : low
        case .lognormal(let median, let sigma):
            // Box-Muller turns two uniform draws into one standard normal draw.
            median * exp(sigma * Self.standardNormal(using: &generator))
        }
        // NaN and infinities (a huge sigma) clamp like any other out-of-range draw.
        let clamped = milliseconds.isNaN ? 0 : min(max(milliseconds, 0), Self.maximumMilliseconds)
        return .microseconds(Int64(clamped * 1000))
    }

    private static func standardNormal(using generator: inout SeededGenerator) -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
        let u2 = Double.random(in: 0..<1, using: &generator)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
