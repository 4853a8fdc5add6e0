/// A response and how the transport should deliver it.
///
/// The HTTP layer executes delivery behaviours (delays, resets, truncation...) without knowing
/// why they were asked for; the chaos layer decides.
package struct HTTPReply: Sendable {
    package var status: Int
    package var headers: [(name: String, value: String)]
    package var body: HTTPBody
    /// Held back this long before anything is sent, without occupying a server thread.
    package var delay: Duration
    package var delivery: HTTPDelivery
    /// The handler expects to give the same reply again, byte for byte: the server may keep its
    /// response and send it again.
    package var repeats = false

    package init(status: Int, headers: [(name: String, value: String)] = [], body: HTTPBody = .empty,
                delay: Duration = .zero, delivery: HTTPDelivery = .normal) {
        self.status = status
        self.headers = headers
        self.body = body
        self.delay = delay
        self.delivery = delivery
    }
}

extension HTTPReply {
    /// The statuses a reply may carry; the server answers 500 for any other.
    package static let finalStatuses = 200...599

    /// Whether delivering this reply keeps the connection busy without progress (a delay, a
    /// hang, a slow body), so that it counts against the held-request bound.
    var holdsConnection: Bool {
        if delay > .zero { return true }
        switch delivery {
        case .hang, .slow: return true
        case .normal, .close, .reset, .truncate: return false
        }
    }
}

package enum HTTPBody: Sendable {
    case empty
    case bytes([UInt8])
    /// Streamed from the source as the client reads, so large bodies are never copied whole.
    case source(any HTTPBodySource)

    package var count: Int {
        switch self {
        case .empty: 0
        case .bytes(let bytes): bytes.count
        case .source(let source): source.count
        }
    }
}

/// Random-access bytes that a response streams from.
package protocol HTTPBodySource: Sendable {
    var count: Int { get }
    /// Copies up to `buffer.count` bytes starting at `offset`; returns how many were copied.
    func copyBytes(from offset: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int
}

/// How the transport hands a reply to the client; everything but `.normal` is a rehearsed failure.
package enum HTTPDelivery: Sendable, Equatable {
    case normal
    /// Close the connection without a response.
    case close
    /// Abort the connection with a TCP reset, no response.
    case reset
    /// Never answer; the connection is released when the client gives up or the server stops.
    case hang
    /// Send the headers and the first `bytes` of the body, then close.
    case truncate(bytes: Int)
    /// Dribble the body at this rate.
    case slow(bytesPerSecond: Int)
}
