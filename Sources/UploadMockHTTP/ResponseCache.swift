import CMicroHTTPD
import Synchronization

/// libmicrohttpd responses of replies that repeat (`HTTPReply.repeats`), queued again rather
/// than rebuilt. libmicrohttpd 0.9.75 copies every header name and value (a node and two copies
/// per header: sixteen allocations for an answer with five headers) and has no call that takes
/// static ones; a response counts its references instead, and each connection sending it holds
/// one, so one response serves any number of connections at once (docs/performance.md).
final class ResponseCache: Sendable {
    /// libmicrohttpd locks a response's reference count: any thread may queue or let go of it.
    private struct Response: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private struct Entry: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]
        /// The cache's reference.
        var response: Response
    }

    /// Enough for the repeating answers of a few parallel clients.
    static let capacity = 16
    /// Longer bodies are compared byte by byte for nothing: they rarely repeat.
    static let maximumBodyBytes = 512

    /// Most recently kept last.
    private let entries = Mutex<[Entry]>([])

    deinit {
        entries.withLock { $0.forEach { MHD_destroy_response($0.response.pointer) } }
    }

    /// Whether a reply may be kept: one that says it repeats, sent as is, with a small body.
    static func accepts(_ reply: HTTPReply) -> Bool {
        guard reply.repeats, reply.delivery == .normal, reply.delay == .zero else { return false }
        switch reply.body {
        case .empty: return true
        case .bytes(let bytes): return bytes.count <= maximumBodyBytes
        case .source: return false
        }
    }

    /// Queues the kept response equal to `reply` on `connection`; nil when none is kept. Under
    /// the lock, so that the response cannot be let go between finding it and libmicrohttpd
    /// taking its reference (MHD_queue_response is the only call that takes one).
    func queue(_ reply: HTTPReply, on connection: OpaquePointer) -> MHD_Result? {
        let body = Self.bytes(reply.body)
        return entries.withLock { entries in
            guard let entry = entries.last(where: { Self.equal($0, reply, body: body) }) else { return nil }
            return MHD_queue_response(connection, UInt32(reply.status), entry.response.pointer)
        }
    }

    /// Keeps `response`, built for `reply`, taking over the caller's reference; past the
    /// capacity the oldest is let go (connections still sending it keep theirs).
    func keep(_ response: OpaquePointer, for reply: HTTPReply) {
        let entry = Entry(status: reply.status, headers: reply.headers, body: Self.bytes(reply.body), response: Response(pointer: response))
        let evicted = entries.withLock { entries -> Response? in
            entries.append(entry)
            return entries.count > Self.capacity ? entries.removeFirst().response : nil
        }
        if let evicted { MHD_destroy_response(evicted.pointer) }
    }

    private static func bytes(_ body: HTTPBody) -> [UInt8] {
        if case .bytes(let bytes) = body { return bytes }
        return []
    }

    private static func equal(_ entry: Entry, _ reply: HTTPReply, body: [UInt8]) -> Bool {
        entry.status == reply.status && entry.headers.count == reply.headers.count && entry.body == body
            && zip(entry.headers, reply.headers).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
