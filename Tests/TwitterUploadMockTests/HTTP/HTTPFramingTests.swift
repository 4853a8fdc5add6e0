import Testing
@testable import UploadMockHTTP

@Suite("HTTP framing (RFC 9112 §6)")
struct HTTPFramingTests {
    static let refused: [(headers: [(String, String)], status: Int, says: String)] = [
        ([("Transfer-Encoding", "gzip, chunked")], 501, "the 'gzip' coding is not supported"),
        ([("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "chunked")], 501, "the 'gzip' coding is not supported"),
        ([("Transfer-Encoding", "chunked, chunked")], 400, "applies chunked more than once"),
        ([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")], 400, "applies chunked more than once"),
        ([("Transfer-Encoding", "identity")], 400, "does not end with chunked"),
        ([("Transfer-Encoding", "chunked, gzip")], 400, "does not end with chunked"),
        ([("Transfer-Encoding", "chunked ")], 501, "exactly 'chunked'"),
        ([("Transfer-Encoding", "chunked,")], 501, "exactly 'chunked'"),
        ([("Transfer-Encoding", "")], 400, "Transfer-Encoding is empty"),
        ([("Transfer-Encoding", "chu nked")], 400, "is not a list of transfer codings"),
        ([("Transfer-Encoding", "chunked;q=1")], 400, "chunked takes no parameters"),
        ([("Transfer-Encoding", "chunked"), ("Content-Length", "5")], 400, "Transfer-Encoding and Content-Length together"),
        ([("Content-Length", "5"), ("Content-Length", "6")], 400, "Content-Length appears 2 times ('5, 6')"),
        ([("Content-Length", "5"), ("Content-Length", "5")], 400, "Content-Length appears 2 times"),
        ([("Content-Length", "-5")], 400, "is not a number of bytes"),
        ([("Content-Length", "")], 400, "is not a number of bytes"),
    ]

    @Test("unsupported or malformed framing is refused with the status RFC 9112 names", arguments: refused.indices)
    func refusedFraming(index: Int) {
        let (fields, status, says) = Self.refused[index]
        let violation = HTTPFraming.check(HTTPHeaders(fields.map { (name: $0.0, value: $0.1) }))
        #expect(violation?.status == status)
        #expect(violation?.message.contains(says) == true, "\(violation?.message ?? "accepted")")
    }

    @Test("ordinary framing passes")
    func accepted() {
        for fields in [[], [("Content-Length", "0")], [("Content-Length", "123")], [("transfer-encoding", "Chunked")],
                       [("Host", "x"), ("Transfer-Encoding", "chunked")]] {
            #expect(HTTPFraming.check(HTTPHeaders(fields.map { (name: $0.0, value: $0.1) })) == nil)
        }
    }

    @Test("messages quote at most a short prefix of a huge header")
    func hugeValue() throws {
        let huge = String(repeating: "x", count: 200_000)
        let violation = try #require(HTTPFraming.check(HTTPHeaders([(name: "Transfer-Encoding", value: huge)])))
        #expect(violation.message.utf8.count < 300)
        #expect(violation.message.contains("(200000 bytes)"))
    }

    @Test("over a socket, a refused framing is answered and the connection closed",
          arguments: ["Transfer-Encoding: gzip, chunked", "Transfer-Encoding: chunked, chunked", "Transfer-Encoding: identity",
                      "Transfer-Encoding: chunked ", "Content-Length: 5\r\nContent-Length: 6",
                      "Content-Length: 5\r\nContent-Length: 5", "Transfer-Encoding: chunked\r\nContent-Length: 5"])
    func overTheWire(headers: String) throws {
        try withHTTPServer { server, recorder, events in
            let connection = try RawConnection(port: server.port)
            connection.send("POST /echo HTTP/1.1\r\nHost: test\r\n\(headers)\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
            let (bytes, ending) = connection.readToEnd()
            let response = try #require(RawResponse(bytes))
            #expect([400, 501].contains(response.status))
            #expect(response.headers["connection"] == "close")
            #expect(response.headers["content-type"] == "text/plain; charset=utf-8")
            #expect(response.text.hasSuffix("\n"))
            #expect(ending == .closed)
            // The handler never saw it.
            #expect(recorder.completion(for: "/echo") == nil)
            #expect(events.all.contains { if case .framingRefused = $0 { true } else { false } })
        }
    }
}

@Suite("Connection table")
struct ConnectionTableTests {
    let start = ContinuousClock.now

    @Test("past the soft limit, the connection waiting longest for a head is closed; busy ones and the newcomer never")
    func shedding() {
        var table = ConnectionTable()
        let busy = table.open(socket: -1, now: start, softLimit: 2)
        let busyStarted = table.headArrived(busy, expectsBody: false, now: start)
        #expect(busyStarted)
        let older = table.open(socket: -1, now: start + .seconds(1), softLimit: 2)
        let newer = table.open(socket: -1, now: start + .seconds(2), softLimit: 2)
        #expect(table.tally.shed == 1)
        #expect(table.openCount == 2)
        // The shed one cannot start a request any more; the others can.
        let olderStarted = table.headArrived(older, expectsBody: false, now: start + .seconds(3))
        let newerStarted = table.headArrived(newer, expectsBody: false, now: start + .seconds(3))
        #expect(!olderStarted)
        #expect(newerStarted)
        // Everyone busy: the newcomer is let in over the soft limit rather than turned away.
        _ = table.open(socket: -1, now: start + .seconds(4), softLimit: 2)
        #expect(table.openCount == 3)
        let tally = table.takeTally()
        #expect(tally.shed == 1)
        #expect(table.tally.isEmpty)
    }

    @Test("a head is due within the head timeout, from the connection or the previous response")
    func headDeadline() {
        var table = ConnectionTable()
        let serial = table.open(socket: -1, now: start, softLimit: 10)
        table.expire(now: start + .seconds(29), headTimeout: .seconds(30), bodyTimeout: .seconds(30), minimumBytesPerSecond: 1)
        #expect(table.openCount == 1)
        let started = table.headArrived(serial, expectsBody: false, now: start + .seconds(29))
        #expect(started)
        table.requestEnded(serial, now: start + .seconds(40))
        table.expire(now: start + .seconds(69), headTimeout: .seconds(30), bodyTimeout: .seconds(30), minimumBytesPerSecond: 1)
        #expect(table.openCount == 1)
        table.expire(now: start + .seconds(70), headTimeout: .seconds(30), bodyTimeout: .seconds(30), minimumBytesPerSecond: 1)
        #expect(table.openCount == 0)
        #expect(table.tally.headTimeouts == 1)
    }

    @Test("after the body timeout every second must be paid for with the minimum rate")
    func bodyRate() {
        var table = ConnectionTable()
        let serial = table.open(socket: -1, now: start, softLimit: 10)
        let started = table.headArrived(serial, expectsBody: true, now: start)
        #expect(started)
        table.bodyReceived(serial, bytes: 10_000)  // ten seconds bought at 1000 B/s
        table.expire(now: start + .seconds(39), headTimeout: .seconds(1), bodyTimeout: .seconds(30), minimumBytesPerSecond: 1000)
        #expect(table.openCount == 1)
        table.expire(now: start + .seconds(41), headTimeout: .seconds(1), bodyTimeout: .seconds(30), minimumBytesPerSecond: 1000)
        #expect(table.openCount == 0)
        #expect(table.tally.slowBodies == 1)
    }

    @Test("a rate of 0 turns the body check off; a finished body is no longer timed")
    func bodyRateOff() {
        var table = ConnectionTable()
        let slow = table.open(socket: -1, now: start, softLimit: 10)
        let started = table.headArrived(slow, expectsBody: true, now: start)
        #expect(started)
        table.expire(now: start + .seconds(3600), headTimeout: .seconds(1), bodyTimeout: .seconds(1), minimumBytesPerSecond: 0)
        #expect(table.openCount == 1)
        table.bodyFinished(slow)
        table.expire(now: start + .seconds(7200), headTimeout: .seconds(1), bodyTimeout: .seconds(1), minimumBytesPerSecond: 1000)
        #expect(table.openCount == 1)
    }

    @Test("configured bounds are made consistent before use")
    func effectiveLimits() {
        var configuration = HTTPServerConfiguration()
        configuration.maximumConnections = 100
        configuration.connectionHeadroom = 500
        configuration.maximumHeldRequests = 1000
        configuration.headTimeout = .zero
        let limits = EffectiveLimits(configuration, descriptorLimit: 1_000_000)
        #expect(limits.maximumConnections == 100)
        #expect(limits.softLimit == 1)
        #expect(limits.maximumHeld == 1)
        #expect(limits.headTimeout > .zero)
        let fitted = EffectiveLimits(HTTPServerConfiguration(), descriptorLimit: 1024)
        #expect(fitted.maximumConnections == 1024 - HTTPServer.reservedDescriptors)
    }
}
