import CMicroHTTPD
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

// libmicrohttpd calls these on its own threads. They are plain global functions (never
// closures in main.swift, which would inherit @MainActor and trap off the main thread).

/// State of one request, owned by libmicrohttpd's `con_cls` from the URI callback until
/// the completion callback.
final class RequestContext: @unchecked Sendable {
    enum Phase {
        /// Headers have not been seen by the handler yet.
        case awaitingHead
        case readingBody(any HTTPExchange)
        /// The reply is decided; the rest of the body is read and dropped.
        case discardingBody(HTTPReply)
        /// Suspended until a timer or shutdown resumes the connection.
        case delayed(HTTPReply)
        case hanging
        /// No more of the body is read; the connection is parked until the client leaves,
        /// the idle timeout passes or the server stops.
        case stalled
        case responded
    }

    /// A body read no faster than `bytesPerSecond`: a tenth of a second's worth per piece,
    /// the connection parked until the next one is due.
    struct BodyPace {
        let bytesPerSecond: Int
        var nextRead = ContinuousClock.now

        var quantum: Int { max(1, bytesPerSecond / 10) }
    }

    /// The request target, split at its first `?`.
    let path: String
    /// The raw query (still percent-encoded), empty when absent.
    let query: String
    /// The connection the request arrived on; nil only if libmicrohttpd skipped the
    /// connection notification, which it does not.
    let connection: ConnectionRecord?
    let startedAt = ContinuousClock.now
    var phase: Phase = .awaitingHead
    var exchange: (any HTTPExchange)?
    var bytesReceived = 0
    /// Set while the body is throttled.
    var bodyPace: BodyPace?
    /// Counted against `maximumHeldRequests` until the request completes.
    var isHeld = false
    private var reported = false
    /// Set (under the parked lock) when shutdown or a departed client wakes the connection:
    /// close it, send nothing.
    private(set) var abandoned = false

    init(path: String, query: String, connection: ConnectionRecord?) {
        self.path = path
        self.query = query
        self.connection = connection
    }

    func abandon() {
        abandoned = true
    }

    /// Tells the exchange how it ended, once. Called as the reply is handed over (before any
    /// byte is sent, so a client that reads the journal right after its response finds it),
    /// or when the connection ends without a reply.
    func report(status: Int?, abnormal: Bool) {
        guard !reported, let exchange else { return }
        reported = true
        exchange.completed(HTTPCompletion(status: status, bytesReceived: bytesReceived,
                                          duration: ContinuousClock.now - startedAt, abnormal: abnormal))
    }
}

let uriLogCallback: cmhd_uri_log_callback = { serverPointer, uri, connection in
    let record = connection.flatMap(cmhd_socket_context).map { Unmanaged<ConnectionRecord>.fromOpaque($0).takeUnretainedValue() }
    let knownPaths = serverPointer.map { Unmanaged<HTTPServer>.fromOpaque($0).takeUnretainedValue().knownPaths } ?? []
    let (path, query) = uri.map { splitTarget($0, knownPaths: knownPaths) } ?? ("/", "")
    let context = RequestContext(path: path, query: query, connection: record)
    return Unmanaged.passRetained(context).toOpaque()
}

/// A request target's path and raw query, split at the first `?`; a path among `knownPaths` is
/// that String, so the requests an upload makes do not each allocate one.
private func splitTarget(_ target: UnsafePointer<CChar>, knownPaths: [String]) -> (path: String, query: String) {
    let bytes = UnsafeRawBufferPointer(start: target, count: strlen(target))
    let mark = bytes.firstIndex(of: UInt8(ascii: "?"))
    let pathBytes = UnsafeRawBufferPointer(rebasing: bytes[..<(mark ?? bytes.count)])
    let path = knownPaths.first { $0.utf8.count == pathBytes.count && $0.utf8.elementsEqual(pathBytes) }
        ?? String(decoding: pathBytes, as: UTF8.self)
    let query = mark.map { String(decoding: UnsafeRawBufferPointer(rebasing: bytes[($0 + 1)...]), as: UTF8.self) } ?? ""
    return (path, query)
}

let requestCompletedCallback: MHD_RequestCompletedCallback = { serverPointer, _, contextPointer, termination in
    guard let serverPointer, let slot = contextPointer, let raw = slot.pointee else { return }
    slot.pointee = nil
    let server = Unmanaged<HTTPServer>.fromOpaque(serverPointer).takeUnretainedValue()
    let context = Unmanaged<RequestContext>.fromOpaque(raw).takeRetainedValue()
    context.report(status: nil, abnormal: termination != .REQUEST_TERMINATED_COMPLETED_OK)
    if context.isHeld { server.parked.withLock { $0.release(context) } }
    if let record = context.connection {
        server.connections.withLock { $0.requestEnded(record.serial, now: .now) }
    }
}

/// Tracks connections for the guard (ConnectionGuard.swift): a new one may close idle ones
/// to keep headroom; a closed one leaves the table before its descriptor is closed.
let connectionNotifyCallback: MHD_NotifyConnectionCallback = { serverPointer, connection, slot, event in
    guard let serverPointer, let connection, let slot else { return }
    let server = Unmanaged<HTTPServer>.fromOpaque(serverPointer).takeUnretainedValue()
    switch event {
    case .CONNECTION_NOTIFY_STARTED:
        let socket = cmhd_connection_fd(connection)
        let softLimit = server.limits.softLimit
        let serial = server.connections.withLock { $0.open(socket: socket, now: .now, softLimit: softLimit) }
        slot.pointee = Unmanaged.passRetained(ConnectionRecord(serial: serial)).toOpaque()
    case .CONNECTION_NOTIFY_CLOSED:
        guard let raw = slot.pointee else { return }
        slot.pointee = nil
        let record = Unmanaged<ConnectionRecord>.fromOpaque(raw).takeRetainedValue()
        server.connections.withLock { $0.close(record.serial) }
    default:
        break
    }
}

let accessHandlerCallback: MHD_AccessHandlerCallback = {
    serverPointer, connection, _, method, _, uploadData, uploadDataSize, contextSlot in
    guard let serverPointer, let connection, let contextSlot, let raw = contextSlot.pointee,
          let uploadDataSize else { return .NO }
    let server = Unmanaged<HTTPServer>.fromOpaque(serverPointer).takeUnretainedValue()
    let context = Unmanaged<RequestContext>.fromOpaque(raw).takeUnretainedValue()
    let piece = UnsafeRawBufferPointer(start: uploadData, count: uploadDataSize.pointee)
    return server.advance(context, connection: connection, method: method, piece: piece,
                          consumed: { uploadDataSize.pointee -= $0 })
}

extension HTTPServer {
    /// One step of a request's life; `piece` is empty on the first and the final call.
    /// `consumed(n)` tells libmicrohttpd that the first `n` bytes of `piece` were taken; it
    /// offers the rest again.
    func advance(_ context: RequestContext, connection: OpaquePointer, method: UnsafePointer<CChar>?,
                 piece: UnsafeRawBufferPointer, consumed: (Int) -> Void) -> MHD_Result {
        if context.abandoned { return .NO }
        switch context.phase {
        case .awaitingHead:
            let head = HTTPRequestHead(method: method.map { String(cString: $0) } ?? "GET",
                                       path: context.path, query: context.query, headers: requestHeaders(connection))
            if let record = context.connection {
                let open = connections.withLock { $0.headArrived(record.serial, expectsBody: head.hasBody, now: .now) }
                // The guard closed this connection as the head arrived; it is going anyway.
                guard open else { return .NO }
            }
            if let violation = HTTPFraming.check(head.headers) {
                context.phase = .responded
                configuration.onLimit(.framingRefused(status: violation.status, message: violation.message))
                return queue(Self.plainReply(violation.status, violation.message), context: context, connection: connection)
            }
            let exchange = handler.makeExchange(for: head)
            context.exchange = exchange
            context.phase = .readingBody(exchange)
            switch exchange.begin() {
            case .proceed:
                return .YES
            case .throttle(let rate):
                pace(context, bytesPerSecond: rate)
                return .YES
            case .interrupt(let interruption, _):
                return interrupt(context, interruption, connection: connection)
            case .refuse(let refusal):
                // Answer at once when the client waits for 100 Continue or the body is too big to
                // swallow; otherwise read it first, since clients that send blindly see a broken pipe.
                let declared = head.contentLength ?? 0
                if !head.hasBody || head.expectsContinue || declared > configuration.discardLimit {
                    return deliver(refusal, context: context, connection: connection)
                }
                context.phase = .discardingBody(refusal)
                return .YES
            }

        case .readingBody(let exchange):
            guard !piece.isEmpty else {
                bodyFinished(context)
                return deliver(exchange.finish(), context: context, connection: connection)
            }
            var offered = piece
            if let pace = context.bodyPace {
                // Parked until the next piece is due: libmicrohttpd may call again meanwhile
                // (it does for chunked bodies); take nothing.
                if parked.withLock({ $0.isParked(context) }) { return .YES }
                let now = ContinuousClock.now
                if now < pace.nextRead { return park(context, connection: connection, until: pace.nextRead) }
                offered = UnsafeRawBufferPointer(rebasing: piece.prefix(pace.quantum))
            }
            let step = exchange.receive(offered)
            if case .interrupt(let interruption, let count) = step {
                if interruption == .stall, !hold(context) {
                    // Past the held-request bound: the rest is read and answered 503, as a delay would be.
                    bodyReceived(piece.count, context: context)
                    consumed(piece.count)
                    context.bodyPace = nil
                    context.phase = .discardingBody(Self.plainReply(503, configuration.heldLimitMessage))
                    return .YES
                }
                let taken = min(max(count, 0), offered.count)
                bodyReceived(taken, context: context)
                consumed(taken)
                return interrupt(context, interruption, connection: connection)
            }
            bodyReceived(offered.count, context: context)
            consumed(offered.count)
            switch step {
            case .proceed, .interrupt:
                break
            case .throttle(let rate):
                pace(context, bytesPerSecond: rate)
            case .refuse(let refusal):
                context.bodyPace = nil
                context.phase = .discardingBody(refusal)
                return .YES
            }
            guard var pace = context.bodyPace else { return .YES }
            pace.nextRead = ContinuousClock.now + .seconds(Double(offered.count) / Double(pace.bytesPerSecond))
            context.bodyPace = pace
            // libmicrohttpd offers bytes it already holds only to a connection that was
            // suspended and resumed; left unconsumed otherwise, they would wait for more to arrive.
            return offered.count < piece.count ? park(context, connection: connection, until: pace.nextRead) : .YES

        case .discardingBody(let reply):
            guard !piece.isEmpty else {
                bodyFinished(context)
                return deliver(reply, context: context, connection: connection)
            }
            bodyReceived(piece.count, context: context)
            consumed(piece.count)
            // A response can only be queued at the end of the body; past the limit, hang up.
            return context.bytesReceived > configuration.discardLimit ? .NO : .YES

        case .delayed(let reply):
            return deliver(reply, context: context, connection: connection)

        case .stalled:
            return .YES

        case .hanging, .responded:
            consumed(piece.count)
            return .YES
        }
    }

    /// Starts reading the body at `bytesPerSecond`, held like a delay; past the held-request
    /// bound the body is read at full speed and answered 503 instead.
    private func pace(_ context: RequestContext, bytesPerSecond: Int) {
        guard hold(context) else {
            context.phase = .discardingBody(Self.plainReply(503, configuration.heldLimitMessage))
            return
        }
        context.bodyPace = RequestContext.BodyPace(bytesPerSecond: max(1, bytesPerSecond))
        bodyHeld(context)
    }

    /// Parks a paced body until its next piece is due.
    private func park(_ context: RequestContext, connection: OpaquePointer, until due: ContinuousClock.Instant) -> MHD_Result {
        guard parked.withLock({ $0.park(ConnectionHandle(pointer: connection), context: context) }) else { return .NO }
        DispatchQueue.global().asyncAfter(deadline: .now() + (due - .now).timeInterval) { [self] in
            parked.withLock { $0.wake(context) }
        }
        return .YES
    }

    /// Ends a request whose body is still arriving, without an answer.
    private func interrupt(_ context: RequestContext, _ interruption: HTTPInterruption, connection: OpaquePointer) -> MHD_Result {
        context.bodyPace = nil
        switch interruption {
        case .reset:
            return deliver(HTTPReply(status: 0, delivery: .reset), context: context, connection: connection)
        case .close:
            return deliver(HTTPReply(status: 0, delivery: .close), context: context, connection: connection)
        case .stall:
            // Before the body (the first call may answer); within it the caller has held it already.
            guard hold(context) else {
                context.phase = .responded
                return queue(Self.plainReply(503, configuration.heldLimitMessage), context: context, connection: connection)
            }
            bodyHeld(context)
            context.phase = .stalled
            context.report(status: nil, abnormal: true)
            return parkUntilTimeout(context, connection: connection)
        }
    }

    private func bodyReceived(_ count: Int, context: RequestContext) {
        context.bytesReceived += count
        if let record = context.connection { connections.withLock { $0.bodyReceived(record.serial, bytes: count) } }
    }

    private func bodyFinished(_ context: RequestContext) {
        if let record = context.connection { connections.withLock { $0.bodyFinished(record.serial) } }
    }

    /// A throttled or stalled body is slow on purpose: the guard's body deadline no longer applies.
    private func bodyHeld(_ context: RequestContext) {
        if let record = context.connection { connections.withLock { $0.bodyHeld(record.serial) } }
    }

    /// Counts the request against `maximumHeldRequests` until it completes; false at the bound.
    private func hold(_ context: RequestContext) -> Bool {
        guard parked.withLock({ $0.hold(context, maximum: limits.maximumHeld) }) else { return false }
        context.isHeld = true
        return true
    }

    /// Parks a request that will get no answer; a suspended connection never notices its
    /// client leaving, so it is closed after the idle timeout, as libmicrohttpd would close
    /// any silent connection (or earlier, by the watchdog, once the client has gone).
    private func parkUntilTimeout(_ context: RequestContext, connection: OpaquePointer) -> MHD_Result {
        guard parked.withLock({ $0.park(ConnectionHandle(pointer: connection), context: context) }) else { return .NO }
        let timeout = Double(configuration.connectionTimeoutSeconds)
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in
            parked.withLock { $0.wake(context, abandoning: true) }
        }
        return .YES
    }

    private func deliver(_ reply: HTTPReply, context: RequestContext, connection: OpaquePointer) -> MHD_Result {
        if reply.holdsConnection, !hold(context) {
            context.phase = .responded
            return queue(Self.plainReply(503, configuration.heldLimitMessage), context: context, connection: connection)
        }
        if reply.delay > .zero {
            var undelayed = reply
            undelayed.delay = .zero
            context.phase = .delayed(undelayed)
            guard parked.withLock({ $0.park(ConnectionHandle(pointer: connection), context: context) }) else { return .NO }
            DispatchQueue.global().asyncAfter(deadline: .now() + reply.delay.timeInterval) { [self] in
                parked.withLock { $0.wake(context) }
            }
            return .YES
        }
        switch reply.delivery {
        case .close:
            context.report(status: nil, abnormal: true)
            return .NO
        case .reset:
            context.report(status: nil, abnormal: true)
            // SO_LINGER with a zero timeout turns close() into a TCP RST (needs MHD_USE_TURBO,
            // otherwise libmicrohttpd shuts the socket down gracefully first).
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            let fd = cmhd_connection_fd(connection)
            if fd >= 0 { setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size)) }
            return .NO
        case .hang:
            context.phase = .hanging
            context.report(status: nil, abnormal: true)
            return parkUntilTimeout(context, connection: connection)
        case .normal, .truncate, .slow:
            context.phase = .responded
            return queue(reply, context: context, connection: connection)
        }
    }

    private func queue(_ reply: HTTPReply, context: RequestContext, connection: OpaquePointer) -> MHD_Result {
        // A 1xx would be sent as an interim answer with no final one after it, and anything
        // outside 100...999 is not HTTP at all: only final statuses leave this server.
        let reply = HTTPReply.finalStatuses.contains(reply.status) ? reply
            : Self.plainReply(500, "the server produced status \(reply.status), which is not a final HTTP status (200-599)")
        let reusable = ResponseCache.accepts(reply)
        if reusable {
            // Reported first, as below (once: the second report is a no-op), and outside the
            // cache's lock: the journal and the log are written then.
            context.report(status: reply.status, abnormal: false)
            if let queued = responses.queue(reply, on: connection) { return queued }
        }
        guard let response = makeResponse(reply, context: context, connection: connection) else { return .NO }
        defer { if reusable { responses.keep(response, for: reply) } else { MHD_destroy_response(response) } }
        // Only a bodyless reply may name its length: libmicrohttpd computes it for the rest.
        if reply.body.count == 0, reply.headers.contains(where: { $0.name.caseInsensitiveEquals("content-length") }) {
            cmhd_allow_content_length_header(response)
        }
        for header in reply.headers {
            // withCString lends a native string's own bytes; the implicit conversion copied each.
            header.name.withCString { name in
                header.value.withCString { value in _ = MHD_add_response_header(response, name, value) }
            }
        }
        context.report(status: reply.status, abnormal: reply.delivery != .normal)
        return MHD_queue_response(connection, UInt32(reply.status), response)
    }

    /// A transport-level answer: plain text, and the connection closed after it.
    static func plainReply(_ status: Int, _ message: String) -> HTTPReply {
        HTTPReply(status: status, headers: [("Content-Type", "text/plain; charset=utf-8"), ("Connection", "close")],
                  body: .bytes(Array((message + "\n").utf8)))
    }

    private func makeResponse(_ reply: HTTPReply, context: RequestContext, connection: OpaquePointer) -> OpaquePointer? {
        switch (reply.body, reply.delivery) {
        case (.empty, .normal):
            return MHD_create_response_from_buffer(0, nil, .RESPMEM_PERSISTENT)
        case (.bytes(let bytes), .normal):
            return bytes.withUnsafeBytes { buffer in
                MHD_create_response_from_buffer(buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                                                .RESPMEM_MUST_COPY)
            }
        default:
            let stream = ResponseStream(body: reply.body, delivery: reply.delivery)
            if case .slow(let rate) = reply.delivery {
                stream.pacing = ResponseStream.Pacing(server: self, context: context,
                                                      connection: ConnectionHandle(pointer: connection),
                                                      bytesPerSecond: max(1, rate))
            }
            return MHD_create_response_from_callback(
                UInt64(reply.body.count), 64 * 1024, responseReaderCallback,
                Unmanaged.passRetained(stream).toOpaque(), responseReleaseCallback)
        }
    }

    private func requestHeaders(_ connection: OpaquePointer) -> HTTPHeaders {
        var headers = HTTPHeaders()
        withUnsafeMutablePointer(to: &headers) { pointer in
            _ = MHD_get_connection_values(connection, .HEADER_KIND, headerCollector, pointer)
        }
        return headers
    }
}

private let headerCollector: MHD_KeyValueIterator = { slot, _, key, value in
    guard let slot, let key else { return .YES }
    slot.assumingMemoryBound(to: HTTPHeaders.self).pointee.add(
        name: String(cString: key), value: value.map { String(cString: $0) } ?? "")
    return .YES
}

/// Body bytes served by a callback response: streamed sources, truncated and slow bodies.
final class ResponseStream: @unchecked Sendable {
    /// Dribbles the body: a tenth of a second's worth at a time, parking the connection
    /// in between so no thread waits.
    struct Pacing {
        unowned let server: HTTPServer
        let context: RequestContext
        let connection: ConnectionHandle
        let bytesPerSecond: Int
        var nextSend = ContinuousClock.now

        var piece: Int { max(1, bytesPerSecond / 10) }
    }

    let body: HTTPBody
    let delivery: HTTPDelivery
    var pacing: Pacing?

    init(body: HTTPBody, delivery: HTTPDelivery) {
        self.body = body
        self.delivery = delivery
    }

    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var window = buffer
        if var pacing {
            if pacing.context.abandoned { return MHD_CONTENT_READER_END_WITH_ERROR }
            let now = ContinuousClock.now
            if now < pacing.nextSend {
                let server = pacing.server, context = pacing.context
                guard server.parked.withLock({ $0.park(pacing.connection, context: context) }) else {
                    return MHD_CONTENT_READER_END_WITH_ERROR
                }
                DispatchQueue.global().asyncAfter(deadline: .now() + (pacing.nextSend - now).timeInterval) {
                    server.parked.withLock { $0.wake(context) }
                }
                return 0
            }
            window = UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(pacing.piece))
            pacing.nextSend = now + .seconds(Double(window.count) / Double(pacing.bytesPerSecond))
            self.pacing = pacing
        }
        if case .truncate(let keep) = delivery {
            guard offset < keep else { return MHD_CONTENT_READER_END_WITH_ERROR }
            window = UnsafeMutableRawBufferPointer(rebasing: window.prefix(keep - offset))
        }
        switch body {
        case .empty:
            return MHD_CONTENT_READER_END_OF_STREAM
        case .bytes(let bytes):
            let count = min(window.count, bytes.count - offset)
            guard count > 0 else { return MHD_CONTENT_READER_END_OF_STREAM }
            bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: window[..<count]).copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + count])) }
            return count
        case .source(let source):
            let count = source.copyBytes(from: offset, into: window)
            return count > 0 ? count : MHD_CONTENT_READER_END_OF_STREAM
        }
    }
}

private let responseReaderCallback: MHD_ContentReaderCallback = { pointer, position, buffer, maximum in
    guard let pointer, let buffer else { return MHD_CONTENT_READER_END_WITH_ERROR }
    let stream = Unmanaged<ResponseStream>.fromOpaque(pointer).takeUnretainedValue()
    return stream.read(at: Int(position), into: UnsafeMutableRawBufferPointer(start: buffer, count: maximum))
}

private let responseReleaseCallback: MHD_ContentReaderFreeCallback = { pointer in
    guard let pointer else { return }
    Unmanaged<ResponseStream>.fromOpaque(pointer).release()
}

private let MHD_CONTENT_READER_END_OF_STREAM = -1
private let MHD_CONTENT_READER_END_WITH_ERROR = -2

extension Duration {
    /// Seconds as a Double, for Dispatch deadlines.
    package var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
