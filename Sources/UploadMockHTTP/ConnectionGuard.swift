import CMicroHTTPD
#if canImport(Glibc)
import Glibc
#endif

// Why connections are guarded here, and not by libmicrohttpd alone (docs/configuration.md,
// Bounds):
//
// - libmicrohttpd 0.9.75 caps connections (MHD_OPTION_CONNECTION_LIMIT, FD_SETSIZE - 4 = 1020
//   by default) and, at the cap, stops accepting: new clients wait in the kernel's backlog
//   until a connection closes. Its only timeout counts inactivity, so a client that sends a
//   byte now and then (slowloris) is never closed, and suspended connections (delays, hangs)
//   are never timed out or polled at all. A few hundred idle sockets therefore lock every
//   client out, the admin API included.
// - Its per-IP limit does not help: a mock is reached over loopback, where the flood and the
//   test that wants the admin API share 127.0.0.1. A bigger listen backlog
//   (MHD_OPTION_LISTEN_BACKLOG_SIZE) only lets more clients wait, and MHD_quiesce_daemon stops
//   accepting altogether. With a thread pool the cap is split between the threads, each of
//   which stops accepting at its share, so the guard counts connections for the whole server.
//
// So the server tracks every connection from MHD_CONNECTION_NOTIFY_STARTED to
// MHD_CONNECTION_NOTIFY_CLOSED and keeps headroom under the cap: once more than
// `maximumConnections - connectionHeadroom` are open, each new connection closes the one that
// has waited longest without a request in progress (idle keep-alive or an unfinished head),
// so the newest client is always served. A watchdog closes connections whose request head
// is not complete within `headTimeout` or whose body falls behind
// `bodyMinimumBytesPerSecond`, and polls parked connections for a departed client. Requests
// held by delays, hangs and slow responses are capped by `maximumHeldRequests`, below the
// cap, so they can never fill it.
//
// A connection is closed from outside its libmicrohttpd thread with shutdown(2): the thread
// then reads end-of-file and closes it the usual way. The socket is shut down only while the
// table lock is held and the connection is still in the table; libmicrohttpd reports
// MHD_CONNECTION_NOTIFY_CLOSED (which takes the lock) before it closes the descriptor, so a
// descriptor number reused by a newer connection is never shut down by mistake.

/// One accepted connection, kept in libmicrohttpd's `socket_context` from
/// MHD_CONNECTION_NOTIFY_STARTED until MHD_CONNECTION_NOTIFY_CLOSED.
final class ConnectionRecord: Sendable {
    let serial: UInt64

    init(serial: UInt64) {
        self.serial = serial
    }
}

/// What each open connection is doing; guarded by `HTTPServer.connections`.
struct ConnectionTable {
    enum Stage {
        /// Connected or between keep-alive requests: the next request head is due.
        case awaitingHead
        /// The head arrived; the body is flowing.
        case readingBody
        /// The handler has the request: answering, delayed, hung or sending.
        case busy
    }

    private struct Entry {
        let socket: Int32
        var stage: Stage
        /// When the current stage began.
        var since: ContinuousClock.Instant
        var bodyBytes = 0
        /// Shut down by the guard; gone once libmicrohttpd notices.
        var closing = false
    }

    /// Connections closed by the guard since the watchdog last reported them.
    struct Tally: Equatable {
        var shed = 0
        var headTimeouts = 0
        var slowBodies = 0

        var isEmpty: Bool { self == Tally() }
    }

    private var entries: [UInt64: Entry] = [:]
    private var nextSerial: UInt64 = 0
    /// Entries not closing.
    private(set) var openCount = 0
    private(set) var tally = Tally()

    /// Records a new connection, then closes the connections that have waited longest without
    /// a request in progress until no more than `softLimit` remain open. The new one is never
    /// chosen: it is the client the headroom is for.
    mutating func open(socket: Int32, now: ContinuousClock.Instant, softLimit: Int) -> UInt64 {
        nextSerial += 1
        let serial = nextSerial
        entries[serial] = Entry(socket: socket, stage: .awaitingHead, since: now)
        openCount += 1
        while openCount > softLimit, let victim = longestAwaitingHead(excluding: serial) {
            terminate(victim)
            tally.shed += 1
        }
        return serial
    }

    mutating func close(_ serial: UInt64) {
        guard let entry = entries.removeValue(forKey: serial) else { return }
        if !entry.closing { openCount -= 1 }
    }

    /// The request head is complete; false when the guard is already closing the connection.
    mutating func headArrived(_ serial: UInt64, expectsBody: Bool, now: ContinuousClock.Instant) -> Bool {
        guard var entry = entries[serial], !entry.closing else { return false }
        entry.stage = expectsBody ? .readingBody : .busy
        entry.since = now
        entry.bodyBytes = 0
        entries.updateValue(entry, forKey: serial)
        return true
    }

    mutating func bodyReceived(_ serial: UInt64, bytes: Int) {
        update(serial) { $0.bodyBytes += bytes }
    }

    mutating func bodyFinished(_ serial: UInt64) {
        update(serial) { $0.stage = .busy }
    }

    /// The handler holds the body back on purpose (a throttled or stalled upload): its pace is
    /// no longer the client's, so the body deadline stops applying.
    mutating func bodyHeld(_ serial: UInt64) {
        entries[serial]?.stage = .busy
    }

    /// The response is out (or the request failed): the next head is due from now.
    mutating func requestEnded(_ serial: UInt64, now: ContinuousClock.Instant) {
        update(serial) {
            $0.stage = .awaitingHead
            $0.since = now
        }
    }

    /// Changes an entry by reading and writing it whole: `entries[serial]?.field = …` goes
    /// through Dictionary's `_modify` coroutine, whose frame costs about eight mallocs per
    /// statement (48 per request, measured; docs/performance.md).
    private mutating func update(_ serial: UInt64, _ change: (inout Entry) -> Void) {
        guard var entry = entries[serial] else { return }
        change(&entry)
        entries.updateValue(entry, forKey: serial)
    }

    /// Closes connections past their deadlines: a head not complete `headTimeout` after the
    /// connection opened or its previous response ended; a body that arrived slower than
    /// `minimumBytesPerSecond` once `bodyTimeout` has passed (every `minimumBytesPerSecond`
    /// bytes buy one more second, as Apache's mod_reqtimeout counts).
    mutating func expire(now: ContinuousClock.Instant, headTimeout: Duration, bodyTimeout: Duration,
                         minimumBytesPerSecond: Int) {
        var expired: [(serial: UInt64, head: Bool)] = []
        for (serial, entry) in entries where !entry.closing {
            switch entry.stage {
            case .awaitingHead where now - entry.since >= headTimeout:
                expired.append((serial, true))
            case .readingBody where minimumBytesPerSecond > 0:
                let earned = Duration.seconds(Double(entry.bodyBytes) / Double(minimumBytesPerSecond))
                if now - entry.since > bodyTimeout + earned { expired.append((serial, false)) }
            default:
                break
            }
        }
        for (serial, head) in expired {
            terminate(serial)
            if head { tally.headTimeouts += 1 } else { tally.slowBodies += 1 }
        }
    }

    mutating func takeTally() -> Tally {
        defer { tally = Tally() }
        return tally
    }

    private func longestAwaitingHead(excluding newcomer: UInt64) -> UInt64? {
        var oldest: (serial: UInt64, since: ContinuousClock.Instant)?
        for (serial, entry) in entries where serial != newcomer && !entry.closing && entry.stage == .awaitingHead {
            if oldest.map({ entry.since < $0.since }) ?? true { oldest = (serial, entry.since) }
        }
        return oldest?.serial
    }

    private mutating func terminate(_ serial: UInt64) {
        guard var entry = entries[serial], !entry.closing else { return }
        entry.closing = true
        entries.updateValue(entry, forKey: serial)
        openCount -= 1
        shutdown(entry.socket, Int32(SHUT_RDWR))
    }
}

/// Requests held back by a delay, a hang or a slow response, and the suspended connections
/// among them; guarded by `HTTPServer.parked`. All are released before the daemon stops.
struct ParkedConnections {
    private var suspended: [ObjectIdentifier: (connection: ConnectionHandle, context: RequestContext, socket: Int32)] = [:]
    private var held: Set<ObjectIdentifier> = []
    private var closed = false
    /// Held requests refused, and parked ones whose client left, since the watchdog last
    /// reported them.
    private(set) var refused = 0
    private(set) var departed = 0

    var heldCount: Int { held.count }

    /// Counts the request against `maximum` until it completes; false when the bound is
    /// reached (the request is then answered 503 instead of being held).
    mutating func hold(_ context: RequestContext, maximum: Int) -> Bool {
        let id = ObjectIdentifier(context)
        if held.contains(id) { return true }
        guard held.count < maximum else {
            refused += 1
            return false
        }
        held.insert(id)
        return true
    }

    /// The request completed (answered, abandoned or failed): its slot is free.
    mutating func release(_ context: RequestContext) {
        held.remove(ObjectIdentifier(context))
    }

    /// Suspends the connection; false once the server is stopping (the caller then closes it).
    mutating func park(_ connection: ConnectionHandle, context: RequestContext) -> Bool {
        guard !closed else { return false }
        MHD_suspend_connection(connection.pointer)
        suspended[ObjectIdentifier(context)] = (connection, context, cmhd_connection_fd(connection.pointer))
        return true
    }

    func isParked(_ context: RequestContext) -> Bool {
        suspended[ObjectIdentifier(context)] != nil
    }

    /// Resumes one connection if it is still parked (a timer may race with shutdown or a
    /// departed client); `abandoning` closes it without a response.
    mutating func wake(_ context: RequestContext, abandoning: Bool = false) {
        guard let entry = suspended.removeValue(forKey: ObjectIdentifier(context)) else { return }
        if abandoning { context.abandon() }
        MHD_resume_connection(entry.connection.pointer)
    }

    /// Closes parked connections whose client has gone: libmicrohttpd does not watch
    /// suspended sockets, so without this a delay outlives the client that asked for it.
    /// A client that only shut down its sending side looks the same and is released too (as
    /// nginx does); HTTP clients do not half-close while they wait for an answer.
    mutating func releaseDeparted() {
        guard !suspended.isEmpty else { return }
        let entries = Array(suspended.values)
        var descriptors = entries.map { pollfd(fd: $0.socket, events: Self.peerHangUp, revents: 0) }
        guard poll(&descriptors, nfds_t(descriptors.count), 0) > 0 else { return }
        let gone = Int16(POLLHUP) | Int16(POLLERR) | Int16(POLLNVAL) | Self.peerHangUp
        for (entry, descriptor) in zip(entries, descriptors) where descriptor.revents & gone != 0 {
            wake(entry.context, abandoning: true)
            departed += 1
        }
    }

    mutating func releaseAll() {
        closed = true
        for entry in suspended.values {
            entry.context.abandon()
            MHD_resume_connection(entry.connection.pointer)
        }
        suspended.removeAll()
    }

    mutating func takeTally() -> (refused: Int, departed: Int) {
        defer { (refused, departed) = (0, 0) }
        return (refused, departed)
    }

    /// POLLRDHUP, "peer closed its end", which Swift's Glibc module does not export (it needs
    /// _GNU_SOURCE); the value is the same on every Linux architecture this builds for.
    private static let peerHangUp: Int16 = 0x2000
}
