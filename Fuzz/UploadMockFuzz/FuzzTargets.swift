// libFuzzer targets over the request path that needs no socket (docs/reliability.md, Fuzzing).
// `scripts/fuzz` builds this target with -sanitize=fuzzer,address and picks a target with
// UPLOAD_MOCK_FUZZ_TARGET. A target fails by trapping: every property below is checked with
// `check`, which stops the process so libFuzzer saves the input.
#if canImport(Glibc)
import Glibc
#endif
import Logging
@testable import TwitterUploadMock
@testable import UploadMockAuth
import UploadMockChaos
import UploadMockDomain
@testable import UploadMockForms
@testable import UploadMockHTTP
import UploadMockJSON

enum FuzzTarget: String, CaseIterable {
    /// Whole HTTP requests, one or more, v1.1 and v2, through the mock's router, exchanges and domain.
    case request
    /// Request head handling: framing checks, the request head's derived facts, routing.
    case httpHead = "http-head"
    /// Form bodies fed whole and in pieces must parse the same, and multipart ones the same with
    /// each delimiter filter.
    case forms
    /// Upload parameters collected from form events, with small limits.
    case parameters
    /// v2 JSON bodies read as they stream (JSONMediaBodyReader): the same verdict as JSONParser
    /// on the whole body, whole and in pieces, in every vector kernel the CPU runs, and the same
    /// answer to an append.
    case jsonMedia = "json-media"
    /// Base64 text: every vector kernel the CPU runs decodes as the scalar loop does.
    case base64
    /// Urlencoded bodies: every vector percent-decoding kernel the CPU runs gives the fields or
    /// the error the scalar loop gives, whole and in pieces.
    case percent
    /// OAuth 1.0a Authorization headers, parsed and verified.
    case oauth
    /// Config files: JSON syntax, then MockConfiguration.
    case config
    /// Fault and rate-limit rules POSTed to the admin API.
    case admin

    func run(_ input: [UInt8]) {
        switch self {
        case .request: fuzzRequests(input)
        case .httpHead: fuzzHead(input)
        case .forms: fuzzForms(input)
        case .parameters: fuzzParameters(input)
        case .jsonMedia: fuzzJSONMedia(input)
        case .base64: fuzzBase64(input)
        case .percent: fuzzPercent(input)
        case .oauth: fuzzOAuth(input)
        case .config: fuzzConfig(input)
        case .admin: fuzzAdmin(input)
        }
    }
}

let selectedTarget: FuzzTarget = {
    guard let name = getenv("UPLOAD_MOCK_FUZZ_TARGET").map({ String(cString: $0) }),
          let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        fatalError("set UPLOAD_MOCK_FUZZ_TARGET to one of: \(names)")
    }
    return target
}()

/// Runs the selected target on one input; main.swift hands it to `LLVMFuzzerRunDriver`.
let fuzzOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
    selectedTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

/// libFuzzer's own main() is linked in too (and never runs: SwiftPM points main at
/// main.swift); it refers to this name, so it must exist.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOneInput(data, size)
}

/// UPLOAD_MOCK_FUZZ_VERBOSE=1 prints each request of the `request` target and its status, to
/// check that a seed input does what it is meant to (`scripts/fuzz --replay request FILE`).
let verbose = getenv("UPLOAD_MOCK_FUZZ_VERBOSE") != nil

/// A line on stderr, unbuffered, so it is there even when the process ends abruptly.
func report(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// A property the code under test must keep; a violation is a finding.
func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("property violated: \(message())") }
}

// MARK: - Requests

/// A fresh mock per input, so inputs never depend on each other; a fixed seed makes media ids
/// predictable, so a corpus file can INIT, APPEND and FINALIZE one upload.
func makeApplication() -> MockApplication {
    var configuration = MockConfiguration()
    configuration.upload.processing.checkAfterSeconds = 0
    return MockApplication(configuration: configuration, seed: 1,
                           logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }),
                           scenarios: ScenarioCatalog((try? ScenarioCatalog.builtIn()) ?? []))
}

/// `METHOD target HTTP/1.1`, header lines, an empty line, then the body; requests are
/// separated by a line `--- next request ---`. Media ids are made from the clock, so a
/// request says `{media_id}` for the one the latest INIT (v1.1 or v2) answered.
func fuzzRequests(_ input: [UInt8]) {
    let application = makeApplication()
    var mediaID = Array("1".utf8)
    for request in split(input, separator: Array("\r\n--- next request ---\r\n".utf8)).prefix(16) {
        guard let parsed = parseRequest(replacing(Array("{media_id}".utf8), with: mediaID, in: request)) else { continue }
        var head = parsed.head
        let body = parsed.body
        // Whatever follows the head is the body (libmicrohttpd would have framed it), so a
        // hand-written input needs no Content-Length; one it gives is kept, to be fuzzed.
        if !body.isEmpty, head.headers["content-length"] == nil, head.headers["transfer-encoding"] == nil {
            head.headers.add(name: "Content-Length", value: String(body.count))
        }
        guard HTTPFraming.check(head.headers) == nil else { continue }  // answered by the HTTP layer
        let exchange = application.makeExchange(for: head)
        var step = exchange.begin()
        var received = 0
        for piece in pieces(of: body, seed: input.count) {
            if case .throttle = step { step = .proceed }  // pacing is the HTTP layer's; the bytes are the same
            guard case .proceed = step else { break }
            received += piece.count
            step = piece.withUnsafeBytes { exchange.receive($0) }
        }
        let final: HTTPReply
        switch step {
        case .proceed, .throttle: final = exchange.finish()
        case .refuse(let reply): final = reply
        case .interrupt(_, let consumed):
            check(consumed >= 0, "an interruption that takes \(consumed) bytes")
            exchange.completed(HTTPCompletion(status: nil, bytesReceived: received, duration: .zero, abnormal: true))
            continue
        }
        if verbose {
            let detail = if case .bytes(let bytes) = final.body, final.status >= 400 {
                " " + String(decoding: bytes.prefix(200), as: UTF8.self)
            } else {
                ""
            }
            report("\(head.method) \(head.path)?\(head.query) -> \(final.status)\(detail)")
        }
        check(final.delivery != .normal || HTTPReply.finalStatuses.contains(final.status),
              "a normal reply with status \(final.status)")
        readWhole(final.body)
        if case .bytes(let bytes) = final.body, let id = initializedID(in: bytes) { mediaID = Array(id.utf8) }
        exchange.completed(HTTPCompletion(status: final.status, bytesReceived: received, duration: .zero, abnormal: false))
    }
}

/// The media id an INIT answered: v1.1's `media_id_string`, or v2's `data.id`.
func initializedID(in body: [UInt8]) -> String? {
    guard case .object(let object)? = try? JSONParser.parse(body) else { return nil }
    if case .string(let id)? = object["media_id_string"] { return id }
    if case .object(let data)? = object["data"], case .string(let id)? = data["id"] { return id }
    return nil
}

/// Reads a reply body the way the server streams it, so lazily produced bodies are exercised.
func readWhole(_ body: HTTPBody) {
    guard case .source(let source) = body else { return }
    var buffer = [UInt8](repeating: 0, count: 4096)
    var offset = 0
    while offset < source.count {
        let copied = buffer.withUnsafeMutableBytes { source.copyBytes(from: offset, into: $0) }
        check(copied > 0 && copied <= 4096, "copyBytes returned \(copied) at \(offset) of \(source.count)")
        offset += copied
    }
}

/// A lenient reader for corpus files: the server's own parsing is libmicrohttpd's.
func parseRequest(_ bytes: ArraySlice<UInt8>) -> (head: HTTPRequestHead, body: [UInt8])? {
    let separator = Array("\r\n\r\n".utf8)
    let end = firstRange(of: separator, in: bytes) ?? bytes.endIndex
    let lines = String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
    guard let requestLine = lines.first else { return nil }
    let words = requestLine.split(separator: " ")
    guard words.count >= 2 else { return nil }
    var headers = HTTPHeaders()
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers.add(name: String(line[..<colon]), value: String(line[line.index(after: colon)...].drop { $0 == " " }))
    }
    let body = end < bytes.endIndex ? Array(bytes[(end + separator.count)...]) : []
    return (HTTPRequestHead(method: String(words[0]), target: String(words[1]), headers: headers), body)
}

// MARK: - HTTP head

func fuzzHead(_ input: [UInt8]) {
    guard let (head, _) = parseRequest(input[...]) else { return }
    let verdict = HTTPFraming.check(head.headers)
    if let verdict {
        check(verdict.status == 400 || verdict.status == 501, "framing status \(verdict.status)")
        check(verdict.message.utf8.count < 1024, "a framing message of \(verdict.message.utf8.count) bytes")
    } else {
        let encodings = head.headers.values(named: "transfer-encoding")
        let lengths = head.headers.values(named: "content-length")
        check(encodings.isEmpty || (encodings.count == 1 && encodings[0].lowercased() == "chunked" && lengths.isEmpty),
              "accepted Transfer-Encoding \(encodings)")
        check(lengths.count <= 1, "accepted \(lengths.count) Content-Length headers")
        if let length = lengths.first, head.contentLength == nil {
            check(length.count > 18, "a plain Content-Length \(length) that does not parse")
        }
    }
    _ = (head.hasBody, head.expectsContinue, head.isChunked)
    var routes = HTTPRoutes<Int>()
    routes.add("POST", "/1.1/media/upload.json", 1)
    routes.add("POST", "/2/media/upload/{id}/append", 2)
    routes.add("GET", "/__admin/uploads/{id}/media", 3)
    if case .found(_, let parameters) = routes.match(method: head.method, path: head.path) {
        check(parameters.values.allSatisfy { !$0.isEmpty && !$0.contains("/") }, "a path parameter \(parameters)")
    }
}

// MARK: - Forms

/// The first line is the Content-Type, the rest the body.
func contentTypeAndBody(_ input: [UInt8]) -> (String, [UInt8]) {
    guard let newline = input.firstIndex(of: UInt8(ascii: "\n")) else { return ("", input) }
    return (String(decoding: input[..<newline], as: UTF8.self), Array(input[(newline + 1)...]))
}

enum Event: Equatable {
    case begin(FormFieldHead)
    case data([UInt8])
    case end
}

/// Form events as a parser reports them, consecutive data merged.
final class EventLog {
    var events: [Event] = []

    func record(_ event: FormEvent) {
        switch event {
        case .fieldBegin(let head): events.append(.begin(head))
        case .fieldData(let bytes):
            if case .data(let previous) = events.last {
                events[events.count - 1] = .data(previous + Array(bytes))
            } else {
                events.append(.data(Array(bytes)))
            }
        case .fieldEnd: events.append(.end)
        }
    }
}

/// Events with consecutive data merged, and whether the body was accepted.
func parseForm(_ contentType: String, _ pieces: [ArraySlice<UInt8>]) -> (events: [Event], accepted: Bool)? {
    guard var parser = try? FormBodyParser(contentType: contentType) else { return nil }
    let log = EventLog()
    do {
        for piece in pieces {
            try piece.withUnsafeBytes { try parser.feed($0, log.record) }
        }
        try parser.finish(log.record)
        return (log.events, true)
    } catch {
        return (log.events, false)
    }
}

/// The same for a multipart body, with the delimiter scan's filter chosen.
func parseMultipart(boundary: String, filter: CandidateFilter, _ body: [UInt8]) -> (events: [Event], accepted: Bool) {
    var parser = MultipartParser(boundary: boundary, filter: filter)
    let log = EventLog()
    do {
        try body.withUnsafeBytes { try parser.feed($0, log.record) }
        try parser.finish(log.record)
        return (log.events, true)
    } catch {
        return (log.events, false)
    }
}

func fuzzForms(_ input: [UInt8]) {
    let (contentType, body) = contentTypeAndBody(input)
    guard let whole = parseForm(contentType, [body[...]]) else { return }
    guard let split = parseForm(contentType, pieces(of: body, seed: input.count)) else {
        check(false, "the parser for \(contentType) was refused once and accepted once")
        return
    }
    check(whole.accepted == split.accepted, "whole: \(whole.accepted), in pieces: \(split.accepted)")
    if whole.accepted { check(whole.events == split.events, "events differ when the body arrives in pieces") }
    if let boundary = try? MultipartParser.boundary(fromContentType: contentType) {
        // Every delimiter filter the CPU runs finds what the parser found.
        for filter in CandidateFilter.available {
            let filtered = parseMultipart(boundary: boundary, filter: filter, body)
            check(filtered.accepted == whole.accepted && filtered.events == whole.events, "the \(filter) filter parsed differently")
        }
    }
    _ = try? URLEncodedFormParser.parse(contentType)
}

// MARK: - Parameters

func fuzzParameters(_ input: [UInt8]) {
    let (query, body) = contentTypeAndBody(input)
    var limits = UploadLimits()
    limits.chunkBytes = 64
    limits.imageBytes = 96
    limits.gifBytes = 128
    guard let pairs = try? URLEncodedFormParser.parse(query),
          var collector = try? UploadParameterCollector<V1Error>(query: pairs, limits: limits, expectedBodyBytes: body.count * 7,
                                                        keepsBodyPairs: input.count % 2 == 0) else { return }
    let contentType = body.first == UInt8(ascii: "-") ? "multipart/form-data; boundary=b" : "application/x-www-form-urlencoded"
    guard var parser = try? FormBodyParser(contentType: contentType) else { return }
    do {
        for piece in pieces(of: body, seed: input.count) {
            try piece.withUnsafeBytes { try parser.feed($0) { collector.handle($0) } }
        }
        try parser.finish { collector.handle($0) }
    } catch {
        return
    }
    guard collector.failure == nil else { return }
    let parameters = collector.parameters
    // A payload in the body never passes the largest limit while it streams (one in the
    // query string is measured later, by the command).
    guard !pairs.contains(where: { $0.name == "media" || $0.name == "media_data" }) else { return }
    let largest = max(limits.chunkBytes, limits.imageBytes, limits.gifBytes)
    check((parameters.media?.count ?? 0) <= largest, "media of \(parameters.media?.count ?? 0) bytes passed \(largest)")
    check(parameters.mediaDataSentBytes <= largest, "media_data of \(parameters.mediaDataSentBytes) bytes passed \(largest)")
    _ = parameters.payload
}

// MARK: - JSON media bodies

/// What a JSON body is, as text: the refusal, or the media string and the other members.
func jsonVerdict(whole input: [UInt8]) -> String {
    guard !input.isEmpty else { return "empty" }
    let value: JSONValue
    do {
        value = try JSONParser.parse(input)
    } catch {
        return "refused \(error.message)"
    }
    guard case .object(let object) = value else { return "not an object" }
    var media = "none", members: [String] = []
    for member in object.members {
        if member.key == "media", case .string(let text) = member.value {
            media = String(reflecting: Array(text.utf8))
        } else {
            members.append("\(member.key)=\(member.value.text)")
        }
    }
    return "object media \(media) members \(members)"
}

func jsonVerdict(streamed pieces: [ArraySlice<UInt8>], kernel: VectorKernel = .best) -> String {
    var reader = JSONMediaBodyReader(kernel: kernel)
    var media: [UInt8]?, members: [String] = []
    let record: (JSONMediaBodyReader.Event) -> Void = { event in
        switch event {
        case .mediaBegin: media = []
        case .mediaText(let bytes): media?.append(contentsOf: bytes)
        case .mediaEnd: break
        case .member(let name, let json):
            let value = try? JSONParser.parse(Array(json))
            check(value != nil, "member \(name) handed on as JSON that JSONParser refuses")
            members.append("\(name)=\(value?.text ?? "")")
        }
    }
    do {
        for piece in pieces { try piece.withUnsafeBytes { try reader.feed($0, record) } }
        switch try reader.finish(record) {
        case .empty: return "empty"
        case .notObject: return "not an object"
        case .object: return "object media \(media.map { String(reflecting: $0) } ?? "none") members \(members)"
        }
    } catch let error as FormParseError {
        return "refused \(error.reason)"
    } catch {
        return "refused with \(error)"
    }
}

func fuzzJSONMedia(_ input: [UInt8]) {
    let expected = jsonVerdict(whole: input)
    let whole = jsonVerdict(streamed: [input[...]])
    check(whole == expected, "streamed whole: \(whole)\nJSONParser: \(expected)")
    let split = jsonVerdict(streamed: pieces(of: input, seed: input.count))
    check(split == expected, "streamed in pieces: \(split)\nJSONParser: \(expected)")
    // The string scan and the gathering of escaped slashes in every vector kernel the CPU runs
    // (the best one ran above), and without one.
    for kernel in VectorKernel.available.dropLast() {
        let verdict = jsonVerdict(streamed: pieces(of: input, seed: input.count &+ 2), kernel: kernel)
        check(verdict == expected, "streamed in pieces, kernel \(kernel.level): \(verdict)\nJSONParser: \(expected)")
    }
    // An append read as it streams is answered as the whole body is.
    var streamed = V2StreamedJSONReader(expectedBodyBytes: input.count, maximumBodyBytes: 1 << 20)
    for piece in pieces(of: input, seed: input.count &+ 1) { piece.withUnsafeBytes { streamed.receive($0) } }
    let bodies: [V2Body] = [.json(input), .streamedJSON(streamed.finish())]
    let answers = bodies.map { body in
        let reader = V2RequestReader(endpoint: .append, pathID: "1", query: [], body: body)
        do {
            guard case .append(_, let index, let payload) = try reader.request().operation else { return "not an append" }
            return "append \(index.map(String.init) ?? "-") \(payload.bytes)"
        } catch let problem as V2Problem {
            return "\(problem.status) \(problem.description)"
        } catch {
            return "\(error)"
        }
    }
    check(answers[0] == answers[1], "append whole: \(answers[0])\nstreamed: \(answers[1])")
}

// MARK: - Base64

/// The decoded bytes, or the error's message.
func base64Outcome(_ pieces: [ArraySlice<UInt8>], kernel: VectorKernel) -> String {
    var decoder = Base64StreamDecoder(kernel: kernel)
    var output: [UInt8] = []
    return outcomeText {
        for piece in pieces { try piece.withUnsafeBytes { try decoder.decode($0, into: &output) } }
        try decoder.finish(into: &output)
        return "\(output)"
    }
}

/// What `body` returns, or the message of the error it throws.
func outcomeText(_ body: () throws -> String) -> String {
    do {
        return try body()
    } catch let error as FormParseError {
        return error.reason
    } catch {
        return "\(error)"
    }
}

func fuzzBase64(_ input: [UInt8]) {
    let kernels = VectorKernel.available.filter { $0 != .avx512 }  // base64 runs AVX2's there
    checkKernelsAgree(input, kernels: kernels, level: \.level, base64Outcome)
}

/// Every vector kernel the CPU runs gives the scalar loop's outcome (the first kernel), whole
/// and in pieces.
func checkKernelsAgree<Kernel>(_ input: [UInt8], kernels: [Kernel], level: (Kernel) -> Int32,
                               _ outcome: ([ArraySlice<UInt8>], Kernel) -> String) {
    guard let scalar = kernels.first else { return }
    let expected = outcome([input[...]], scalar)
    for kernel in kernels.dropFirst() {
        let whole = outcome([input[...]], kernel)
        check(whole == expected, "kernel \(level(kernel)): \(whole)\nscalar: \(expected)")
        let split = outcome(pieces(of: input, seed: input.count), kernel)
        check(split == expected, "kernel \(level(kernel)) in pieces: \(split)\nscalar: \(expected)")
    }
}

// MARK: - Percent-decoding

/// The fields of a urlencoded body, or the error's message.
func urlencodedOutcome(_ pieces: [ArraySlice<UInt8>], kernel: VectorKernel) -> String {
    var parser = URLEncodedFormParser(kernel: kernel)
    var fields: [(String, [UInt8])] = []
    let collect: (FormEvent) -> Void = { event in
        switch event {
        case .fieldBegin(let head): fields.append((head.name, []))
        case .fieldData(let bytes): fields[fields.count - 1].1.append(contentsOf: bytes)
        case .fieldEnd: break
        }
    }
    return outcomeText {
        for piece in pieces { try piece.withUnsafeBytes { try parser.feed($0, collect) } }
        try parser.finish(collect)
        return "\(fields.map { "\($0.0)=\($0.1)" })"
    }
}

func fuzzPercent(_ input: [UInt8]) {
    checkKernelsAgree(input, kernels: VectorKernel.available, level: \.level, urlencodedOutcome)
}

// MARK: - OAuth

let fuzzUser = AuthUser(userID: "1", consumerKey: "ck", consumerSecret: "cs", token: "t", tokenSecret: "ts")

func fuzzOAuth(_ input: [UInt8]) {
    let header = String(decoding: input, as: UTF8.self)
    _ = try? OAuth1Verifier.parseHeader(header)
    let verifier = OAuth1Verifier(users: [fuzzUser], windowSeconds: 300)
    _ = try? verifier.verify(SignedRequest(method: "POST", baseURLs: ["https://upload.twitter.com/1.1/media/upload.json"],
                                           parameters: [("command", "INIT")], authorization: "OAuth " + header))
}

// MARK: - Config and admin JSON

func fuzzConfig(_ input: [UInt8]) {
    if let document = try? JSONParser.parse(input) {
        // What the mock writes, it reads back the same.
        let again = try? JSONParser.parse(document.serialized)
        check(again == document, "JSON does not survive a round trip: \(document.text)")
    }
    _ = try? MockConfiguration(json: input)
    // The same text as a scenario file: read, or refused with a message.
    if let document = try? JSONParser.parse(input) {
        _ = try? JSONReader.decode(Scenario.self, from: document, path: "")
    }
}

func fuzzAdmin(_ input: [UInt8]) {
    let application = makeApplication()
    let admin = AdminAPI(application: application)
    for (kind, path) in [(AdminRoute.RuleKind.faults, "/__admin/faults"), (.rateLimits, "/__admin/rate-limits")] {
        let post = HTTPRequestHead(method: "POST", target: path, headers: HTTPHeaders([("Content-Type", "application/json")]))
        let added = admin.respond(to: .rules(kind, .add), head: post, parameters: [:], body: input)
        check([201, 400].contains(added.status), "adding rules answered \(added.status)")
        let get = HTTPRequestHead(method: "GET", target: path, headers: HTTPHeaders())
        let listed = admin.respond(to: .rules(kind, .list), head: get, parameters: [:], body: [])
        guard case .bytes(let bytes) = listed.body else { continue }
        check((try? JSONParser.parse(bytes)) != nil, "the admin API wrote JSON it cannot read")
    }
    // The same body as a clock change, unscoped and scoped: moved (200) or refused (400), and
    // the clock still reads as JSON in range.
    for scope in [nil, "fuzz"] as [String?] {
        let headers = HTTPHeaders(scope.map { [("X-Mock-Scope", $0)] } ?? [])
        let post = HTTPRequestHead(method: "POST", target: "/__admin/clock", headers: headers)
        let changed = admin.respond(to: .clock(.change), head: post, parameters: [:], body: input)
        check([200, 400].contains(changed.status), "changing the clock answered \(changed.status)")
        check(MockClock.range.contains(application.clock.now(in: scope)), "the clock left its range")
    }
}

// MARK: - Helpers

/// The body cut into pieces of varying sizes, derived from the input so a crash reproduces.
func pieces(of body: [UInt8], seed: Int) -> [ArraySlice<UInt8>] {
    var state = UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 | 1
    var result: [ArraySlice<UInt8>] = []
    var start = 0
    while start < body.count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        let length = min(body.count - start, Int(state % 97) + 1)
        result.append(body[start..<start + length])
        start += length
    }
    return result
}

func replacing(_ needle: [UInt8], with replacement: [UInt8], in bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    let parts = split(Array(bytes), separator: needle)
    guard parts.count > 1 else { return bytes }
    return parts.dropFirst().reduce(Array(parts[0])) { $0 + replacement + $1 }[...]
}

func split(_ bytes: [UInt8], separator: [UInt8]) -> [ArraySlice<UInt8>] {
    var parts: [ArraySlice<UInt8>] = []
    var rest = bytes[...]
    while let found = firstRange(of: separator, in: rest) {
        parts.append(rest[rest.startIndex..<found])
        rest = rest[(found + separator.count)...]
    }
    parts.append(rest)
    return parts
}

func firstRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
    guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
    var index = haystack.startIndex
    while index <= haystack.endIndex - needle.count {
        if haystack[index] == needle[0], haystack[index..<index + needle.count].elementsEqual(needle) { return index }
        index += 1
    }
    return nil
}
