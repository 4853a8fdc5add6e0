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

    package init() {}
}

/// libmicrohttpd, wrapped: streams request bodies to `HTTPExchange`s and executes the replies
/// they produce, including delays and hangs that never hold a thread (suspend/resume).
package final class HTTPServer: @unchecked Sendable {
    enum State {
        case idle
        case running(daemon: OpaquePointer)
        case stopped
    }

    let configuration: HTTPServerConfiguration
    let handler: any HTTPHandler
    private let state = Mutex<State>(.idle)
    /// Connections parked by a delay or hang; all are released before the daemon stops.
    let parked = Mutex<ParkedConnections>(ParkedConnections())
    private var listenAddress = sockaddr_storage()
    private var tlsStrings: [UnsafeMutablePointer<CChar>] = []
    package private(set) var port: UInt16 = 0

    package init(configuration: HTTPServerConfiguration, handler: any HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
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
        try state.withLock { (state) throws(HTTPServerError) in
            guard case .idle = state else { throw HTTPServerError("server was already started") }
            let isIPv6 = try fillListenAddress()
            var flags = MHD_USE_EPOLL_INTERNAL_THREAD.rawValue | MHD_ALLOW_SUSPEND_RESUME.rawValue
                | MHD_USE_TURBO.rawValue
            if isIPv6 { flags |= MHD_USE_IPv6.rawValue }
            var options = [
                cmhd_option_uri_log(uriLogCallback, Unmanaged.passUnretained(self).toOpaque()),
                cmhd_option_notify_completed(requestCompletedCallback, Unmanaged.passUnretained(self).toOpaque()),
                cmhd_option_value(.THREAD_POOL_SIZE, configuration.threads),
                cmhd_option_value(.CONNECTION_MEMORY_LIMIT, configuration.connectionMemoryLimit),
                cmhd_option_value(.CONNECTION_TIMEOUT, configuration.connectionTimeoutSeconds),
            ]
            withUnsafeMutablePointer(to: &listenAddress) { address in
                options.append(cmhd_option_pointer(.SOCK_ADDR, UnsafeMutableRawPointer(address)))
            }
            if let tls = configuration.tls {
                flags |= MHD_USE_TLS.rawValue
                guard let certificate = strdup(tls.certificatePEM), let key = strdup(tls.keyPEM) else {
                    throw HTTPServerError("cannot copy the TLS certificate and key", errno: ENOMEM)
                }
                tlsStrings = [certificate, key]
                options.append(cmhd_option_pointer(.HTTPS_MEM_CERT, certificate))
                options.append(cmhd_option_pointer(.HTTPS_MEM_KEY, key))
            }
            options.append(cmhd_option_end())
            errno = 0
            guard let daemon = cmhd_start(flags, accessHandlerCallback,
                                          Unmanaged.passUnretained(self).toOpaque(), options) else {
                let code = errno
                throw HTTPServerError("cannot listen on \(configuration.host):\(configuration.port)"
                    + (configuration.tls == nil ? "" : " (is the TLS certificate and key valid PEM?)"),
                    errno: code == 0 ? nil : code)
            }
            port = cmhd_bound_port(daemon)
            state = .running(daemon: daemon)
        }
    }

    /// Releases parked connections, stops accepting and closes everything. Idempotent.
    package func stop() {
        let daemon: OpaquePointer? = state.withLock { state in
            guard case .running(let daemon) = state else {
                state = .stopped
                return nil
            }
            state = .stopped
            return daemon
        }
        guard let daemon else { return }
        parked.withLock { $0.releaseAll() }
        MHD_stop_daemon(daemon)
    }

    /// Parses `host` into `listenAddress`; returns whether it is IPv6.
    private func fillListenAddress() throws(HTTPServerError) -> Bool {
        let host = configuration.host == "localhost" ? "127.0.0.1" : configuration.host
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = configuration.port.bigEndian
            store(v4)
            return false
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = configuration.port.bigEndian
            store(v6)
            return true
        }
        throw HTTPServerError("--host must be an IPv4 or IPv6 address or localhost, got '\(configuration.host)'")
    }

    private func store<Address>(_ address: Address) {
        withUnsafeBytes(of: address) { source in
            withUnsafeMutableBytes(of: &listenAddress) { $0.copyMemory(from: source) }
        }
    }
}

/// Suspended connections and how to wake them; guarded by `HTTPServer.parked`.
struct ParkedConnections {
    private var connections: [ObjectIdentifier: (connection: ConnectionHandle, context: RequestContext)] = [:]
    private var closed = false

    /// Suspends the connection; false once the server is stopping (the caller then closes it).
    mutating func park(_ connection: ConnectionHandle, context: RequestContext) -> Bool {
        guard !closed else { return false }
        MHD_suspend_connection(connection.pointer)
        connections[ObjectIdentifier(context)] = (connection, context)
        return true
    }

    /// Resumes one connection if it is still parked (a timer may race with shutdown);
    /// `abandoning` closes it without a response.
    mutating func wake(_ context: RequestContext, abandoning: Bool = false) {
        guard let entry = connections.removeValue(forKey: ObjectIdentifier(context)) else { return }
        if abandoning { context.abandon() }
        MHD_resume_connection(entry.connection.pointer)
    }

    mutating func releaseAll() {
        closed = true
        for entry in connections.values {
            entry.context.abandon()
            MHD_resume_connection(entry.connection.pointer)
        }
        connections.removeAll()
    }
}

/// A libmicrohttpd connection pointer; its suspend/resume calls are thread-safe.
struct ConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
