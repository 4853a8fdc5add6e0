import UploadMockHTTP
import UploadMockJSON

/// `GET /__admin`: where to go from here. The dashboard, the OpenAPI document and every route
/// with its summary, as JSON, or as a page of links for a browser (which asks for `text/html`).
/// The summaries and the version come from docs/admin-openapi.json, which the server compiles in.
enum AdminIndex {
    /// The version docs/admin-openapi.json states.
    static let version = described.version

    private static let described: (version: String, summaries: [String: String]) = {
        let document = (try? JSONParser.parse(Array(AdminAPI.openAPIDocument.utf8))) ?? .null
        let object = document.objectOrEmpty
        var summaries: [String: String] = [:]
        for (path, item) in object["paths"]?.objectOrEmpty.members ?? [] {
            for (method, operation) in item.objectOrEmpty.members {
                if let summary = operation.objectOrEmpty["summary"]?.stringValue { summaries["\(method.uppercased()) \(path)"] = summary }
            }
        }
        return (object["info"]?.objectOrEmpty["version"]?.stringValue ?? "", summaries)
    }()

    private static var routes: [(method: String, path: String, summary: String)] {
        AdminRoute.table.map { ($0.method, $0.path, described.summaries["\($0.method) \($0.path)"] ?? "") }
    }

    static func reply(accepting accept: String?) -> HTTPReply {
        if accept?.lowercased().contains("text/html") == true {
            return HTTPReply(status: 200, headers: DashboardPage.htmlHeaders, body: .bytes(html))
        }
        return AdminAPI.json(200, json)
    }

    private static let json = JSONValue.object([
        "name": "twitter-upload-mock",
        "version": .string(version),
        "dashboard": .string(DashboardPage.root),
        "openapi": .string(AdminRoute.prefix + "/openapi.json"),
        "routes": .array(routes.map { .object(["method": .string($0.method), "path": .string($0.path), "summary": .string($0.summary)]) }),
    ])

    private static let html: [UInt8] = {
        let rows = routes.map { route in
            // Only a GET without parameters can be followed by a link.
            let path = route.method == "GET" && !route.path.contains("{")
                ? "<a href=\"\(escape(route.path))\">\(escape(route.path))</a>" : escape(route.path)
            return "<tr><td>\(route.method)</td><td><code>\(path)</code></td><td>\(escape(route.summary))</td></tr>"
        }
        let page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>twitter-upload-mock admin</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <link rel="icon" href="data:,"><link rel="stylesheet" href="\(DashboardPage.root)/dashboard.css"></head>
            <body class="index"><main>
            <h1>twitter-upload-mock \(escape(version))</h1>
            <p><a href="\(DashboardPage.root)">Open the dashboard</a> · <a href="\(AdminRoute.prefix)/openapi.json">OpenAPI 3.1 document</a></p>
            <table><caption>Admin routes</caption><thead><tr><th scope="col">Method</th><th scope="col">Path</th><th scope="col">What</th></tr></thead>
            <tbody>\(rows.joined(separator: "\n"))</tbody></table>
            </main></body></html>

            """
        return Array(page.utf8)
    }()

    /// Text made safe to put in HTML, between tags or in a quoted attribute.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
