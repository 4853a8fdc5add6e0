/// Decides, for each request head, which exchange serves it.
package protocol HTTPHandler: Sendable {
    func makeExchange(for head: HTTPRequestHead) -> any HTTPExchange
}

/// One request/response exchange. The server calls it from one thread at a time, in order:
/// `begin`, then `receive` for each piece of body, then `finish`, and always `completed`.
package protocol HTTPExchange: AnyObject {
    /// Returns a reply to answer without reading the body (it is then refused or discarded).
    func begin() -> HTTPReply?
    /// The next piece of the body, valid only during the call. Returning a reply stops
    /// reading: the rest of the body is discarded and that reply is sent.
    func receive(_ bytes: UnsafeRawBufferPointer) -> HTTPReply?
    /// The whole body has arrived.
    func finish() -> HTTPReply
    /// The reply is being handed to the client (or the connection ended without one); called
    /// once, before the first response byte is sent.
    func completed(_ completion: HTTPCompletion)
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
