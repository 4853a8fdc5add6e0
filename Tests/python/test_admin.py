"""README, Verify what arrived: what arrived, the journal, reset."""
import base64
import hashlib
import random

import requests

from conftest import FIXTURES, append, finalize, init


def test_multi_segment_upload_out_of_order_with_a_retry(mock):
    data = (FIXTURES / "media" / "clip.mp4").read_bytes()
    size = 220_000
    chunks = [data[start:start + size] for start in range(0, len(data), size)]
    assert len(chunks) == 7
    media_id = init(mock, len(data), media_category="tweet_video")
    order = list(range(7))
    random.Random(3).shuffle(order)
    for index in order:
        assert append(mock, media_id, index, chunks[index]).status_code == 204
    assert append(mock, media_id, 4, chunks[4]).status_code == 204  # a client retry
    detail = mock.upload(media_id)
    assert detail["sha256"] == hashlib.sha256(data).hexdigest()
    assert detail["md5"] == hashlib.md5(data).hexdigest()
    assert detail["segments"] == [{"index": i, "bytes": len(c), "sha256": hashlib.sha256(c).hexdigest()}
                                  for i, c in enumerate(chunks)]
    assert [a["segment_index"] for a in detail["attempts"]] == order + [4]
    assert detail["state"] == "initialized"
    assert (detail["media_type"], detail["media_category"], detail["total_bytes"], detail["received_bytes"]) == \
        ("video/mp4", "tweet_video", len(data), len(data))
    media = requests.get(mock.url(f"/__admin/uploads/{media_id}/media"))
    assert media.headers["content-type"] == "video/mp4"
    assert media.content == data
    assert finalize(mock, media_id).status_code == 200  # processing starts: 200, as recorded
    assert mock.upload(media_id)["state"] == "processing"


def test_incomplete_upload_has_no_whole_digest(mock):
    media_id = init(mock, 10)
    append(mock, media_id, 1, b"abc")
    detail = mock.upload(media_id)
    assert "sha256" not in detail and "md5" not in detail
    assert detail["received_bytes"] == 3


def test_uploads_list_and_unknown_id(mock):
    first, second = init(mock, 1), init(mock, 2, "image/png")
    listed = mock.admin("/uploads").json()["uploads"]
    assert [u["media_id_string"] for u in listed] == [first, second]
    assert listed[1]["state"] == "initialized" and listed[1]["media_type"] == "image/png"
    assert mock.admin("/uploads/123").status_code == 404
    assert mock.admin("/uploads/123/media").status_code == 404
    assert mock.admin("/nope").status_code == 404


def test_journal_records_each_request(mock):
    media_id = init(mock, 4)
    append(mock, media_id, 2, b"abcd")
    append(mock, media_id, 1000, b"abcd")
    entries = mock.admin("/requests").json()["requests"]
    assert [e["command"] for e in entries] == ["INIT", "APPEND", "APPEND"]
    init_entry, good, bad = entries
    assert init_entry["media_id"] == media_id and init_entry["status"] == 202
    assert good["method"] == "POST" and good["path"] == "/1.1/media/upload.json"
    assert good["segment_index"] == 2 and good["status"] == 204 and good["bytes_received"] > 4
    assert good["duration_ms"] >= 0 and good["time"].endswith("Z")
    assert bad["status"] == 400 and bad["error"] == "SegmentIndex must be between 0 and 999."
    assert all(e["fault"] is None and e["rate_limit"] is None for e in entries)


def test_reset_forgets_uploads_and_journal(mock):
    init(mock, 1)
    assert mock.admin("/reset", method="POST").json() == {"status": "reset"}
    assert mock.admin("/uploads").json() == {"uploads": []}
    assert mock.admin("/requests").json() == {"requests": []}
    assert mock.admin("/health").json() == {"status": "ok"}


def test_admin_requests_do_not_count_against_rate_limits(start_mock):
    server = start_mock({"rate_limits": [{"match": {}, "limit": 1, "window_secs": 60, "per": "global"}]})
    for _ in range(5):
        assert server.admin("/health").status_code == 200
    assert requests.post(server.upload_url, data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"}).status_code == 202


def test_storage_dir_spools_segments_to_disk(start_mock, tmp_path):
    parent = tmp_path / "spool"
    parent.mkdir()
    stale = parent / "spool-999999999"  # left by a server that is gone
    stale.mkdir()
    (stale / "1-0-x").write_bytes(b"old")
    server = start_mock(args=["--storage-dir", str(parent)])
    assert not stale.exists()
    spool = parent / f"spool-{server.process.pid}"
    assert oct(spool.stat().st_mode & 0o777) == "0o700"
    data = (FIXTURES / "media" / "clip.mp4").read_bytes()
    media_id = init(server, len(data))
    for index, start in enumerate(range(0, len(data), 500_000)):
        assert append(server, media_id, index, data[start:start + 500_000]).status_code == 204
    assert append(server, media_id, 1, data[500_000:1_000_000]).status_code == 204  # replaced, old file removed
    assert append(server, media_id, 5, b"x" * 10).status_code == 400  # refused: no file left behind
    files = sorted(spool.iterdir())
    assert len(files) == 3 and sum(f.stat().st_size for f in files) == len(data)
    assert {oct(f.stat().st_mode & 0o777) for f in files} == {"0o600"}
    assert server.upload(media_id)["sha256"] == hashlib.sha256(data).hexdigest()
    assert requests.get(server.url(f"/__admin/uploads/{media_id}/media")).content == data
    assert finalize(server, media_id).status_code == 201
    server.admin("/reset", method="POST")
    assert list(spool.iterdir()) == []
    append(server, init(server, 3), 0, b"abc")
    server.stop()
    assert not spool.exists(), "a stopped server leaves no spooled bytes behind"


def test_attempt_history_shows_each_segment_retry_with_its_fault(mock):
    """"Segment 1 was sent twice: 503, then 204", asserted in one line."""
    mock.admin("/faults", method="POST", json={"match": {"command": "APPEND", "segment_index": 1},
                                               "action": {"status": 503}, "times": 1})
    media_id = init(mock, 6)
    for index, chunk in [(0, b"ab"), (1, b"cd"), (1, b"cd"), (2, b"ef")]:
        append(mock, media_id, index, chunk)
    detail = mock.upload(media_id)
    history = [(a["segment_index"], a["status"]) for a in detail["attempts"]]
    assert history == [(0, 204), (1, 503), (1, 204), (2, 204)]
    retried = [a for a in detail["attempts"] if a["segment_index"] == 1]
    assert retried[0]["fault"].startswith("rule ") and retried[1]["fault"] is None
    assert all(a["bytes_received"] > 2 and a["time"].endswith("Z") for a in retried)
    # The 503 stored nothing; the retry stored the 2 media bytes of a longer multipart body.
    assert [(a["stored"], a["media_bytes"]) for a in retried] == [(False, None), (True, 2)]
    assert detail["dropped_attempts"] == 0


def test_attempts_count_media_bytes_beside_body_bytes(mock):
    """A base64 segment: the body carries more than the segment it stores."""
    media_id = init(mock, 300)
    chunk = bytes(range(256)) + b"x" * 44
    encoded = base64.b64encode(chunk).decode()
    response = requests.post(mock.upload_url, data={"command": "APPEND", "media_id": media_id, "segment_index": 0,
                                                    "media_data": encoded})
    assert response.status_code == 204
    [attempt] = mock.upload(media_id)["attempts"]
    assert attempt["media_bytes"] == 300 and attempt["bytes_received"] > len(encoded) > 300 and attempt["stored"]


def test_journal_filters_and_count(mock):
    mock.admin("/faults", method="POST", json={"match": {"command": "APPEND", "segment_index": 1},
                                               "action": {"status": 503}, "times": 1})
    first = init(mock, 4)
    second = init(mock, 4)
    append(mock, first, 0, b"ab")
    append(mock, first, 1, b"cd")
    append(mock, first, 1, b"cd")
    append(mock, second, 0, b"ab")

    def listed(**query):
        return mock.admin("/requests", params=query).json()["requests"]

    def count(**query):
        return mock.admin("/requests/count", params=query).json()["count"]

    assert [e["status"] for e in listed(command="APPEND", media_id=first, segment_index=1)] == [503, 204]
    assert count(command="APPEND") == 4 and count(command="INIT") == 2
    assert count(status=503) == 1 and count(fault="true") == 1 and count(fault="false") == 5
    rule = listed(fault="true")[0]["fault_rule"]
    assert count(fault=rule) == 1 and count(fault="999") == 0
    assert count(media_id=second) == 2 and count(api="v1.1") == 6 and count(api="v2") == 0
    assert count(status="none") == 0
    since = listed(media_id=second)[-1]["time"]
    assert count(since=since) >= 1 and count(since="4102444800") == 0
    assert count(since="2000-01-01t00:00:00.5+05:30") == 6 and count(since="2100-01-01T00:00:00z") == 0  # RFC 3339's t and z
    for bad in [{"command": "append"}, {"media_id": "x"}, {"since": "yesterday"}, {"colour": "blue"}]:
        response = mock.admin("/requests", params=bad)
        assert response.status_code == 400 and list(bad)[0] in response.json()["error"]


def test_journal_pages_by_id_newest_first_and_from_a_cursor(mock):
    """docs/dashboard.md, Paging: what the dashboard asks for, and the bounds a client relies on."""
    media_id = init(mock, 100)
    for index in range(5):
        append(mock, media_id, index, b"x")
    ids = [entry["id"] for entry in requests.get(mock.url("/__admin/requests")).json()["requests"]]
    assert ids == list(range(ids[0], ids[0] + 6))  # one more than the entry before
    page = requests.get(mock.url("/__admin/requests"), params={"order": "newest", "limit": 2}).json()["requests"]
    assert [entry["id"] for entry in page] == ids[:-3:-1]
    older = requests.get(mock.url("/__admin/requests"), params={"order": "newest", "limit": 2, "before": page[-1]["id"],
                                                                "command": "APPEND"}).json()["requests"]
    assert [entry["id"] for entry in older] == [ids[3], ids[2]]
    since = requests.get(mock.url("/__admin/requests"), params={"after": ids[3]}).json()["requests"]
    assert [entry["segment_index"] for entry in since] == [3, 4]
    for bad, message in ((("limit", "0"), "limit=0 is not valid"), (("order", "up"), "expected oldest or newest"),
                         (("after", "-1"), "expected an entry id")):
        response = requests.get(mock.url("/__admin/requests"), params=dict([bad]))
        assert response.status_code == 400 and message in response.json()["error"]
    assert requests.post(mock.url("/__admin/reset")).status_code == 200
    init(mock, 1)
    assert requests.get(mock.url("/__admin/requests")).json()["requests"][0]["id"] == ids[-1] + 1  # never reused


def test_index_lists_the_dashboard_the_document_and_every_route(mock):
    index = requests.get(mock.url("/__admin")).json()
    assert (index["dashboard"], index["openapi"]) == ("/__admin/ui", "/__admin/openapi.json")
    document = requests.get(mock.url("/__admin/openapi.json")).json()
    assert {(r["method"].lower(), r["path"]) for r in index["routes"]} == {
        (method, path) for path, item in document["paths"].items() for method in item if method != "parameters"}
    assert all(r["summary"] == document["paths"][r["path"]][r["method"].lower()]["summary"] for r in index["routes"])
    page = requests.get(mock.url("/__admin"), headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.headers["content-type"] == "text/html;charset=utf-8"
    assert '<a href="/__admin/ui">Open the dashboard</a>' in page.text and '<a href="/__admin/faults">' in page.text


# The fields HAR 1.2 requires of each object (docs/dashboard.md, HAR), and their types.
HAR_SCHEMA = {
    "type": "object", "required": ["log"],
    "properties": {"log": {
        "type": "object", "required": ["version", "creator", "entries"],
        "properties": {
            "version": {"const": "1.2"},
            "creator": {"type": "object", "required": ["name", "version"],
                        "properties": {"name": {"type": "string"}, "version": {"type": "string"}}},
            "entries": {"type": "array", "items": {
                "type": "object", "required": ["startedDateTime", "time", "request", "response", "cache", "timings"],
                "properties": {
                    "startedDateTime": {"type": "string", "format": "date-time"},
                    "time": {"type": "number", "minimum": 0},
                    "request": {"type": "object",
                                "required": ["method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"],
                                "properties": {"method": {"type": "string"}, "url": {"type": "string", "format": "uri"},
                                               "httpVersion": {"type": "string"}, "cookies": {"type": "array"},
                                               "headers": {"type": "array"}, "queryString": {"type": "array"},
                                               "headersSize": {"type": "integer"}, "bodySize": {"type": "integer"}}},
                    "response": {"type": "object",
                                 "required": ["status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL",
                                              "headersSize", "bodySize"],
                                 "properties": {"status": {"type": "integer"}, "statusText": {"type": "string"},
                                                "content": {"type": "object", "required": ["size", "mimeType"],
                                                            "properties": {"size": {"type": "integer"}, "mimeType": {"type": "string"}}},
                                                "redirectURL": {"type": "string"}, "headersSize": {"type": "integer"},
                                                "bodySize": {"type": "integer"}}},
                    "cache": {"type": "object"},
                    "comment": {"type": "string"},
                    "timings": {"type": "object", "required": ["send", "wait", "receive"],
                                "properties": {name: {"type": "number", "minimum": -1} for name in ("send", "wait", "receive")}},
                },
                "patternProperties": {"^_": {}}, "additionalProperties": False,
            }},
        }}},
}


def test_journal_exports_as_har(mock):
    from jsonschema import Draft202012Validator, FormatChecker
    requests.post(mock.url("/__admin/faults"), json={"match": {"command": "APPEND"}, "action": {"status": 503}, "times": 1})
    media_id = init(mock, 3)
    assert append(mock, media_id, 0, b"abc").status_code == 503
    har = requests.get(mock.url("/__admin/requests.har"))
    assert har.headers["content-type"].startswith("application/json")
    document = har.json()
    Draft202012Validator(HAR_SCHEMA, format_checker=FormatChecker()).validate(document)
    init_entry, append_entry = document["log"]["entries"]
    assert init_entry["request"]["url"] == mock.upload_url and init_entry["response"]["statusText"] == "Accepted"
    assert append_entry["response"]["status"] == 503 and append_entry["response"]["statusText"] == "Service Unavailable"
    assert (append_entry["_command"], append_entry["_media_id"], append_entry["_segment_index"]) == ("APPEND", media_id, 0)
    assert append_entry["_fault"] == "rule 1, status 503" and append_entry["request"]["bodySize"] > 3
    filtered = requests.get(mock.url("/__admin/requests.har"), params={"status": 503, "order": "newest", "limit": 1}).json()
    assert [entry["_id"] for entry in filtered["log"]["entries"]] == [append_entry["_id"]]


def test_timeline_is_the_text_a_failing_test_shows(mock):
    media_id = init(mock, 6)
    append(mock, media_id, 0, b"abc")
    append(mock, media_id, 2, b"def")
    text = requests.get(mock.url("/__admin/timeline"), params={"requests": 1}).text
    assert text.splitlines()[:5] == [
        "twitter-upload-mock: 1 upload, 3 requests", f"dashboard: {mock.base_url}/__admin/ui",
        f"  upload {media_id}  v1.1  video/mp4  initialized  6/6 bytes in 2 segments",
        "    segments 0-2 (# arrived, R retried, X refused, . missing):", "       0  #.#"]
    assert text.splitlines()[5:7] == ["the last 1 requests:", text.splitlines()[6]] and "segment 2  -> 204" in text.splitlines()[6]
    scoped = requests.get(mock.url("/__admin/timeline"), headers={"X-Mock-Scope": "a b"}).text
    assert scoped == f"twitter-upload-mock: 0 uploads, 0 requests with X-Mock-Scope a b\ndashboard: {mock.base_url}/__admin/ui?scope=a%20b\n"
    assert requests.get(mock.url("/__admin/timeline"), params={"requests": 1001}).status_code == 400
