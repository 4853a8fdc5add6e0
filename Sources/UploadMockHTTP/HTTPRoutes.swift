/// A route table: each route is a method and a path pattern whose `{name}` segments capture
/// one path segment, e.g. `POST /2/media/upload/{id}/append`. Matching answers the route, or
/// says whether the path exists under other methods (405) or not at all (404), so every
/// endpoint family reports both from one place.
package struct HTTPRoutes<Route: Sendable>: Sendable {
    package enum Match {
        case found(Route, parameters: [String: String])
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private struct Entry: Sendable {
        var method: String
        var segments: [RouteSegment]
        var route: Route
    }

    private var entries: [Entry] = []
    /// The patterns without parameters, each once: paths a request names exactly as written.
    package private(set) var literalPaths: [String] = []

    package init() {}

    /// Adds `route` for `method` and `pattern`; earlier routes win over later ones.
    package mutating func add(_ method: String, _ pattern: String, _ route: Route) {
        let segments = Self.split(pattern).map(RouteSegment.init)
        entries.append(Entry(method: method, segments: segments, route: route))
        let isLiteral = segments.allSatisfy(\.isLiteral)
        if isLiteral, !literalPaths.contains(pattern) { literalPaths.append(pattern) }
    }

    package func match(method: String, path: String) -> Match {
        // The path's bytes in place, once for every pattern tried: walking a String's UTF-8
        // view segment by segment through its iterators cost several times as much.
        var path = path
        return path.withUTF8 { path in
            for entry in entries where entry.method == method {
                if let parameters = Self.bind(entry.segments, to: path) { return .found(entry.route, parameters: parameters) }
            }
            // Only now the methods the path takes: a GET of a path also POSTed to allocated them.
            var allowed: [String] = []
            for entry in entries where !allowed.contains(entry.method) && Self.bind(entry.segments, to: path) != nil {
                allowed.append(entry.method)
            }
            return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
        }
    }

    /// The pattern's segments: what follows the first `/`, split at each further `/`. Split
    /// on bytes, not `Character`s (a `/` is never part of a longer character): the server
    /// adds some sixty routes at every start (docs/performance.md, Startup).
    private static func split(_ pattern: String) -> [Substring] {
        pattern.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst().map { Substring($0) }
    }

    /// Walks `path` segment by segment against the pattern (the segments are what follows
    /// the first `/`, split at each further `/`), slicing rather than splitting it, so a path
    /// that does not match, or matches without parameters, allocates nothing.
    private static func bind(_ segments: [RouteSegment], to path: UnsafeBufferPointer<UInt8>) -> [String: String]? {
        let slash = UInt8(ascii: "/")
        guard let first = path.firstIndex(of: slash) else { return segments.isEmpty ? [:] : nil }
        guard !segments.isEmpty else { return nil }
        var start = first + 1
        var parameters: [String: String] = [:]
        for index in segments.indices {
            let end = path[start...].firstIndex(of: slash) ?? path.endIndex
            let piece = UnsafeBufferPointer(rebasing: path[start..<end])
            switch segments[index] {
            case .literal(let text):
                guard piece.elementsEqual(text) else { return nil }
            case .parameter(let name):
                guard !piece.isEmpty else { return nil }
                parameters[name] = String(decoding: piece, as: UTF8.self)
            }
            let isLast = index == segments.count - 1
            guard isLast == (end == path.endIndex) else { return nil }
            start = end + 1
        }
        return parameters
    }
}

/// One segment of a route pattern. Outside `HTTPRoutes`, so it is not generic over the route:
/// building and matching patterns needs no generic metadata.
private enum RouteSegment: Equatable, Sendable {
    /// Matches these bytes exactly.
    case literal([UInt8])
    /// `{name}`: captures any non-empty segment under `name`.
    case parameter(String)

    init(_ piece: Substring) {
        self = piece.utf8.first == UInt8(ascii: "{") && piece.utf8.last == UInt8(ascii: "}")
            ? .parameter(String(piece.dropFirst().dropLast())) : .literal(Array(piece.utf8))
    }

    var isLiteral: Bool {
        if case .literal = self { true } else { false }
    }
}
