import UploadMockHTTP

/// The dashboard (docs/dashboard.md): one page and its script and style sheet, compiled in from
/// dashboard/ by scripts/sync-dashboard (DashboardAssets.swift), so the binary serves it with no
/// file and fetches nothing from anywhere else. Every view's address answers the same page; its
/// script reads the view from the path and talks only to the admin API.
enum DashboardPage: Sendable, Equatable {
    case page
    case script
    case styleSheet

    static let root = AdminRoute.prefix + "/ui"

    static let routes: [(path: String, page: DashboardPage)] = [
        (root, .page),
        ("\(root)/uploads/{id}", .page),
        ("\(root)/journal", .page),
        ("\(root)/rules", .page),
        ("\(root)/dashboard.js", .script),
        ("\(root)/dashboard.css", .styleSheet),
    ]

    /// The page may run only its own script and style sheet and talk only to this server, so
    /// stored values (alt text, tokens, error messages) can never run as code.
    static let htmlHeaders: [(name: String, value: String)] = [
        ("content-type", "text/html;charset=utf-8"),
        ("content-security-policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-cache"),
    ]

    var reply: HTTPReply {
        switch self {
        case .page: HTTPReply(status: 200, headers: Self.htmlHeaders, body: .bytes(Self.pageBytes))
        case .script: Self.asset("text/javascript;charset=utf-8", Self.scriptBytes)
        case .styleSheet: Self.asset("text/css;charset=utf-8", Self.styleSheetBytes)
        }
    }

    private static func asset(_ type: String, _ bytes: [UInt8]) -> HTTPReply {
        HTTPReply(status: 200, headers: [("content-type", type), ("x-content-type-options", "nosniff"), ("cache-control", "no-cache")],
                  body: .bytes(bytes))
    }

    private static let pageBytes = Array(pageText.utf8)
    private static let scriptBytes = Array(scriptText.utf8)
    private static let styleSheetBytes = Array(styleSheetText.utf8)
}
