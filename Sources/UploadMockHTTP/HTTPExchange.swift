/// Decides, for each request head, which exchange serves it.
package protocol HTTPHandler: Sendable {
    func makeExchange(for head: HTTPRequestHead) -> any HTTPExchange
    /// Paths requests name exactly as written (routes without parameters): a request for one
    /// of them gets this String as its path rather than a new one.
    var knownPaths: [String] { get }
}

extension HTTPHandler {
    package var knownPaths: [String] { [] }
}

/// One request/response exchange. The server calls it from one thread at a time, in order:
/// `begin`, then `receive` for each piece of body, then `finish`, and always `completed`.
package protocol HTTPExchange: AnyObject {
    /// What to do with the body, decided from the head alone.
    func begin() -> HTTPBodyStep
    /// The next piece of the body, valid only during the call; what to do with the rest.
    func receive(_ bytes: UnsafeRawBufferPointer) -> HTTPBodyStep
    /// The whole body has arrived.
    func finish() -> HTTPReply
    /// The reply is being handed to the client (or the connection ended without one); called
    /// once, before the first response byte is sent.
    func completed(_ completion: HTTPCompletion)
}

/// What the server does with a request body, as an exchange asks after each step.
package enum HTTPBodyStep: Sendable {
    /// Keep reading: every byte offered was taken.
    case proceed
    /// Keep reading, no faster than this from now on (a slow uplink). Between pieces the
    /// connection is parked without a thread and counts as a held request.
    case throttle(bytesPerSecond: Int)
    /// Stop reading for the exchange: the rest of the body is read and dropped, then this
    /// reply is sent (a reply can only follow a whole body).
    case refuse(HTTPReply)
    /// Take only the first `consumed` bytes offered, then end the request without an answer.
    case interrupt(HTTPInterruption, consumed: Int)
}

/// How a request ends while its body is still arriving; every one is a rehearsed failure.
package enum HTTPInterruption: Sendable, Equatable {
    /// Abort the connection with a TCP reset.
    case reset
    /// Close the connection.
    case close
    /// Stop reading: the client's send blocks once the socket buffers fill, until it gives
    /// up, the server stops or the idle timeout passes.
    case stall
}

/// What happened to an exchange, for journals and logs.
package struct HTTPCompletion: Sendable {
    /// The status answered, or nil when the connection ended without a response.
    package var status: Int?
    package var bytesReceived: Int
    package var duration: Duration
    /// True when the connection ended abnormally (client gone, timeout, injected fault).
    package var abnormal: Bool
}
