import CMicroHTTPD
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Listening options for `HTTPServer`.
package struct HTTPServerConfiguration: Sendable {
    package var host: String = "127.0.0.1"
    /// 0 picks a free port; read it back from `HTTPServer.port`.
    package var port: UInt16 = 8080
    /// PEM certificate chain and key: when set, the server speaks HTTPS only.
    package var tls: (certificatePEM: String, keyPEM: String)?
    /// libmicrohttpd polling threads; each serves many connections.
    package var threads: Int = 2
    /// Per-connection buffer. 256 KiB lets uploads arrive in large pieces (see docs/).
    package var connectionMemoryLimit: Int = 256 * 1024
    /// Idle seconds before a connection is dropped.
    package var connectionTimeoutSeconds: Int = 60
    /// A refused body up to this size is read and dropped so that clients which do not wait
    /// for `100 Continue` still see the reply; larger ones get the reply at once and a close.
    package var discardLimit: Int = 16 * 1024 * 1024
    /// Map large buffers with mmap so a freed body goes back to the OS at once, rather than
    /// staying on glibc's heap for reuse. Costs page faults on every large body (about a
    /// quarter of the ingest speed), so it is for servers that do not keep bodies in memory.
    package var returnsFreedBodiesToSystem = false

    // Bounds that keep floods from locking clients out (ConnectionGuard.swift says how).

    /// The most connections open at once; past it new clients wait in the kernel's backlog.
    /// Lowered when the file descriptor limit cannot be raised to fit it.
    package var maximumConnections = 1024
    /// Slots kept free for new clients: past `maximumConnections - connectionHeadroom` open
    /// connections, those without a request in progress are closed, longest-waiting first.
    package var connectionHeadroom = 64
    /// How long a connection may take to send a complete request head, counted from when it
    /// opened or its previous response ended.
    package var headTimeout: Duration = .seconds(30)
    /// A request body may arrive as slowly as it likes for this long; after that it must keep
    /// up `bodyMinimumBytesPerSecond` on average, or the connection is closed.
    package var bodyTimeout: Duration = .seconds(30)
    /// 0 turns the body rate check off (the idle timeout still applies).
    package var bodyMinimumBytesPerSecond = 1024
    /// Requests held at once by a delay, a hang or a slow response; past it they are answered
    /// 503 with `heldLimitMessage`.
    package var maximumHeldRequests = 512
    package var heldLimitMessage = "too many requests are already delayed or hung; try again"
    /// Told when a bound is hit, from the watchdog or a server thread.
    package var onLimit: @Sendable (HTTPLimitEvent) -> Void = { _ in }

    package init() {}
}

/// A bound that was hit, for the log; counts are since the previous report (at most one per
/// watchdog tick and kind).
package enum HTTPLimitEvent: Sendable, Equatable {
    /// Connections without a request in progress closed to keep the headroom free.
    case idleConnectionsClosed(count: Int, open: Int)
    case headTimedOut(count: Int)
    case bodyTooSlow(count: Int)
    /// Requests answered 503 because `maximumHeldRequests` were already held.
    case heldRequestsRefused(count: Int)
    /// Delayed, hung or slow requests released because their client left.
    case heldClientsDeparted(count: Int)
    /// A request refused for its framing (HTTPFraming), before any handler saw it.
    case framingRefused(status: Int, message: String)
    /// `maximumConnections` did not fit the file descriptor limit.
    case connectionLimitLowered(to: Int, descriptorLimit: Int)
}

/// libmicrohttpd, wrapped: streams request bodies to `HTTPExchange`s and executes the replies
/// they produce, including delays and hangs that never hold a thread (suspend/resume).
package final class HTTPServer: @unchecked Sendable {
    enum State {
        case idle
        case running(daemon: OpaquePointer, watchdog: Watchdog)
        case stopped
    }

    /// What `start` decides, guarded by one lock: the lifecycle, the port bound and the bounds
    /// in force. Read from any thread, so every read takes the lock too.
    private struct Lifecycle {
        var state = State.idle
        var port: UInt16 = 0
        var limits = EffectiveLimits(maximumConnections: 0, softLimit: 0, maximumHeld: 0)
    }

    let configuration: HTTPServerConfiguration
    let handler: any HTTPHandler
    /// The handler's `knownPaths`, read once.
    let knownPaths: [String]
    private let lifecycle = Mutex(Lifecycle())
    /// Requests held by a delay, hang or slow response; all are released before the daemon stops.
    let parked = Mutex<ParkedConnections>(ParkedConnections())
    /// Every open connection and what it is doing (ConnectionGuard.swift).
    let connections = Mutex<ConnectionTable>(ConnectionTable())
    /// Responses of replies that repeat, sent again rather than rebuilt.
    let responses = ResponseCache()
    /// The bounds in force: the configured ones, clamped to be consistent and to fit the
    /// file descriptor limit at start.
    var limits: EffectiveLimits { lifecycle.withLock { $0.limits } }
    /// The port listened on, once started (the chosen one when configured as 0).
    package var port: UInt16 { lifecycle.withLock { $0.port } }
    private var tlsStrings: [UnsafeMutablePointer<CChar>] = []

    package init(configuration: HTTPServerConfiguration, handler: any HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
        knownPaths = handler.knownPaths
    }

    deinit {
        stop()
        tlsStrings.forEach { free($0) }
    }

    package var scheme: String { configuration.tls == nil ? "http" : "https" }

    /// The URL clients use, e.g. `http://127.0.0.1:8080`.
    package var baseURL: String {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return "\(scheme)://\(host):\(port)"
    }

    package func start() throws(HTTPServerError) {
        if configuration.returnsFreedBodiesToSystem { mallopt(M_MMAP_THRESHOLD, 256 * 1024) }
        try lifecycle.withLock { (lifecycle) throws(HTTPServerError) in
            guard case .idle = lifecycle.state else { throw HTTPServerError("server was already started") }
            let (address, isIPv6) = try Self.listenAddress(configuration)
            var listenAddress = address
            var flags = MHD_USE_EPOLL_INTERNAL_THREAD.rawValue | MHD_ALLOW_SUSPEND_RESUME.rawValue
                | MHD_USE_TURBO.rawValue
            if isIPv6 { flags |= MHD_USE_IPv6.rawValue }
            let descriptorLimit = Self.raiseDescriptorLimit(toFit: max(configuration.maximumConnections, 2)
                + Self.reservedDescriptors)
            let limits = EffectiveLimits(configuration, descriptorLimit: descriptorLimit)
            if limits.maximumConnections < configuration.maximumConnections {
                configuration.onLimit(.connectionLimitLowered(to: limits.maximumConnections, descriptorLimit: descriptorLimit))
            }
            let me = Unmanaged.passUnretained(self).toOpaque()
            var options = [
                cmhd_option_uri_log(uriLogCallback, me),
                cmhd_option_notify_completed(requestCompletedCallback, me),
                cmhd_option_notify_connection(connectionNotifyCallback, me),
                cmhd_option_value(.THREAD_POOL_SIZE, max(1, configuration.threads)),
                cmhd_option_value(.CONNECTION_MEMORY_LIMIT, configuration.connectionMemoryLimit),
                cmhd_option_value(.CONNECTION_TIMEOUT, max(0, configuration.connectionTimeoutSeconds)),
                cmhd_option_value(.CONNECTION_LIMIT, limits.maximumConnections),
            ]
            if let tls = configuration.tls {
                flags |= MHD_USE_TLS.rawValue
                guard let certificate = strdup(tls.certificatePEM), let key = strdup(tls.keyPEM) else {
                    throw HTTPServerError("cannot copy the TLS certificate and key", errno: ENOMEM)
                }
                tlsStrings = [certificate, key]
                options.append(cmhd_option_pointer(.HTTPS_MEM_CERT, certificate))
                options.append(cmhd_option_pointer(.HTTPS_MEM_KEY, key))
            }
            errno = 0
            // libmicrohttpd binds the address while it starts: the pointer is valid only here.
            let started = withUnsafeMutablePointer(to: &listenAddress) { address in
                cmhd_start(flags, accessHandlerCallback, me,
                           options + [cmhd_option_pointer(.SOCK_ADDR, UnsafeMutableRawPointer(address)), cmhd_option_end()])
            }
            guard let daemon = started else {
                let code = errno
                throw HTTPServerError("cannot listen on \(configuration.host):\(configuration.port)"
                    + (configuration.tls == nil ? "" : " (is the TLS certificate and key valid PEM?)"),
                    errno: code == 0 ? nil : code)
            }
            lifecycle.port = cmhd_bound_port(daemon)
            lifecycle.limits = limits
            lifecycle.state = .running(daemon: daemon, watchdog: Watchdog(server: self, limits: limits))
        }
    }

    /// Releases parked connections, stops accepting and closes everything. Idempotent.
    package func stop() {
        let running: (OpaquePointer, Watchdog)? = lifecycle.withLock { lifecycle in
            guard case .running(let daemon, let watchdog) = lifecycle.state else {
                lifecycle.state = .stopped
                return nil
            }
            lifecycle.state = .stopped
            return (daemon, watchdog)
        }
        guard let (daemon, watchdog) = running else { return }
        watchdog.cancel()
        parked.withLock { $0.releaseAll() }
        MHD_stop_daemon(daemon)
    }

    /// Open connections and held requests, for tests and diagnostics.
    package var load: (openConnections: Int, heldRequests: Int) {
        (connections.withLock { $0.openCount }, parked.withLock { $0.heldCount })
    }

    /// Descriptors kept for everything but client connections: the listening socket, epoll
    /// and signalling descriptors of each thread, spool files, the log.
    static let reservedDescriptors = 64

    /// Raises the soft RLIMIT_NOFILE towards `wanted` (up to the hard limit, as Go's runtime
    /// does for every program: a soft limit of 1024 is a select(2)-era default and this server
    /// uses epoll); returns the soft limit in force.
    private static func raiseDescriptorLimit(toFit wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return wanted }
        let target = rlim_t(clamping: wanted)
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = min(target, limit.rlim_max)
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// One watchdog pass: deadlines, departed clients, and a report of what was closed.
    func patrol() {
        let now = ContinuousClock.now
        let limits = limits
        let closed = connections.withLock { table in
            table.expire(now: now, headTimeout: limits.headTimeout, bodyTimeout: limits.bodyTimeout,
                         minimumBytesPerSecond: limits.bodyMinimumBytesPerSecond)
            return (table.takeTally(), table.openCount)
        }
        let held = parked.withLock { parked in
            parked.releaseDeparted()
            return parked.takeTally()
        }
        let (tally, open) = closed
        if tally.shed > 0 { configuration.onLimit(.idleConnectionsClosed(count: tally.shed, open: open)) }
        if tally.headTimeouts > 0 { configuration.onLimit(.headTimedOut(count: tally.headTimeouts)) }
        if tally.slowBodies > 0 { configuration.onLimit(.bodyTooSlow(count: tally.slowBodies)) }
        if held.refused > 0 { configuration.onLimit(.heldRequestsRefused(count: held.refused)) }
        if held.departed > 0 { configuration.onLimit(.heldClientsDeparted(count: held.departed)) }
    }

    /// The socket address `host` and `port` name, and whether it is IPv6.
    private static func listenAddress(_ configuration: HTTPServerConfiguration) throws(HTTPServerError)
        -> (sockaddr_storage, isIPv6: Bool) {
        let host = configuration.host == "localhost" ? "127.0.0.1" : configuration.host
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = configuration.port.bigEndian
            return (storage(v4), false)
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = configuration.port.bigEndian
            return (storage(v6), true)
        }
        throw HTTPServerError("--host must be an IPv4 or IPv6 address or localhost, got '\(configuration.host)'")
    }

    private static func storage<Address>(_ address: Address) -> sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeBytes(of: address) { source in
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
        }
        return storage
    }
}

/// The configured bounds made consistent: at least one slot of headroom and one of
/// service, held requests below the soft limit, everything within the descriptor limit.
struct EffectiveLimits: Sendable {
    var maximumConnections: Int
    /// Past this many open connections, idle ones are closed to keep the headroom free.
    var softLimit: Int
    var maximumHeld: Int
    var headTimeout: Duration = .seconds(30)
    var bodyTimeout: Duration = .seconds(30)
    var bodyMinimumBytesPerSecond = 0

    init(maximumConnections: Int, softLimit: Int, maximumHeld: Int) {
        self.maximumConnections = maximumConnections
        self.softLimit = softLimit
        self.maximumHeld = maximumHeld
    }

    init(_ configuration: HTTPServerConfiguration, descriptorLimit: Int) {
        maximumConnections = max(2, min(configuration.maximumConnections,
                                        descriptorLimit - HTTPServer.reservedDescriptors))
        softLimit = maximumConnections - min(max(1, configuration.connectionHeadroom), maximumConnections - 1)
        maximumHeld = min(max(0, configuration.maximumHeldRequests), softLimit)
        // A zero or negative deadline would close every connection at once.
        headTimeout = max(configuration.headTimeout, Self.shortestDeadline)
        bodyTimeout = max(configuration.bodyTimeout, Self.shortestDeadline)
        bodyMinimumBytesPerSecond = max(0, configuration.bodyMinimumBytesPerSecond)
    }

    static let shortestDeadline = Duration.milliseconds(10)
}

/// Runs `HTTPServer.patrol` a few times per deadline, on its own queue.
final class Watchdog: @unchecked Sendable {
    private let timer: any DispatchSourceTimer

    init(server: HTTPServer, limits: EffectiveLimits) {
        let shortest = min(limits.headTimeout, limits.bodyTimeout)
        // Deadlines are met within a quarter of their length, and never polled faster than 20 Hz.
        let period = min(max(shortest / 4, .milliseconds(50)), .seconds(1))
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "UploadMockHTTP.watchdog"))
        timer.schedule(deadline: .now() + period.timeInterval, repeating: period.timeInterval)
        timer.setEventHandler { [weak server] in server?.patrol() }
        timer.resume()
    }

    func cancel() {
        timer.cancel()
    }
}

/// A libmicrohttpd connection pointer; its suspend/resume calls are thread-safe.
struct ConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
