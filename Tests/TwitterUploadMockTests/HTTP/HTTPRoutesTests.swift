import Testing
@testable import UploadMockHTTP

@Suite("HTTP routes and header names")
struct HTTPRoutesTests {
    static let routes: HTTPRoutes<Int> = {
        var routes = HTTPRoutes<Int>()
        routes.add("POST", "/1.1/media/upload.json", 1)
        routes.add("GET", "/1.1/media/upload.json", 2)
        routes.add("POST", "/2/media/upload/{id}/append", 3)
        routes.add("GET", "/__admin/uploads/{id}", 4)
        routes.add("GET", "/__admin/uploads/{id}/media", 5)
        return routes
    }()

    static func found(_ method: String, _ path: String) -> (route: Int, parameters: [String: String])? {
        if case .found(let route, let parameters) = routes.match(method: method, path: path) { return (route, parameters) }
        return nil
    }

    @Test("a route is found with its parameters, segment by segment")
    func found() {
        #expect(Self.found("POST", "/1.1/media/upload.json")?.route == 1)
        #expect(Self.found("GET", "/1.1/media/upload.json")?.route == 2)
        #expect(Self.found("POST", "/2/media/upload/123/append").map { [$0.route: $0.parameters] } == [3: ["id": "123"]])
        #expect(Self.found("GET", "/__admin/uploads/9").map { [$0.route: $0.parameters] } == [4: ["id": "9"]])
        #expect(Self.found("GET", "/__admin/uploads/9/media")?.route == 5)
    }

    @Test("a path that exists under other methods is 405, anything else 404", arguments: [
        ("DELETE", "/1.1/media/upload.json", ["POST", "GET"]),
        ("GET", "/2/media/upload/1/append", ["POST"]),
    ])
    func methodNotAllowed(_ method: String, _ path: String, _ allowed: [String]) {
        guard case .methodNotAllowed(let methods) = Self.routes.match(method: method, path: path) else {
            Issue.record("\(method) \(path) was not 405")
            return
        }
        #expect(methods == allowed)
    }

    @Test("paths that do not match: extra or missing segments, an empty parameter, a trailing slash", arguments: [
        "/1.1/media/upload.json/", "/1.1/media", "/2/media/upload//append", "/2/media/upload/1/append/x", "/__admin/uploads/",
        "", "/", "1.1/media/upload.json", "//1.1/media/upload.json",
    ])
    func notFound(_ path: String) {
        guard case .notFound = Self.routes.match(method: "GET", path: path) else {
            Issue.record("\(path) matched")
            return
        }
    }

    @Test("header names compare without regard to ASCII case, and only ASCII letters fold")
    func caseInsensitiveNames() {
        #expect("Content-Length".caseInsensitiveEquals("content-length"))
        #expect("TRANSFER-ENCODING".caseInsensitiveEquals("transfer-encoding"))
        #expect(!"Content-Length".caseInsensitiveEquals("content-lengths"))
        #expect(!"content_length".caseInsensitiveEquals("content-length"))
        #expect(!"@".caseInsensitiveEquals("`"))  // 0x40 and 0x60 differ only in the case bit, but are not letters
        #expect(!"[".caseInsensitiveEquals("{"))
        var headers = HTTPHeaders()
        headers.add(name: "X-Thing", value: "1")
        headers.add(name: "content-TYPE", value: "text/plain")
        #expect(headers["Content-Type"] == "text/plain")
        #expect(headers["x-thing"] == "1")
        #expect(headers["x-thin"] == nil)
    }
}
