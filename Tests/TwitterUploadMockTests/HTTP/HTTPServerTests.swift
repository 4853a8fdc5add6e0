#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import UploadMockHTTP

/// Serves fixed replies by path, so each delivery mode can be asked for over a real socket:
/// `/ok`, `/echo` (the body's length), `/delay/MS`, `/hang`, `/close`, `/reset`, `/truncate`,
/// `/slow`, `/refuse` (refused before the body), `/status/N`, `/repeat/N` (a reply that says it
/// repeats, naming N in a header and its body).
struct ScriptedHandler: HTTPHandler {
    let recorder: CompletionRecorder

    func makeExchange(for head: HTTPRequestHead) -> any HTTPExchange {
        ScriptedExchange(path: head.path, recorder: recorder)
    }
}

final class ScriptedExchange: HTTPExchange {
    static let truncatedBody = (0..<1000).map { UInt8(truncatingIfNeeded: $0) }
    static let slowBody = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    let path: String
    let recorder: CompletionRecorder
    var received = 0

    init(path: String, recorder: CompletionRecorder) {
        self.path = path
        self.recorder = recorder
    }

    func begin() -> HTTPBodyStep {
        switch (parts.first, number) {
        case ("refuse", _): .refuse(HTTPReply(status: 413, body: .bytes(Array("refused".utf8))))
        case ("throttle", let rate?): .throttle(bytesPerSecond: rate)
        default: .proceed
        }
    }

    /// `/reset-after/N`, `/close-after/N`, `/stall-after/N`: interrupted once N body bytes arrived.
    func receive(_ bytes: UnsafeRawBufferPointer) -> HTTPBodyStep {
        let interruption: HTTPInterruption? = switch parts.first {
        case "reset-after": .reset
        case "close-after": .close
        case "stall-after": .stall
        default: nil
        }
        if let interruption, let limit = number, received + bytes.count >= limit {
            defer { received = limit }
            return .interrupt(interruption, consumed: limit - received)
        }
        received += bytes.count
        return .proceed
    }

    private var parts: [Substring] { path.split(separator: "/") }
    private var number: Int? { parts.dropFirst().first.flatMap { Int($0) } }

    func finish() -> HTTPReply {
        switch (parts.first, number) {
        case ("ok", _): return HTTPReply(status: 200, body: .bytes(Array("ok".utf8)))
        case ("echo", _), ("throttle", _): return HTTPReply(status: 200, body: .bytes(Array("received \(received)".utf8)))
        case ("delay", let milliseconds?):
            return HTTPReply(status: 200, body: .bytes(Array("late".utf8)), delay: .milliseconds(milliseconds))
        case ("hang", _): return HTTPReply(status: 200, delivery: .hang)
        case ("close", _): return HTTPReply(status: 200, delivery: .close)
        case ("reset", _): return HTTPReply(status: 200, delivery: .reset)
        case ("truncate", _): return HTTPReply(status: 200, body: .bytes(Self.truncatedBody), delivery: .truncate(bytes: 100))
        case ("slow", _): return HTTPReply(status: 200, body: .bytes(Self.slowBody), delivery: .slow(bytesPerSecond: 1000))
        case ("status", let status?): return HTTPReply(status: status)
        case ("repeat", let number?):
            var reply = HTTPReply(status: 200, headers: [("x-number", String(number))], body: .bytes(Array("repeat \(number)".utf8)))
            reply.repeats = true
            return reply
        default: return HTTPReply(status: 404)
        }
    }

    func completed(_ completion: HTTPCompletion) {
        recorder.record(path, completion)
    }
}

/// How each exchange ended, by path.
final class CompletionRecorder: Sendable {
    private let completions = Mutex<[(path: String, completion: HTTPCompletion)]>([])

    func record(_ path: String, _ completion: HTTPCompletion) {
        completions.withLock { $0.append((path, completion)) }
    }

    func completion(for path: String) -> HTTPCompletion? {
        completions.withLock { list in list.last { $0.path == path }?.completion }
    }
}

/// Limit events, as the server reported them.
final class LimitEvents: Sendable {
    private let events = Mutex<[HTTPLimitEvent]>([])

    func record(_ event: HTTPLimitEvent) {
        events.withLock { $0.append(event) }
    }

    var all: [HTTPLimitEvent] { events.withLock { $0 } }
}

func withHTTPServer(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
                    _ body: (HTTPServer, CompletionRecorder, LimitEvents) throws -> Void) throws {
    var configuration = HTTPServerConfiguration()
    configuration.port = 0
    let events = LimitEvents()
    configuration.onLimit = { events.record($0) }
    configure(&configuration)
    let recorder = CompletionRecorder()
    let server = HTTPServer(configuration: configuration, handler: ScriptedHandler(recorder: recorder))
    try server.start()
    defer { server.stop() }
    try body(server, recorder, events)
}

func get(_ path: String) -> String {
    "GET \(path) HTTP/1.1\r\nHost: test\r\n\r\n"
}

@Suite("HTTP server: delivery modes")
struct HTTPDeliveryTests {
    @Test("a normal reply keeps the connection open for the next request")
    func normal() throws {
        try withHTTPServer { server, _, _ in
            let connection = try RawConnection(port: server.port)
            for _ in 0..<2 {
                connection.send(get("/ok"))
                let response = try #require(connection.readResponse())
                #expect(response.status == 200)
                #expect(response.text == "ok")
            }
        }
    }

    @Test("a reply that repeats is sent again as it was, on any connection, and only for the same reply")
    func repeatedReplies() throws {
        try withHTTPServer { server, recorder, _ in
            let connections = try (0..<2).map { _ in try RawConnection(port: server.port) }
            // More distinct replies than the server keeps, then the first ones again.
            let numbers = [1, 1, 2, 1] + Array(3...(ResponseCache.capacity + 3)) + [1, 2, 2]
            for (index, number) in numbers.enumerated() {
                let connection = connections[index % 2]
                connection.send(get("/repeat/\(number)"))
                let response = try #require(connection.readResponse())
                #expect(response.status == 200)
                #expect(response.headers["x-number"] == String(number))
                #expect(response.text == "repeat \(number)")
                #expect(recorder.completion(for: "/repeat/\(number)")?.status == 200)
            }
        }
    }

    @Test("a delay holds the answer without holding a thread; others are answered meanwhile")
    func delayDoesNotBlockOthers() throws {
        try withHTTPServer { server, recorder, _ in
            let delayed = try RawConnection(port: server.port)
            delayed.send(get("/delay/600000"))
            #expect(eventually { server.load.heldRequests == 1 })
            let other = try RawConnection(port: server.port)
            other.send(get("/ok"))
            #expect(other.readResponse()?.status == 200)
            #expect(delayed.isSilent)
            // Stopping releases the delayed request unanswered.
            server.stop()
            let (bytes, ending) = delayed.readToEnd()
            #expect(bytes.isEmpty)
            #expect(ending == .closed)
            #expect(recorder.completion(for: "/delay/600000")?.status == nil)
        }
    }

    @Test("a short delay ends in the full answer")
    func delayAnswers() throws {
        try withHTTPServer { server, recorder, _ in
            let connection = try RawConnection(port: server.port)
            connection.send(get("/delay/100"))
            let response = try #require(connection.readResponse())
            #expect(response.status == 200)
            #expect(response.text == "late")
            #expect(eventually { server.load.heldRequests == 0 })
            #expect(recorder.completion(for: "/delay/100")?.abnormal == false)
        }
    }

    @Test("a hang answers nothing, and its slot is freed when the client leaves")
    func hang() throws {
        try withHTTPServer { server, recorder, events in
            let hung = try RawConnection(port: server.port)
            hung.send(get("/hang"))
            #expect(eventually { server.load.heldRequests == 1 })
            #expect(hung.isSilent)
            #expect(recorder.completion(for: "/hang")?.status == nil)
            #expect(recorder.completion(for: "/hang")?.abnormal == true)
            hung.close()
            #expect(eventually { server.load.heldRequests == 0 })
            #expect(eventually { events.all.contains(.heldClientsDeparted(count: 1)) })
        }
    }

    @Test("a delayed request whose client leaves is released before its delay ends")
    func departedDelay() throws {
        try withHTTPServer { server, _, _ in
            let delayed = try RawConnection(port: server.port)
            delayed.send(get("/delay/600000"))
            #expect(eventually { server.load.heldRequests == 1 })
            delayed.close()
            #expect(eventually { server.load.heldRequests == 0 && server.load.openConnections == 0 })
        }
    }

    @Test("close ends the connection with no response")
    func close() throws {
        try withHTTPServer { server, recorder, _ in
            let connection = try RawConnection(port: server.port)
            connection.send(get("/close"))
            let (bytes, ending) = connection.readToEnd()
            #expect(bytes.isEmpty)
            #expect(ending == .closed)
            #expect(recorder.completion(for: "/close")?.abnormal == true)
        }
    }

    @Test("reset aborts the connection with a TCP reset")
    func reset() throws {
        try withHTTPServer { server, _, _ in
            let connection = try RawConnection(port: server.port)
            connection.send(get("/reset"))
            let (bytes, ending) = connection.readToEnd()
            #expect(bytes.isEmpty)
            #expect(ending == .reset)
        }
    }

    @Test("truncate sends the head and the first bytes of the body, then closes")
    func truncate() throws {
        try withHTTPServer { server, _, _ in
            let connection = try RawConnection(port: server.port)
            connection.send(get("/truncate"))
            let (bytes, ending) = connection.readToEnd()
            let response = try #require(RawResponse(bytes))
            #expect(response.status == 200)
            #expect(response.declaredLength == 1000)
            #expect(response.body == Array(ScriptedExchange.truncatedBody.prefix(100)))
            #expect(ending == .closed)
        }
    }

    @Test("slow delivers the whole body, unchanged")
    func slow() throws {
        try withHTTPServer { server, _, _ in
            let connection = try RawConnection(port: server.port)
            connection.send(get("/slow"))
            let response = try #require(connection.readResponse())
            #expect(response.status == 200)
            #expect(response.body == ScriptedExchange.slowBody)
            #expect(eventually { server.load.heldRequests == 0 })
        }
    }

    @Test("a refused body is read and dropped, then the refusal is sent")
    func refusalAfterDiscarding() throws {
        try withHTTPServer { server, _, _ in
            let connection = try RawConnection(port: server.port)
            connection.send("POST /refuse HTTP/1.1\r\nHost: test\r\nContent-Length: 5000\r\n\r\n")
            connection.send([UInt8](repeating: 0x61, count: 5000))
            let response = try #require(connection.readResponse())
            #expect(response.status == 413)
            #expect(response.text == "refused")
        }
    }

    @Test("a refused body declared past the discard limit is answered at once")
    func refusalBeforeALargeBody() throws {
        try withHTTPServer({ $0.discardLimit = 64 * 1024 }) { server, _, _ in
            let connection = try RawConnection(port: server.port)
            connection.send("POST /refuse HTTP/1.1\r\nHost: test\r\nContent-Length: 1000000\r\n\r\n")
            let response = try #require(connection.readResponse())
            #expect(response.status == 413)
        }
    }

    @Test("a refused chunked body that runs past the discard limit is cut off")
    func discardPastTheLimit() throws {
        try withHTTPServer({ $0.discardLimit = 64 * 1024 }) { server, recorder, _ in
            let connection = try RawConnection(port: server.port)
            connection.send("POST /refuse HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n")
            let chunk = Array("4000\r\n".utf8) + [UInt8](repeating: 0x61, count: 0x4000) + Array("\r\n".utf8)
            for _ in 0..<16 where connection.send(chunk) {}
            let (bytes, ending) = connection.readToEnd()
            #expect(RawResponse(bytes) == nil)
            #expect(ending != .timedOut)
            #expect(eventually { recorder.completion(for: "/refuse")?.abnormal == true })
        }
    }

    @Test("statuses outside 200-599 are never sent: the client gets a 500 that says why",
          arguments: [100, 101, 199, 0, -1, 600, 99_999, Int.max, Int.min])
    func nonFinalStatus(status: Int) throws {
        try withHTTPServer { server, _, _ in
            let connection = try RawConnection(port: server.port)
            connection.send(get("/status/\(status)"))
            let response = try #require(connection.readResponse())
            #expect(response.status == 500)
            #expect(response.text.contains("status \(status), which is not a final HTTP status"))
        }
    }

    @Test("final statuses pass through")
    func finalStatus() throws {
        try withHTTPServer { server, _, _ in
            let connection = try RawConnection(port: server.port)
            connection.send(get("/status/299"))
            #expect(connection.readResponse()?.status == 299)
        }
    }
}

@Suite("HTTP server: bounds")
struct HTTPBoundsTests {
    @Test("an idle flood closes the longest-waiting idle connections; a new client is served")
    func idleFlood() throws {
        try withHTTPServer({
            $0.maximumConnections = 40
            $0.connectionHeadroom = 8
        }) { server, _, events in
            // A request in progress is never closed to make room.
            let busy = try RawConnection(port: server.port)
            busy.send(get("/hang"))
            #expect(eventually { server.load.heldRequests == 1 })
            var idle: [RawConnection] = []
            for _ in 0..<60 { idle.append(try RawConnection(port: server.port)) }
            let fresh = try RawConnection(port: server.port)
            fresh.send(get("/ok"))
            #expect(fresh.readResponse()?.status == 200)
            #expect(eventually { idle.filter { !$0.isSilent }.count >= 60 + 1 - 32 })
            #expect(idle.first?.isSilent == false)
            #expect(busy.isSilent)
            #expect(server.load.heldRequests == 1)
            #expect(eventually { events.all.contains { if case .idleConnectionsClosed = $0 { true } else { false } } })
        }
    }

    @Test("a request head that trickles in is cut off at the head deadline; others are served")
    func slowloris() throws {
        try withHTTPServer({ $0.headTimeout = .milliseconds(500) }) { server, _, events in
            let trickling = try RawConnection(port: server.port)
            trickling.send("GET /ok HTTP/1.1\r\nHost: test\r\n")
            var line = 0
            while trickling.isSilent, line < 300 {
                line += 1
                guard trickling.send("X-Trickle-\(line): a\r\n") else { break }
                usleep(100_000)
            }
            let (bytes, ending) = trickling.readToEnd()
            #expect(bytes.isEmpty)
            #expect(ending != .timedOut)
            #expect(eventually { events.all.contains { if case .headTimedOut = $0 { true } else { false } } })
            let fresh = try RawConnection(port: server.port)
            fresh.send(get("/ok"))
            #expect(fresh.readResponse()?.status == 200)
        }
    }

    @Test("an idle keep-alive connection is closed at the head deadline")
    func idleKeepAlive() throws {
        try withHTTPServer({ $0.headTimeout = .milliseconds(300) }) { server, _, _ in
            let connection = try RawConnection(port: server.port)
            connection.send(get("/ok"))
            #expect(connection.readResponse()?.status == 200)
            let (bytes, ending) = connection.readToEnd()
            #expect(bytes.isEmpty)
            #expect(ending == .closed)
        }
    }

    @Test("a body that falls below the minimum rate is cut off")
    func slowBody() throws {
        try withHTTPServer({
            $0.bodyTimeout = .milliseconds(300)
            $0.bodyMinimumBytesPerSecond = 1000
        }) { server, recorder, events in
            let connection = try RawConnection(port: server.port)
            connection.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1000000\r\n\r\n")
            var sent = 0
            while connection.isSilent, sent < 3000 {
                guard connection.send([UInt8](repeating: 0x61, count: 10)) else { break }
                sent += 10
                usleep(100_000)
            }
            let (bytes, ending) = connection.readToEnd()
            #expect(RawResponse(bytes) == nil)
            #expect(ending != .timedOut)
            #expect(eventually { recorder.completion(for: "/echo")?.abnormal == true })
            #expect(eventually { events.all.contains { if case .bodyTooSlow = $0 { true } else { false } } })
        }
    }

    @Test("a body sent at once is never cut off, however large")
    func fastBody() throws {
        try withHTTPServer({
            $0.bodyTimeout = .milliseconds(300)
            $0.bodyMinimumBytesPerSecond = 1000
        }) { server, _, _ in
            let connection = try RawConnection(port: server.port)
            connection.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 3000000\r\n\r\n")
            connection.send([UInt8](repeating: 0x61, count: 3_000_000))
            let response = try #require(connection.readResponse())
            #expect(response.text == "received 3000000")
        }
    }

    @Test("past the held-request bound a request is answered 503 instead of held")
    func heldBound() throws {
        try withHTTPServer({
            $0.maximumHeldRequests = 2
            $0.heldLimitMessage = "held limit reached"
        }) { server, _, events in
            let first = try RawConnection(port: server.port), second = try RawConnection(port: server.port)
            first.send(get("/hang"))
            second.send(get("/delay/600000"))
            #expect(eventually { server.load.heldRequests == 2 })
            let third = try RawConnection(port: server.port)
            third.send(get("/hang"))
            let refused = try #require(third.readResponse())
            #expect(refused.status == 503)
            #expect(refused.text == "held limit reached\n")
            #expect(eventually { events.all.contains(.heldRequestsRefused(count: 1)) })
            first.close()
            second.close()
            #expect(eventually { server.load.heldRequests == 0 })
            let fourth = try RawConnection(port: server.port)
            fourth.send(get("/hang"))
            #expect(eventually { server.load.heldRequests == 1 })
            #expect(fourth.isSilent)
        }
    }
}

@Suite("HTTP server: steering a body as it arrives")
struct HTTPBodyStepTests {
    private func post(_ path: String, bodyBytes: Int) -> String {
        "POST \(path) HTTP/1.1\r\nHost: test\r\nContent-Length: \(bodyBytes)\r\n\r\n"
    }

    @Test("a reset after N body bytes takes exactly N, answers nothing and resets the connection")
    func resetAfter() throws {
        try withHTTPServer { server, recorder, _ in
            let connection = try RawConnection(port: server.port)
            connection.send(post("/reset-after/1000", bodyBytes: 5000) + String(repeating: "a", count: 5000))
            let (bytes, ending) = connection.readToEnd()
            #expect(bytes.isEmpty)
            #expect(ending == .reset)
            let completion = try #require(eventually { recorder.completion(for: "/reset-after/1000") != nil }
                ? recorder.completion(for: "/reset-after/1000") : nil)
            #expect(completion.status == nil)
            #expect(completion.bytesReceived == 1000)
            #expect(completion.abnormal)
        }
    }

    @Test("a close after N body bytes answers nothing")
    func closeAfter() throws {
        try withHTTPServer { server, recorder, _ in
            let connection = try RawConnection(port: server.port)
            connection.send(post("/close-after/10", bodyBytes: 20) + String(repeating: "a", count: 20))
            let (bytes, ending) = connection.readToEnd()
            #expect(bytes.isEmpty)
            #expect(ending != .timedOut)
            #expect(eventually { recorder.completion(for: "/close-after/10")?.bytesReceived == 10 })
        }
    }

    @Test("a stall stops reading: no answer, the request is held, and released when the client leaves")
    func stall() throws {
        try withHTTPServer { server, recorder, events in
            let connection = try RawConnection(port: server.port)
            connection.send(post("/stall-after/100", bodyBytes: 200) + String(repeating: "a", count: 200))
            // Reported at once, so a test can read the journal while its client still waits.
            #expect(eventually { recorder.completion(for: "/stall-after/100")?.bytesReceived == 100 })
            #expect(recorder.completion(for: "/stall-after/100")?.status == nil)
            #expect(server.load.heldRequests == 1)
            #expect(connection.isSilent)
            connection.close()
            #expect(eventually { server.load.heldRequests == 0 })
            #expect(eventually { events.all.contains(.heldClientsDeparted(count: 1)) })
        }
    }

    @Test("a throttled body arrives whole, no faster than asked, and the guard's body deadline spares it")
    func throttle() throws {
        // Without the exemption the guard would close a body slower than 100 kB/s after 0.1 s.
        try withHTTPServer({ $0.bodyTimeout = .milliseconds(100); $0.bodyMinimumBytesPerSecond = 100_000 }) { server, _, _ in
            let connection = try RawConnection(port: server.port)
            let started = ContinuousClock.now
            connection.send(post("/throttle/20000", bodyBytes: 30_000) + String(repeating: "a", count: 30_000))
            let response = try #require(connection.readResponse())
            #expect(response.status == 200)
            #expect(response.text == "received 30000")
            // A lower bound only: 30,000 bytes at 20,000 bytes/s cannot take less than about 1.5 s.
            #expect(ContinuousClock.now - started >= .milliseconds(1_300))
            #expect(eventually { server.load.heldRequests == 0 })
        }
    }

    @Test("throttled and stalled bodies hold no thread: other requests are answered meanwhile")
    func heldWithoutThreads() throws {
        try withHTTPServer({ $0.threads = 1 }) { server, _, _ in
            var held: [RawConnection] = []
            for index in 0..<40 {
                let connection = try RawConnection(port: server.port)
                let path = index.isMultiple(of: 2) ? "/throttle/10" : "/stall-after/1"
                connection.send(post(path, bodyBytes: 1000) + String(repeating: "a", count: 1000))
                held.append(connection)
            }
            #expect(eventually { server.load.heldRequests == 40 })
            let probe = try RawConnection(port: server.port)
            probe.send(get("/ok"))
            #expect(probe.readResponse()?.text == "ok")
            held.forEach { $0.close() }
            #expect(eventually { server.load.heldRequests == 0 })
        }
    }

    @Test("past the held-request bound a throttled body is read at full speed and answered 503")
    func throttleBound() throws {
        try withHTTPServer({ $0.maximumHeldRequests = 1 }) { server, _, _ in
            let first = try RawConnection(port: server.port)
            first.send(post("/stall-after/1", bodyBytes: 10) + "aaaaaaaaaa")
            #expect(eventually { server.load.heldRequests == 1 })
            let second = try RawConnection(port: server.port)
            second.send(post("/throttle/10", bodyBytes: 1000) + String(repeating: "a", count: 1000))
            #expect(second.readResponse()?.status == 503)
        }
    }
}
