import UploadMockDomain
import UploadMockForms
import UploadMockJSON

/// What the mock saw, in a few lines of text for a failing test's report (docs/dashboard.md):
/// the newest uploads with their segment maps, the newest requests with their statuses and the
/// faults that fired, and the dashboard's address. `GET /__admin/timeline` serves the same text,
/// and the pytest plugin adds it to the report of a failing test.
///
/// ```swift
/// try await withUploadMock { mock in
///     let id = try await upload(video, to: mock.baseURL)
///     #expect(mock.upload(id)?.attempts(forSegment: 1).map(\.status) == [503, 204], "\(mock.timeline())")
/// }
/// ```
public struct MockTimeline: Sendable, CustomStringConvertible {
    /// The newest uploads, oldest first, as summaries (no digests).
    public var uploads: [UploadReport]
    /// How many uploads there are in all.
    public var uploadCount: Int
    /// The newest requests, oldest first.
    public var requests: [JournalEntry]
    /// How many requests the journal holds in all.
    public var requestCount: Int
    /// The credential whose uploads and requests these are (README, Isolation); nil: everyone's.
    public var scope: String?
    /// Where the dashboard shows all of it, when the server's address is known.
    public var dashboardURL: String?
    /// Each listed upload's segment map.
    package var segmentMaps: [UInt64: SegmentMap]

    /// The most uploads and requests a timeline lists, however many are asked for.
    package static let maximumListed = 1000

    /// The timeline of `scope` (nil: the whole server) from the mock's state.
    init(application: MockApplication, scope: String?, uploads uploadLimit: Int, requests requestLimit: Int, baseURL: String?) {
        let all = application.uploads.reports(in: scope)
        uploads = Array(all.suffix(min(max(uploadLimit, 0), Self.maximumListed)))
        uploadCount = all.count
        var newest = JournalPage()
        newest.order = .newest
        newest.limit = min(max(requestLimit, 0), Self.maximumListed)
        let filter = RequestFilter(scope: scope)
        requests = newest.limit == 0 ? [] : application.journal.entries(filter, page: newest).reversed()
        requestCount = application.journal.count(filter)
        self.scope = scope
        dashboardURL = baseURL.map { base in
            base + DashboardPage.root + (scope.map { "?scope=" + URLEncodedFormParser.percentEncode($0) } ?? "")
        }
        var maps: [UInt64: SegmentMap] = [:]
        for upload in uploads { maps[upload.mediaID] = application.uploads.segmentMap(upload.mediaID, in: scope) }
        segmentMaps = maps
    }

    /// The text a failing test's report shows.
    public var description: String {
        var lines = ["twitter-upload-mock: \(count(uploadCount, "upload")), \(count(requestCount, "request"))"
            + (scope.map { " with X-Mock-Scope \($0)" } ?? "")]
        if let dashboardURL { lines.append("dashboard: \(dashboardURL)") }
        if uploadCount > uploads.count { lines.append("the newest \(uploads.count) uploads:") }
        for upload in uploads {
            lines.append(Self.line(upload))
            if let map = segmentMaps[upload.mediaID], !map.states.isEmpty { lines += Self.lines(map) }
        }
        if !requests.isEmpty {
            lines.append(requestCount > requests.count ? "the last \(requests.count) requests:" : "requests:")
            lines += requests.map(Self.line)
        }
        return lines.joined(separator: "\n")
    }

    private func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }

    private static func line(_ upload: UploadReport) -> String {
        var words = ["upload \(upload.mediaID)", upload.api.rawValue, upload.mediaType]
        if let category = upload.mediaCategory { words.append(category) }
        words.append(upload.state.rawValue)
        words.append("\(upload.receivedBytes)/\(upload.totalBytes) bytes in \(upload.segmentCount) segment\(upload.segmentCount == 1 ? "" : "s")")
        if let size = upload.imageSize { words.append("\(size.width)x\(size.height)") }
        return "  " + words.joined(separator: "  ")
    }

    /// The map, 50 indexes a line in groups of 10, under a legend.
    private static func lines(_ map: SegmentMap) -> [String] {
        let symbols = map.states.map { state -> Character in
            switch state {
            case .arrived: "#"
            case .retried: "R"
            case .refused: "X"
            case .missing: "."
            }
        }
        var lines = ["    segments 0-\(symbols.count - 1) (# arrived, R retried, X refused, . missing):"]
        for start in stride(from: 0, to: symbols.count, by: 50) {
            let row = symbols[start..<min(start + 50, symbols.count)]
            let groups = stride(from: row.startIndex, to: row.endIndex, by: 10).map { String(row[$0..<min($0 + 10, row.endIndex)]) }
            let label = String(start)
            lines.append("    " + String(repeating: " ", count: max(0, 4 - label.count)) + label + "  " + groups.joined(separator: " "))
        }
        return lines
    }

    private static func line(_ entry: JournalEntry) -> String {
        let time = JSONValue.timestamp(entry.time).split(separator: "T").last.map(String.init) ?? ""
        var words = [time, entry.api.rawValue]
        if let command = entry.command { words.append(command) } else { words.append("\(entry.method) \(entry.path)") }
        if let mediaID = entry.mediaID { words.append("media \(mediaID)") }
        if let index = entry.segmentIndex { words.append("segment \(index)") }
        words.append("-> " + (entry.status.map(String.init) ?? "no answer"))
        if let fault = entry.fault { words.append("fault: \(fault)") }
        if let rateLimit = entry.rateLimit { words.append("rate limit: \(rateLimit)") }
        words.append("\((entry.durationMilliseconds * 10).rounded() / 10) ms")
        if let error = entry.error { words.append("error: " + (error.count > 160 ? String(error.prefix(160)) + "…" : error)) }
        return "  " + words.joined(separator: "  ")
    }
}
