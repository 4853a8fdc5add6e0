import UploadMockChaos
import UploadMockForms
import UploadMockDomain
import UploadMockHTTP
import UploadMockJSON

/// The routes of `/__admin` (README, Verify what arrived; docs/faults.md).
enum AdminRoute: Sendable, Equatable {
    case index
    case health
    case uploads
    case upload
    case media
    case requests
    case requestCount
    case requestsHAR
    case timeline
    case reset
    case rules(RuleKind, RuleAction)
    case compatibility
    case changeCompatibility
    case openAPI
    /// The dashboard's page and files: not part of the API, so not in `table`.
    case dashboard(DashboardPage)
    case clock(ClockAction)
    case scenarios(ScenarioAction)

    enum RuleKind: Sendable, Equatable {
        case faults
        case rateLimits
    }

    enum RuleAction: Sendable, Equatable {
        case list, add, removeAll, remove
    }

    /// `/__admin/clock` (docs/clock.md): read it, move it, or go back to real time.
    enum ClockAction: Sendable, Equatable {
        case read, change, reset
    }

    /// `/__admin/scenarios` (docs/faults.md, Scenarios): list them, install one, remove one.
    enum ScenarioAction: Sendable, Equatable {
        case list, install, remove
    }

    static let prefix = "/__admin"

    static func owns(_ path: String) -> Bool {
        path == prefix || path.hasPrefix(prefix + "/")
    }

    /// Every admin route: the one list that both the server and the test holding
    /// docs/admin-openapi.json to it read.
    static let table: [(method: String, path: String, route: AdminRoute)] = {
        var table: [(method: String, path: String, route: AdminRoute)] = [
            ("GET", prefix, .index),
            ("GET", "\(prefix)/health", .health),
            ("GET", "\(prefix)/uploads", .uploads),
            ("GET", "\(prefix)/uploads/{id}", .upload),
            ("GET", "\(prefix)/uploads/{id}/media", .media),
            ("GET", "\(prefix)/requests", .requests),
            ("GET", "\(prefix)/requests/count", .requestCount),
            ("GET", "\(prefix)/requests.har", .requestsHAR),
            ("GET", "\(prefix)/timeline", .timeline),
            ("POST", "\(prefix)/reset", .reset),
            ("GET", "\(prefix)/compatibility", .compatibility),
            ("PATCH", "\(prefix)/compatibility", .changeCompatibility),
            ("GET", "\(prefix)/openapi.json", .openAPI),
            ("GET", "\(prefix)/clock", .clock(.read)),
            ("POST", "\(prefix)/clock", .clock(.change)),
            ("DELETE", "\(prefix)/clock", .clock(.reset)),
            ("GET", "\(prefix)/scenarios", .scenarios(.list)),
            ("POST", "\(prefix)/scenarios/{name}", .scenarios(.install)),
            ("DELETE", "\(prefix)/scenarios/{name}", .scenarios(.remove)),
        ]
        for (path, kind) in [("faults", RuleKind.faults), ("rate-limits", .rateLimits)] {
            table += [
                ("GET", "\(prefix)/\(path)", .rules(kind, .list)),
                ("POST", "\(prefix)/\(path)", .rules(kind, .add)),
                ("DELETE", "\(prefix)/\(path)", .rules(kind, .removeAll)),
                ("DELETE", "\(prefix)/\(path)/{id}", .rules(kind, .remove)),
            ]
        }
        return table
    }()

    /// Every route of `table`, and HEAD beside each GET: answered as the GET, and libmicrohttpd
    /// sends the head only (RFC 9110 §9.3.2), its Content-Length that of the GET's body.
    static func register<Route>(in routes: inout HTTPRoutes<Route>, as route: (AdminRoute) -> Route) {
        for entry in table {
            routes.add(entry.method, entry.path, route(entry.route))
            if entry.method == "GET" { routes.add("HEAD", entry.path, route(entry.route)) }
        }
        for entry in DashboardPage.routes { routes.add("GET", entry.path, route(.dashboard(entry.page))) }
    }
}

/// Serves `/__admin`: what arrived, the journal, rules and reset. Never rate limited, never
/// faulted.
struct AdminAPI: Sendable {
    let application: MockApplication

    /// The header that scopes an admin call to one credential's uploads, journal and rules
    /// (README, Isolation): the token that credential sends, a bearer token or `oauth_token`.
    static let scopeHeader = "x-mock-scope"

    func respond(to route: AdminRoute, head: HTTPRequestHead, parameters: [String: String], body: [UInt8]) -> HTTPReply {
        let scope = head.headers[Self.scopeHeader].flatMap { $0.isEmpty ? nil : $0 }
        switch route {
        case .index:
            return AdminIndex.reply(accepting: head.headers["accept"])
        case .health:
            return Self.json(200, .object(["status": "ok"]))
        case .uploads:
            return Self.json(200, .object(["uploads": .array(application.uploads.reports(in: scope).map(\.json))]))
        case .upload:
            guard let report = Self.mediaID(parameters).flatMap({ application.uploads.report($0, in: scope) }) else {
                return Self.noUpload(parameters)
            }
            return Self.json(200, report.json)
        case .media:
            guard let media = Self.mediaID(parameters).flatMap({ application.uploads.media($0, in: scope) }) else {
                return Self.noUpload(parameters)
            }
            return HTTPReply(status: 200, headers: [("content-type", media.mediaType)],
                             body: .source(SegmentsBody(media.segments)))
        case .requestCount:
            var filter: RequestFilter
            do {
                filter = try RequestFilter(query: try Self.query(head))
            } catch {
                return Self.badRequest(error.message)
            }
            filter.scope = scope
            return Self.json(200, .object(["count": .int(Int64(application.journal.count(filter)))]))
        case .requests, .requestsHAR:
            var filter: RequestFilter, page: JournalPage
            do {
                let split = try JournalPage.split(try Self.query(head))
                filter = try RequestFilter(query: split.rest, otherNames: JournalPage.queryNames)
                page = split.page
            } catch {
                return Self.badRequest(error.message)
            }
            filter.scope = scope
            let entries = application.journal.entries(filter, page: page)
            if route == .requestsHAR {
                let origin = origin(head) ?? "http://\(application.configuration.host)"
                return HTTPReply(status: 200, headers: [("content-type", "application/json;charset=utf-8")],
                                 body: .bytes(HARExport.document(entries, origin: origin).serialized))
            }
            return Self.json(200, .object(["requests": .array(entries.map(\.json))]))
        case .timeline:
            let counts: (uploads: Int, requests: Int)
            do {
                counts = try Self.timelineCounts(try Self.query(head))
            } catch {
                return Self.badRequest(error.message)
            }
            let timeline = MockTimeline(application: application, scope: scope, uploads: counts.uploads, requests: counts.requests,
                                        baseURL: origin(head))
            return HTTPReply(status: 200, headers: [("content-type", "text/plain;charset=utf-8")],
                             body: .bytes(Array((timeline.description + "\n").utf8)))
        case .reset:
            application.reset(scope: scope)
            return Self.json(200, .object(["status": "reset"]))
        case .rules(let kind, let action):
            return rules(kind, action, id: parameters["id"], body: body, scope: scope)
        case .compatibility:
            return Self.json(200, application.compatibility.inForce(for: scope).json)
        case .changeCompatibility:
            return changeCompatibility(body: body, scope: scope)
        case .openAPI:
            return HTTPReply(status: 200, headers: [("content-type", "application/json;charset=utf-8")],
                             body: .bytes(Self.openAPIDocumentBytes))
        case .dashboard(let page):
            return page.reply
        case .clock(let action):
            return clock(action, body: body, scope: scope)
        case .scenarios(let action):
            return scenarios(action, name: parameters["name"] ?? "", scope: scope)
        }
    }

    /// The address the client reached the server at, from its `Host` header.
    private func origin(_ head: HTTPRequestHead) -> String? {
        head.headers["host"].map { (application.configuration.servesHTTPS ? "https://" : "http://") + $0 }
    }

    /// `uploads` and `requests`: how many of each `GET /__admin/timeline` lists.
    private static func timelineCounts(_ query: [(name: String, value: String)]) throws(ConfigurationError) -> (uploads: Int, requests: Int) {
        var counts = (uploads: 5, requests: 20)
        for (name, value) in query {
            guard name == "uploads" || name == "requests" else {
                throw ConfigurationError("unknown query parameter '\(name)': expected uploads or requests")
            }
            guard let count = Int(decimal: value), (0...MockTimeline.maximumListed).contains(count) else {
                throw .invalidQueryParameter(name, value, expected: "0 to \(MockTimeline.maximumListed)")
            }
            if name == "uploads" { counts.uploads = count } else { counts.requests = count }
        }
        return counts
    }

    /// docs/admin-openapi.json as served, encoded once.
    private static let openAPIDocumentBytes = Array(openAPIDocument.utf8)

    /// The query string's pairs; a malformed one is a configuration error like any bad filter.
    private static func query(_ head: HTTPRequestHead) throws(ConfigurationError) -> [(name: String, value: String)] {
        do {
            return try URLEncodedFormParser.parse(head.query)
        } catch {
            throw ConfigurationError("the query string cannot be decoded: \(error.reason)")
        }
    }

    private static func mediaID(_ parameters: [String: String]) -> UInt64? {
        parameters["id"].flatMap { UInt64(decimal: $0) }
    }

    private static func noUpload(_ parameters: [String: String]) -> HTTPReply {
        notFound("no upload with media_id \(parameters["id"] ?? "")")
    }

    /// `/__admin/faults` and `/__admin/rate-limits`: add (one rule or an array), list, delete.
    /// Within a scope, only that scope's rules are listed, added (marked with it) or removed.
    private func rules(_ kind: AdminRoute.RuleKind, _ action: AdminRoute.RuleAction, id: String?, body: [UInt8],
                       scope: String?) -> HTTPReply {
        let faults = application.faults, limits = application.rateLimiter
        let listKey = kind == .faults ? "faults" : "rate_limits"
        switch action {
        case .list:
            let rules: [JSONValue] = kind == .faults ? faults.rules(in: scope).map(\.json) : limits.rules(in: scope).map(\.json)
            return Self.json(200, .object([listKey: .array(rules)]))
        case .add:
            do {
                return try add(kind, body: body, listKey: listKey, scope: scope)
            } catch {
                return Self.badRequest(error.message)
            }
        case .removeAll:
            switch (kind, scope) {
            case (.faults, let scope?): faults.removeAll(in: scope)
            case (.faults, nil): faults.removeAll()
            case (.rateLimits, let scope?): limits.removeAll(in: scope)
            case (.rateLimits, nil): limits.removeAll()
            }
            return HTTPReply(status: 204)
        case .remove:
            let id = id ?? ""
            let removed = kind == .faults ? faults.remove(id: id, in: scope) : limits.remove(id: id, in: scope)
            return removed ? HTTPReply(status: 204) : Self.notFound("no rule with id \(id)")
        }
    }

    /// Sets the switches the body names, keeps the others, answers all of them: the server's,
    /// or within a scope that credential's own.
    private func changeCompatibility(body: [UInt8], scope: String?) -> HTTPReply {
        do {
            let document = try JSONParser.parse(body)
            let changed = try application.compatibility.change(in: scope) { (switches) throws(ConfigurationError) in
                var reader = try JSONReader(document, path: "")
                try switches.update(&reader)
            }
            guard let changed else {
                return Self.json(409, .object(["error": .string(application.compatibility.maximumScopesDescription)]))
            }
            return Self.json(200, changed.json)
        } catch {
            return Self.badRequest(error.message)
        }
    }

    /// Adds one rule (answering it) or an array of rules (answering them all): all or nothing.
    private func add(_ kind: AdminRoute.RuleKind, body: [UInt8], listKey: String, scope: String?) throws(ConfigurationError) -> HTTPReply {
        let document = try JSONParser.parse(body)
        let values: [JSONValue], paths: (Int) -> String
        if case .array(let many) = document {
            (values, paths) = (many, { "rules[\($0)]" })
        } else {
            (values, paths) = ([document], { _ in "rule" })
        }
        var faultRules: [FaultRule] = [], rateLimitRules: [RateLimitRule] = []
        for (index, value) in values.enumerated() {
            switch kind {
            case .faults:
                var rule = try JSONReader.decode(FaultRule.self, from: value, path: paths(index))
                try rule.checkBodyReach(limits: application.uploads.settings.limits, path: paths(index))
                rule.scope = scope ?? rule.scope
                faultRules.append(rule)
            case .rateLimits:
                var rule = try JSONReader.decode(RateLimitRule.self, from: value, path: paths(index))
                rule.scope = scope ?? rule.scope
                rateLimitRules.append(rule)
            }
        }
        let inForce = kind == .faults ? application.faults.rules.count : application.rateLimiter.rules.count
        // More than any test needs, and a bound on the memory a runaway script takes and on
        // what every upload request scans.
        let maximum = application.configuration.maxAdminRules
        guard inForce + values.count <= maximum else {
            let name = kind == .faults ? "fault rules" : "rate limits"
            return Self.json(409, .object(["error": .string(
                "at most \(maximum) \(name) may be in force (admin.max_rules): \(inForce) are, and this request adds \(values.count)")]))
        }
        let added = faultRules.map { application.faults.add($0).json } + rateLimitRules.map { application.rateLimiter.add($0).json }
        if case .array = document { return Self.json(201, .object([listKey: .array(added)])) }
        return Self.json(201, added.first ?? .null)
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

    static func bodyTooLarge(limit: Int) -> HTTPReply {
        json(413, .object(["error": .string("admin request bodies are limited to \(limit) bytes")]))
    }

    static func methodNotAllowed(_ head: HTTPRequestHead, allowed: [String]) -> HTTPReply {
        var reply = json(405, .object(["error": .string("\(head.path) does not take \(head.method); it takes \(allowed.joined(separator: ", "))")]))
        reply.headers.append(("allow", allowed.joined(separator: ", ")))
        return reply
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
