#if canImport(Glibc)
import Glibc
#endif

/// "The 3rd APPEND of segment 2 answers 503 once": which requests, what happens, how often.
public struct FaultRule: Sendable, Equatable {
    /// Assigned when the rule is added; used to delete it.
    public var id = ""
    public var match = RequestMatch()
    /// Matching requests to let through before the rule starts firing.
    public var skip = 0
    /// Chance that a matching request (after `skip`) fires the rule, drawn from the seeded generator.
    public var probability = 1.0
    public var action = FaultAction()
    /// Store the request's effect (the segment) first, then fail: the lost-response case.
    public var afterCommit = false
    /// Firings before the rule retires; nil fires forever.
    public var times: Int?

    public init(match: RequestMatch = RequestMatch(), skip: Int = 0, probability: Double = 1.0,
                action: FaultAction = FaultAction(), afterCommit: Bool = false, times: Int? = nil) {
        self.match = match
        self.skip = skip
        self.probability = probability
        self.action = action
        self.afterCommit = afterCommit
        self.times = times
    }
}

/// What a fault does. Any combination of a status, a transport failure and a delay.
public struct FaultAction: Sendable, Equatable {
    public enum Failure: String, Sendable, CaseIterable {
        case reset, close, hang, truncate, slow
    }

    /// Answer with this status and a real-shaped error body instead of the real answer.
    public var status: Int?
    /// The error message in that body; a sensible one per status when absent.
    public var error: String?
    public var failure: Failure?
    /// `truncate`: body bytes sent before the connection closes (default: half the body).
    public var truncateBytes: Int?
    /// `slow`: the response's pace.
    public var bytesPerSecond = 1024
    public var delay: Delay?

    public init(status: Int? = nil, error: String? = nil, failure: Failure? = nil,
                truncateBytes: Int? = nil, bytesPerSecond: Int = 1024, delay: Delay? = nil) {
        self.status = status
        self.error = error
        self.failure = failure
        self.truncateBytes = truncateBytes
        self.bytesPerSecond = bytesPerSecond
        self.delay = delay
    }

    /// True when the action only slows the request down and the real answer goes out.
    var isLatencyOnly: Bool { status == nil && failure == nil }
}

/// Added latency: fixed, or drawn from a distribution with the seeded generator.
public enum Delay: Sendable, Equatable {
    case fixed(milliseconds: Double)
    case uniform(minMilliseconds: Double, maxMilliseconds: Double)
    /// A long-tailed network: median and the shape parameter sigma of the log.
    case lognormal(medianMilliseconds: Double, sigma: Double)

    func sample(using generator: inout SeededGenerator) -> Duration {
        let milliseconds: Double = switch self {
        case .fixed(let value):
            value
        case .uniform(let low, let high):
            high > low ? Double.random(in: low...high, using: &generator) : low
        case .lognormal(let median, let sigma):
            // Box-Muller turns two uniform draws into one standard normal draw.
            median * exp(sigma * Self.standardNormal(using: &generator))
        }
        return .microseconds(Int64(max(0, milliseconds) * 1000))
    }

    private static func standardNormal(using generator: inout SeededGenerator) -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
        let u2 = Double.random(in: 0..<1, using: &generator)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
