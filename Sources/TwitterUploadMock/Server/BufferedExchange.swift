import UploadMockHTTP

/// Reads a small body whole, then answers it: admin calls and refusals of unknown paths and
/// methods.
final class BufferedExchange: HTTPExchange {
    private let head: HTTPRequestHead
    private let maximumBodyBytes: Int
    private let tooLarge: @Sendable () -> HTTPReply
    private let respond: @Sendable (HTTPRequestHead, [UInt8]) -> HTTPReply
    private var body: [UInt8] = []

    /// - Parameter tooLarge: the answer to a body over `maximumBodyBytes`, sent as soon as that is known.
    init(head: HTTPRequestHead, maximumBodyBytes: Int, tooLarge: @escaping @Sendable () -> HTTPReply,
         respond: @escaping @Sendable (HTTPRequestHead, [UInt8]) -> HTTPReply) {
        self.head = head
        self.maximumBodyBytes = maximumBodyBytes
        self.tooLarge = tooLarge
        self.respond = respond
    }

    func begin() -> HTTPBodyStep {
        if let length = head.contentLength, length > maximumBodyBytes { return .refuse(tooLarge()) }
        return .proceed
    }

    func receive(_ bytes: UnsafeRawBufferPointer) -> HTTPBodyStep {
        guard body.count + bytes.count <= maximumBodyBytes else { return .refuse(tooLarge()) }
        body.append(contentsOf: bytes)
        return .proceed
    }

    func finish() -> HTTPReply { respond(head, body) }

    /// Admin calls and refusals of unknown routes are not journaled.
    func completed(_ completion: HTTPCompletion) {}
}
