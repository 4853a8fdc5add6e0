import UploadMockHTTP

/// Reads a small body whole, then answers it: admin calls, refusals, and JSON endpoints
/// whose bodies are small by nature.
final class BufferedExchange: HTTPExchange {
    private let head: HTTPRequestHead
    private let maximumBodyBytes: Int
    private let tooLarge: @Sendable () -> HTTPReply
    private let respond: @Sendable (HTTPRequestHead, [UInt8]) -> HTTPReply
    private let completion: @Sendable (HTTPCompletion) -> Void
    private var body: [UInt8] = []

    /// - Parameters:
    ///   - tooLarge: the answer to a body over `maximumBodyBytes`, sent as soon as that is known.
    ///   - completed: told how the exchange ended, for journals.
    init(head: HTTPRequestHead, maximumBodyBytes: Int, tooLarge: @escaping @Sendable () -> HTTPReply,
         completed: @escaping @Sendable (HTTPCompletion) -> Void = { _ in },
         respond: @escaping @Sendable (HTTPRequestHead, [UInt8]) -> HTTPReply) {
        self.head = head
        self.maximumBodyBytes = maximumBodyBytes
        self.tooLarge = tooLarge
        self.respond = respond
        completion = completed
    }

    func begin() -> HTTPReply? {
        if let length = head.contentLength, length > maximumBodyBytes { return tooLarge() }
        return nil
    }

    func receive(_ bytes: UnsafeRawBufferPointer) -> HTTPReply? {
        guard body.count + bytes.count <= maximumBodyBytes else { return tooLarge() }
        body.append(contentsOf: bytes)
        return nil
    }

    func finish() -> HTTPReply { respond(head, body) }

    func completed(_ completion: HTTPCompletion) {
        self.completion(completion)
    }
}
