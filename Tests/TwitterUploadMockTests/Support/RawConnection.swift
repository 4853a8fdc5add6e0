#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to 127.0.0.1, for tests that need to see exactly what the server
/// sends and how the connection ends (a close, a reset, silence), which HTTP client libraries
/// hide. Blocking calls with generous timeouts: tests assert outcomes, never durations.
final class RawConnection {
    enum Ending: Equatable {
        /// The server closed the connection (end of file).
        case closed
        /// The server reset the connection.
        case reset
        /// Nothing more arrived before the timeout; the connection is still open.
        case timedOut
    }

    struct ConnectionFailed: Error {
        var errno: Int32
    }

    private let socket: Int32
    private var isOpen = true

    init(port: UInt16) throws(ConnectionFailed) {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ConnectionFailed(errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(socket)
            throw ConnectionFailed(errno: code)
        }
    }

    deinit {
        close()
    }

    /// Sends everything; false when the server has closed or reset the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool {
        send(Array(text.utf8))
    }

    /// Reads until the server closes or resets the connection, or `timeout` passes in silence.
    func readToEnd(timeout: Duration = .seconds(30)) -> (bytes: [UInt8], ending: Ending) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            guard waitForData(timeout: timeout) else { return (received, .timedOut) }
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[..<count]
            } else if count == 0 {
                return (received, .closed)
            } else if errno == ECONNRESET {
                return (received, .reset)
            } else if errno != EINTR {
                return (received, .closed)
            }
        }
    }

    /// Reads one response whose body length is given by Content-Length, leaving the
    /// connection open (for keep-alive checks).
    func readResponse(timeout: Duration = .seconds(30)) -> RawResponse? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if let response = RawResponse(received), response.isComplete { return response }
            guard waitForData(timeout: timeout) else { return nil }
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return RawResponse(received) }
            received += buffer[..<count]
        }
    }

    /// True when nothing has arrived and the connection is still open, right now.
    var isSilent: Bool {
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }

    func close() {
        guard isOpen else { return }
        isOpen = false
        Glibc.close(socket)
    }

    private func waitForData(timeout: Duration) -> Bool {
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        while true {
            let ready = poll(&descriptor, 1, milliseconds)
            if ready >= 0 || errno != EINTR { return ready > 0 }
        }
    }
}

/// An HTTP/1.1 response as bytes arrived: status line, headers, and whatever body came.
struct RawResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    /// Nil until the whole head has arrived.
    init?(_ bytes: [UInt8]) {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1."),
              let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else { return nil }
        self.status = status
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].drop { $0 == " " })
        }
        self.headers = headers
        body = Array(bytes[(end + separator.count)...])
    }

    var declaredLength: Int? { headers["content-length"].flatMap { Int($0) } }

    var isComplete: Bool { body.count >= (declaredLength ?? 0) }

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Polls `condition` until it holds or `timeout` passes; for outcomes that a server thread
/// brings about a little later (a slot released, a completion recorded).
func eventually(timeout: Duration = .seconds(20), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
