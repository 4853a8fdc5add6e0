import Foundation
import Testing
@testable import TwitterUploadMock
import UploadMockChaos
import UploadMockDomain
import UploadMockJSON

/// docs/admin-openapi.json (compiled in as `AdminAPI.openAPIDocument`) against the code it
/// describes: the routes, the journal filters and every enumeration the JSON readers and
/// writers know, so neither side changes without the other. Tests/python/test_openapi.py
/// checks the rest over HTTP (validity, schemathesis, real reports against the schemas).
@Suite("Admin OpenAPI document")
struct AdminOpenAPITests {
    let document: JSONValue

    init() throws {
        // The strict parser: a duplicate key, which Python's json would silently take, fails here.
        document = try JSONParser.parse(Array(AdminAPI.openAPIDocument.utf8))
    }

    private func value(_ path: String...) -> JSONValue? {
        lookUp(path)
    }

    /// An `enum` as strings, without the `null` that nullable fields add.
    private func strings(_ path: String...) -> [String] {
        guard case .array(let values)? = lookUp(path) else { return [] }
        return values.compactMap(\.stringValue)
    }

    private func lookUp(_ path: [String]) -> JSONValue? {
        path.reduce(Optional(document)) { current, key in current?.objectValue?[key] }
    }

    @Test("describes every admin route and nothing else")
    func routes() throws {
        let paths = try #require(value("paths")?.objectValue)
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        var described: Set<String> = []
        for (path, item) in paths.members {
            for (method, _) in item.objectValue?.members ?? [] where methods.contains(method) {
                described.insert("\(method.uppercased()) \(path)")
            }
        }
        #expect(described == Set(AdminRoute.table.map { "\($0.method) \($0.path)" }))
    }

    @Test("every path declares the reserved X-Mock-Scope header")
    func scopeHeaderOnEveryPath() throws {
        let paths = try #require(value("paths")?.objectValue)
        let scope = JSONValue.object(["$ref": "#/components/parameters/MockScope"])
        for (path, item) in paths.members {
            guard case .array(let parameters)? = item.objectValue?["parameters"] else {
                Issue.record("\(path) has no path-level parameters")
                continue
            }
            #expect(parameters.contains(scope), "\(path)")
        }
        #expect(value("components", "parameters", "MockScope", "name")?.stringValue == "X-Mock-Scope")
    }

    @Test("lists the journal filters and paging parameters the server reads, in order")
    func journalFilters() throws {
        let paged = RequestFilter.queryNames + JournalPage.queryNames
        for (operation, expected) in [("/__admin/requests", paged), ("/__admin/requests.har", paged),
                                      ("/__admin/requests/count", RequestFilter.queryNames)] {
            guard case .array(let references)? = value("paths", operation, "get", "parameters") else {
                Issue.record("\(operation) has no parameters")
                continue
            }
            let names = references.compactMap { reference -> String? in
                guard let target = reference.objectValue?["$ref"]?.stringValue else { return nil }
                let name = String(target.split(separator: "/").last ?? "")
                return value("components", "parameters", name, "name")?.stringValue
            }
            #expect(names == expected, "\(operation)")
        }
    }

    @Test("enumerations match the code's")
    func enumerations() {
        let commands = UploadCommand.allCases.map(\.rawValue)
        #expect(strings("components", "schemas", "Command", "enum") == commands)
        #expect(strings("components", "schemas", "API", "enum") == UploadAPI.allCases.map(\.rawValue))
        #expect(strings("components", "parameters", "PageOrder", "schema", "enum") == JournalPage.Order.allCases.map(\.rawValue))
        #expect(strings("components", "schemas", "RequestMatch", "properties", "api", "enum") == UploadAPI.allCases.map(\.rawValue))
        let failures = FaultAction.Failure.allCases.map(\.rawValue)
        #expect(strings("components", "schemas", "FaultAction", "properties", "fault", "enum") == failures)
        #expect(strings("components", "schemas", "WrittenFaultAction", "properties", "fault", "enum") == failures)
        let results = ProcessingSimulation.Result.allCases.map(\.rawValue)
        #expect(strings("components", "schemas", "FaultAction", "properties", "processing", "enum") == results)
        #expect(strings("components", "schemas", "WrittenFaultAction", "properties", "processing", "enum") == results)
        let scopes = RateLimitRule.Scope.allCases.map(\.rawValue)
        #expect(strings("components", "schemas", "RateLimitRuleInput", "properties", "per", "enum") == scopes)
        #expect(strings("components", "schemas", "RateLimitRule", "properties", "per", "enum") == scopes)
        for schema in ["UploadSummary", "UploadReport"] {
            #expect(strings("components", "schemas", schema, "properties", "state", "enum") == UploadState.allCases.map(\.rawValue))
            #expect(strings("components", "schemas", schema, "properties", "media_category", "enum")
                    == MediaCategory.allCases.map(\.rawValue))
        }
    }

    @Test("clock bounds match the code's")
    func clockBounds() throws {
        guard case .array(let changes)? = value("components", "schemas", "ClockChange", "oneOf") else {
            Issue.record("no ClockChange schema")
            return
        }
        func bound(_ key: String, _ end: String) -> JSONValue? {
            changes.lazy.compactMap { $0.objectValue?["properties"]?.objectValue?[key]?.objectValue?[end] }.first
        }
        let (earliest, latest) = (MockClock.range.lowerBound.timeIntervalSince1970, MockClock.range.upperBound.timeIntervalSince1970)
        #expect(bound("set", "minimum") == .int(Int64(earliest)) && bound("set", "maximum") == .int(Int64(latest)))
        #expect(bound("advance_secs", "minimum") == .int(0) && bound("advance_secs", "maximum") == .int(Int64(latest - earliest)))
    }

    @Test("a clock advance and a scenario's name are bounded as the code bounds them")
    func scenarioBounds() {
        let longest = JSONValue.int(Int64(FaultAction.longestClockAdvance))
        #expect(value("components", "schemas", "FaultAction", "properties", "advance_clock_secs", "maximum") == longest)
        #expect(value("components", "schemas", "WrittenFaultAction", "properties", "advance_clock_secs", "maximum") == longest)
        #expect(value("components", "schemas", "ScenarioName", "pattern")?.stringValue
                == "^[a-z0-9][a-z0-9-]{0,\(Scenario.maximumNameLength - 1)}$")
    }

    @Test("delay bounds match the code's")
    func delayBounds() {
        let maximum = JSONValue.int(Int64(Delay.maximumMilliseconds))
        #expect(value("components", "schemas", "FaultAction", "properties", "delay_ms", "maximum") == maximum)
        #expect(value("components", "schemas", "UniformDelay", "properties", "max_ms", "maximum") == maximum)
        #expect(value("components", "schemas", "LognormalDelay", "properties", "median_ms", "maximum") == maximum)
    }

    @Test("the index lists every route with the document's summary, and the document's version")
    func index() throws {
        let version = try #require(value("info", "version")?.stringValue)
        #expect(AdminIndex.version == version)
        let reply = AdminIndex.reply(accepting: "application/json")
        guard case .bytes(let body) = reply.body, case .object(let index) = try JSONParser.parse(body),
              case .array(let routes)? = index["routes"] else {
            Issue.record("the index is not a JSON object with routes")
            return
        }
        #expect(routes.count == AdminRoute.table.count)
        for route in routes {
            let method = route.objectOrEmpty["method"]?.stringValue?.lowercased() ?? ""
            let path = route.objectOrEmpty["path"]?.stringValue ?? ""
            let summary = value("paths", path, method, "summary")?.stringValue
            #expect(summary != nil && route.objectOrEmpty["summary"]?.stringValue == summary, "\(method) \(path)")
        }
    }
}
