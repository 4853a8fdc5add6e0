import UploadMockHTTP
import UploadMockJSON

/// The journal as an HTTP Archive (HAR 1.2), `GET /__admin/requests.har`, for browser devtools
/// and HAR viewers (docs/dashboard.md, HAR). The journal keeps what a test asserts on, not whole
/// exchanges: no headers, query strings or bodies, so those fields are empty and each entry
/// carries the journal's own facts as `_`-prefixed fields, which HAR reserves for custom data.
enum HARExport {
    static func document(_ entries: [JournalEntry], origin: String) -> JSONValue {
        .object(["log": .object([
            "version": "1.2",
            "creator": .object(["name": "twitter-upload-mock", "version": .string(AdminIndex.version)]),
            "entries": .array(entries.map { entry(for: $0, origin: origin) }),
        ])])
    }

    private static func entry(for journal: JournalEntry, origin: String) -> JSONValue {
        let milliseconds = JSONValue.double((journal.durationMilliseconds * 1000).rounded() / 1000)
        let none = JSONValue.array([])
        var entry: JSONObject = [
            "startedDateTime": .string(JSONValue.timestamp(journal.time)),
            "time": milliseconds,
            "request": .object([
                "method": .string(journal.method),
                "url": .string(origin + journal.path),
                "httpVersion": "HTTP/1.1",
                "cookies": none, "headers": none, "queryString": none,
                "headersSize": -1,
                "bodySize": .int(Int64(journal.bytesReceived)),
            ]),
            // A connection that ended without an answer has status 0, as browsers record it.
            "response": .object([
                "status": .int(Int64(journal.status ?? 0)),
                "statusText": .string(journal.status.map(HTTPStatus.reasonPhrase) ?? ""),
                "httpVersion": journal.status == nil ? "" : "HTTP/1.1",
                "cookies": none, "headers": none,
                "content": .object(["size": -1, "mimeType": ""]),
                "redirectURL": "",
                "headersSize": -1, "bodySize": -1,
            ]),
            "cache": .object([:]),
            "timings": .object(["send": 0, "wait": milliseconds, "receive": 0]),
        ]
        if let error = journal.error { entry["comment"] = .string(error) }
        for (key, value) in journal.json.objectOrEmpty.members where !["time", "method", "path", "bytes_received", "duration_ms", "status"].contains(key) {
            entry["_" + key] = value
        }
        return .object(entry)
    }
}
