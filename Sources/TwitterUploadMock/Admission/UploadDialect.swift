import UploadMockAuth
import UploadMockDomain
import UploadMockForms
import UploadMockHTTP

/// What one API dialect (v1.1's form endpoint, v1.1's JSON endpoints, v2) supplies to the
/// admission pipeline, `UploadExchange`: how its requests are read and how its answers are
/// written. Authentication, rate limits, faults, the journal and the order of it all are the
/// pipeline's, the same for every dialect.
protocol UploadDialect {
    /// The dialect's refusals, in its own shapes.
    associatedtype Refusal: UploadRefusal
    /// A request read far enough that rules can name it, ready to be performed.
    associatedtype Request

    static var api: UploadAPI { get }
    /// The credentials its endpoints take.
    static var credentials: AcceptedCredentials { get }
    /// The real service's origins a client may have signed for.
    static var realBaseURLs: [String] { get }

    /// The command the endpoint alone implies, before anything is read; nil when the request
    /// names it.
    var impliedCommand: UploadCommand? { get }

    /// How the body is read, decided from the head; refuses what the head alone shows is wrong.
    mutating func plan(_ head: HTTPRequestHead, application: MockApplication) throws(Refusal) -> UploadBodyPlan<Refusal>

    /// The refusal of a body longer than the plan allows.
    func bodyTooLarge(declared: Int?, limit: Int) -> Refusal

    /// What the request names, as far as the head and the body so far tell: nil while the body
    /// may still name more before its media (fault rules that act on the body wait for it).
    func earlyNames(_ head: HTTPRequestHead, body: UploadBodyReader<Refusal>, bodyComplete: Bool) -> RequestNames?

    /// The whole request, read after authentication: what it names and what to perform.
    func identify(_ head: HTTPRequestHead, body: UploadBody) throws(Refusal) -> (names: RequestNames, request: Request)

    /// The dialect's own check once rate limits have counted the request (v1.1: the command's method).
    func check(_ request: Request, head: HTTPRequestHead) throws(Refusal)

    /// Performs the request on the domain and writes the answer after `headers`.
    func perform(_ request: Request, head: HTTPRequestHead, as requester: Requester, application: MockApplication,
                 headers: [(name: String, value: String)]) throws(Refusal) -> UploadReply
}

extension UploadDialect {
    func check(_ request: Request, head: HTTPRequestHead) throws(Refusal) {}

    /// Refuses a declared length over `maximum` before any of the body is read.
    func refuseDeclaredLength(_ head: HTTPRequestHead, over maximum: Int) throws(Refusal) {
        if let declared = head.contentLength, declared > maximum { throw bodyTooLarge(declared: declared, limit: maximum) }
    }
}

/// The refusals the pipeline itself words, in each dialect's shapes.
protocol UploadRefusal: UploadParameterFailures, Sendable, CustomStringConvertible {
    static var rateLimitExceeded: Self { get }
    /// A fault rule's status, with its message or the status's usual one.
    static func injected(status: Int, message: String?) -> Self
    static func malformedBody(_ reason: String) -> Self
    /// A credential of a kind the endpoint never takes.
    static func unsupportedAuthentication(because reason: String) -> Self
    /// No credential, or an invalid one.
    static func invalidCredentials(because reason: String) -> Self
    /// A credential that breaks its protocol's syntax.
    static func malformedCredentials(because reason: String) -> Self

    /// The refusal as the client sees it.
    func reply(requestPath: String, headers: [(name: String, value: String)]) -> HTTPReply
}

/// What a request names, for rules and the journal.
struct RequestNames: Sendable {
    var command: UploadCommand?
    var mediaID: UInt64?
    var segmentIndex: Int?
}

/// A performed request: the answer, and what it taught the journal.
struct UploadReply {
    var reply: HTTPReply
    var mediaID: UInt64?
    var segmentIndex: Int?
    /// What the mock inferred or tolerated.
    var note: String?
    /// Media bytes an APPEND stored.
    var storedMediaBytes: Int?
}

/// How the pipeline reads a body, as the dialect planned it from the head.
struct UploadBodyPlan<Refusal: UploadRefusal> {
    var reader: UploadBodyReader<Refusal>
    /// What the body may total; a chunked body declares nothing, so its bytes are counted.
    var maximumBytes: Int
}

/// A body being read.
enum UploadBodyReader<Refusal: UploadRefusal> {
    /// Counted and dropped: no body, or one the endpoint reads nothing from.
    case ignored
    /// Form fields streamed into upload parameters (multipart or urlencoded; for v1.1 also
    /// the query string's, with no body at all).
    case form(FormBodyParser, UploadParameterCollector<Refusal>)
    /// Kept whole: JSON bodies.
    case whole([UInt8])
    /// A JSON body whose `media` member is base64 decoded as it streams, the rest kept as
    /// members (v2's append and one-shot upload): the body itself is never held.
    case mediaJSON(V2StreamedJSONReader)

    mutating func read(_ bytes: UnsafeRawBufferPointer) throws(Refusal) {
        // Consumed, so the payload moves out: its buffers stay uniquely referenced while they
        // grow, and nothing is retained and released field by field, as copying it out and
        // resetting `self` did for every piece of every body.
        switch consume self {
        case .ignored:
            self = .ignored
        case .form(var parser, var collector):
            defer { self = .form(parser, collector) }
            do {
                try parser.feed(bytes) { collector.handle($0) }
            } catch {
                throw .malformedBody(error.reason)
            }
            if let failure = collector.failure { throw failure }
        case .whole(var buffer):
            buffer.append(contentsOf: bytes)
            self = .whole(buffer)
        case .mediaJSON(var json):
            json.receive(bytes)
            self = .mediaJSON(json)
        }
    }

    /// Bytes the reader buffers for the request so far (docs/configuration.md, Bounds).
    var heldBytes: Int {
        switch self {
        case .ignored: 0
        case .form(_, let collector): collector.heldBytes
        case .whole(let buffer): buffer.count
        case .mediaJSON(let json): json.heldBytes
        }
    }

    /// The body as read, once all of it has arrived; the reader is left empty.
    mutating func finish() throws(Refusal) -> UploadBody {
        // Moved out as in `read`: the last bytes a parser holds back must not copy the media.
        let reading = consume self
        self = .ignored
        switch consume reading {
        case .ignored:
            return .none
        case .form(var parser, var collector):
            do {
                try parser.finish { collector.handle($0) }
            } catch {
                throw .malformedBody(error.reason)
            }
            if let failure = collector.failure { throw failure }
            return .form(collector.parameters, multipart: !parser.isURLEncoded, signedPairs: collector.signedBodyPairs ?? [])
        case .whole(let bytes):
            return .whole(bytes)
        case .mediaJSON(var json):
            return .mediaJSON(json.finish())
        }
    }
}

/// A body as read.
enum UploadBody {
    /// None, or one nobody reads.
    case none
    /// Form parameters (the query string's too, for v1.1); the urlencoded pairs as sent when
    /// a signature must cover them.
    case form(UploadParameters, multipart: Bool, signedPairs: [(name: String, value: String)])
    case whole([UInt8])
    case mediaJSON(V2StreamedJSON)
}
