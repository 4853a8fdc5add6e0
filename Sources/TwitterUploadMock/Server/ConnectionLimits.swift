public import UploadMockJSON
import UploadMockHTTP

/// Bounds on connections, so that no flood of idle, slow or abandoned connections can lock
/// other clients out, the admin API included: the config file's `connections` object
/// (docs/configuration.md, Bounds).
///
/// ```swift
/// var configuration = MockConfiguration()
/// configuration.connections.headTimeoutSeconds = 5
/// configuration.connections.maximumHeldByFaults = 100
/// ```
public struct ConnectionLimits: Sendable, Equatable {
    /// The most connections open at once; past it new clients wait in the kernel's listen
    /// backlog. Lowered at start if the file descriptor limit (`ulimit -n`) cannot be raised
    /// to fit it. Default 1024.
    public var maximum = 1024
    /// Slots kept free for new clients: once more than `maximum - headroom` connections are
    /// open, those without a request in progress (idle keep-alive, or a request head still
    /// arriving) are closed, longest-waiting first. Default 64.
    public var headroom = 64
    /// Seconds a connection may take to send a complete request head, counted from when it
    /// opened or its previous response ended; then it is closed. Default 30.
    public var headTimeoutSeconds = 30
    /// Seconds a request body may take at any pace; after that it must average
    /// `bodyMinimumBytesPerSecond` or the connection is closed. Default 30.
    public var bodyTimeoutSeconds = 30
    /// Each of these many body bytes buys one more second past `bodyTimeoutSeconds`; 0 turns
    /// the check off. Default 1024.
    public var bodyMinimumBytesPerSecond = 1024
    /// Requests held at once by `delay`, `hang` and `slow` faults; past it a request that a
    /// fault would hold is answered 503 at once. Held requests whose client leaves are released.
    /// Never more than `maximum - headroom` apply, so held requests cannot take the headroom.
    /// Default 512.
    public var maximumHeldByFaults = 512
    /// A refused request body up to this size is read and dropped, so that a client which sent
    /// it without waiting for `100 Continue` still reads the refusal; past it the connection is
    /// closed without one (libmicrohttpd answers only at the start or the end of a body).
    /// Reading costs no memory, only time. Default 16 MiB.
    public var discardBodyBytes = 16 * 1024 * 1024

    public init() {}

    /// Throws when the bounds contradict each other; `MockConfiguration(json:)` and
    /// `UploadMockServer(configuration:)` check this.
    public func validate() throws(ConfigurationError) {
        guard maximum >= 2 else { throw ConfigurationError("connections.max must be at least 2") }
        guard headroom >= 1, headroom < maximum else {
            throw ConfigurationError("connections.headroom (\(headroom)) must be from 1 to connections.max - 1 (\(maximum - 1))")
        }
        guard headTimeoutSeconds >= 1, bodyTimeoutSeconds >= 1 else {
            throw ConfigurationError("connections.head_timeout_secs and body_timeout_secs must be at least 1")
        }
        guard bodyMinimumBytesPerSecond >= 0 else {
            throw ConfigurationError("connections.body_min_bytes_per_sec must not be negative")
        }
        guard maximumHeldByFaults >= 0 else {
            throw ConfigurationError("connections.max_held_by_faults must not be negative")
        }
    }

    /// Sets the HTTP server's bounds from these.
    func apply(to options: inout HTTPServerConfiguration) {
        options.maximumConnections = maximum
        options.connectionHeadroom = headroom
        options.headTimeout = .seconds(headTimeoutSeconds)
        options.bodyTimeout = .seconds(bodyTimeoutSeconds)
        options.bodyMinimumBytesPerSecond = bodyMinimumBytesPerSecond
        options.maximumHeldRequests = maximumHeldByFaults
        options.discardLimit = discardBodyBytes
        options.heldLimitMessage = "\(maximumHeldByFaults) requests are already held by delay, hang or slow faults "
            + "(connections.max_held_by_faults); this one is refused instead of held"
    }

    /// How the log tells that a bound was hit: what happened, and which key governs it.
    func describe(_ event: HTTPLimitEvent) -> String {
        switch event {
        case .idleConnectionsClosed(let count, let open):
            "closed \(count) connection(s) without a request in progress to keep connections.headroom (\(headroom)) "
                + "free: \(open) open, connections.max \(maximum)"
        case .headTimedOut(let count):
            "closed \(count) connection(s) that sent no complete request head within "
                + "connections.head_timeout_secs (\(headTimeoutSeconds) s)"
        case .bodyTooSlow(let count):
            "closed \(count) connection(s) whose request body fell below connections.body_min_bytes_per_sec "
                + "(\(bodyMinimumBytesPerSecond)) after connections.body_timeout_secs (\(bodyTimeoutSeconds) s)"
        case .heldRequestsRefused(let count):
            "answered \(count) request(s) 503 instead of holding them: connections.max_held_by_faults "
                + "(\(maximumHeldByFaults)) were already held by delay, hang or slow faults"
        case .heldClientsDeparted(let count):
            "released \(count) delayed or hung request(s) whose client left"
        case .framingRefused(let status, let message):
            "refused a request's framing with \(status): \(message)"
        case .connectionLimitLowered(let limit, let descriptors):
            "connections.max lowered to \(limit): the file descriptor limit is \(descriptors) (raise ulimit -n)"
        }
    }
}
