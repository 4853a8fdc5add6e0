#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `/__admin`: what arrived, the journal, and reset. Never rate limited, never faulted.
struct AdminAPI: Sendable {
    let application: MockApplication

    func respond(to head: HTTPRequestHead, body: [UInt8]) -> HTTPReply {
        let parts = head.path.split(separator: "/", omittingEmptySubsequences: true).dropFirst().map(String.init)
        let route = [head.method] + parts
        if route == ["GET", "health"] {
            return Self.json(200, .object(["status": "ok"]))
        }
        if route == ["GET", "uploads"] {
            return Self.json(200, .object(["uploads": .array(application.reports().map(\.json))]))
        }
        if route.count >= 3, route[0] == "GET", route[1] == "uploads" {
            guard let id = UInt64(decimal: route[2]), let session = application.service.store.session(id) else {
                return Self.notFound("no upload with media_id \(route[2])")
            }
            if route.count == 3 { return Self.json(200, application.report(session).json) }
            if route.count == 4, route[3] == "media" {
                return HTTPReply(status: 200, headers: [("content-type", session.mediaType)],
                                 body: .source(SegmentsBody(session.orderedSegments.map { $0.segment })))
            }
        }
        if route == ["GET", "requests"] {
            return Self.json(200, .object(["requests": .array(application.journal.all.map { $0.json })]))
        }
        if parts.first == "faults" || parts.first == "rate-limits" {
            return rules(head.method, parts, body: body)
        }
        if route == ["POST", "reset"] {
            application.reset()
            return Self.json(200, .object(["status": "reset"]))
        }
        return Self.notFound("no admin route \(head.method) \(head.path)")
    }

    /// `/__admin/faults` and `/__admin/rate-limits`: add (one rule or an array), list, delete.
    private func rules(_ method: String, _ parts: [String], body: [UInt8]) -> HTTPReply {
        let faults = parts[0] == "faults"
        let listKey = faults ? "faults" : "rate_limits"
        switch (method, parts.count) {
        case ("GET", 1):
            let rules = faults ? application.faults.rules.map(\.json) : application.rateLimiter.rules.map(\.json)
            return Self.json(200, .object([listKey: .array(rules)]))
        case ("POST", 1):
            do {
                let document = try JSONValue.parse(body)
                let values: [JSONValue] = if case .array(let many) = document { many } else { [document] }
                let added: [JSONValue] = try values.enumerated().map { (index, value) throws(JSONReadError) in
                    let path = values.count == 1 ? "rule" : "rules[\(index)]"
                    return faults
                        ? application.faults.add(try FaultRule(json: value, path: path)).json
                        : application.rateLimiter.add(try RateLimitRule(json: value, path: path)).json
                }
                if case .array = document { return Self.json(201, .object([listKey: .array(added)])) }
                return Self.json(201, added[0])
            } catch {
                return Self.badRequest("\(error)")
            }
        case ("DELETE", 1):
            if faults { application.faults.removeAll() } else { application.rateLimiter.removeAll() }
            return HTTPReply(status: 204)
        case ("DELETE", 2):
            let removed = faults ? application.faults.remove(id: parts[1]) : application.rateLimiter.remove(id: parts[1])
            return removed ? HTTPReply(status: 204) : Self.notFound("no rule with id \(parts[1])")
        default:
            return Self.notFound("no admin route \(method) /__admin/\(parts.joined(separator: "/"))")
        }
    }

    static func json(_ status: Int, _ value: JSONValue) -> HTTPReply {
        HTTPReply(status: status, headers: [("content-type", "application/json;charset=utf-8")],
                  body: .bytes(value.serialized))
    }

    static func notFound(_ message: String) -> HTTPReply {
        json(404, .object(["error": .string(message)]))
    }

    static func badRequest(_ message: String) -> HTTPReply {
        json(400, .object(["error": .string(message)]))
    }
}

/// Reassembled media streamed straight from the stored segments, without a joined copy.
struct SegmentsBody: HTTPBodySource {
    private let segments: [StoredSegment]
    private let starts: [Int]
    let count: Int

    init(_ segments: [StoredSegment]) {
        self.segments = segments
        var offset = 0
        starts = segments.map { segment in
            defer { offset += segment.count }
            return offset
        }
        count = offset
    }

    func copyBytes(from offset: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard offset < count else { return 0 }
        var segment = (starts.lastIndex { $0 <= offset }) ?? 0
        var position = offset, copied = 0
        while copied < buffer.count, segment < segments.count {
            let start = position - starts[segment]
            let length = segments[segment].copyBytes(
                from: start, into: UnsafeMutableRawBufferPointer(rebasing: buffer[copied...]))
            copied += length
            position += length
            segment += 1
        }
        return copied
    }
}

/// Reads a small body whole (admin calls are tiny), then answers it.
final class BufferedExchange: HTTPExchange {
    static let maximumBodyBytes = 1024 * 1024
    private let head: HTTPRequestHead
    private let respond: @Sendable (HTTPRequestHead, [UInt8]) -> HTTPReply
    private var body: [UInt8] = []

    init(head: HTTPRequestHead, respond: @escaping @Sendable (HTTPRequestHead, [UInt8]) -> HTTPReply) {
        self.head = head
        self.respond = respond
    }

    func begin() -> HTTPReply? {
        if let length = head.contentLength, length > Self.maximumBodyBytes {
            return AdminAPI.json(413, .object(["error": .string("admin request bodies are limited to \(Self.maximumBodyBytes) bytes")]))
        }
        return nil
    }

    func receive(_ bytes: UnsafeRawBufferPointer) -> HTTPReply? {
        guard body.count + bytes.count <= Self.maximumBodyBytes else {
            return AdminAPI.json(413, .object(["error": .string("admin request bodies are limited to \(Self.maximumBodyBytes) bytes")]))
        }
        body.append(contentsOf: bytes)
        return nil
    }

    func finish() -> HTTPReply { respond(head, body) }

    func completed(_ completion: HTTPCompletion) {}
}
