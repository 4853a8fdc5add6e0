"""The admin client against a real server: tweepy and requests upload, the client checks."""
import hashlib
import json
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import tweepy

from twitter_upload_mock import AdminClient, AdminError, MockServer


def init(mock, total_bytes, media_type="video/mp4"):
    response = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": total_bytes,
                                                    "media_type": media_type})
    assert response.status_code == 202, response.text
    return response.json()["media_id_string"]


def append(mock, media_id, index, chunk):
    return requests.post(mock.upload_url, data={"command": "APPEND", "media_id": media_id, "segment_index": index},
                         files={"media": ("blob", chunk, "application/octet-stream")})


@pytest.mark.upload_mock(tls=True, config={"processing": {"check_after_secs": 0}})
def test_tweepy_chunked_upload_is_reported_byte_for_byte(upload_mock, clip):
    data = clip.read_bytes()
    api = tweepy.API(tweepy.OAuth1UserHandler("ck", "cs", "t", "ts"), upload_host=upload_mock.host)
    upload_mock.trust(api.session)
    media = api.chunked_upload(str(clip), file_type="video/mp4", media_category="tweet_video", chunk_size=512 * 1024)

    report = upload_mock.upload(media.media_id)
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert report.md5 == hashlib.md5(data).hexdigest()
    assert (report.media_id, report.state, report.media_type, report.media_category) == \
        (media.media_id, "succeeded", "video/mp4", "tweet_video")
    assert (report.total_bytes, report.received_bytes, report.segment_count) == (len(data), len(data), 3)
    chunks = [data[i:i + 512 * 1024] for i in range(0, len(data), 512 * 1024)]
    assert [(s.index, s.bytes, s.sha256) for s in report.segments] == \
        [(i, len(c), hashlib.sha256(c).hexdigest()) for i, c in enumerate(chunks)]
    assert upload_mock.media(media.media_id) == data
    [summary] = upload_mock.uploads()
    assert summary.media_id == media.media_id and summary.segments is None and summary.sha256 is None
    assert [e.command for e in upload_mock.requests()] == ["INIT", "APPEND", "APPEND", "APPEND", "FINALIZE", "STATUS", "STATUS"]


def test_fault_then_retried_segment(upload_mock_shared):
    mock = upload_mock_shared
    rule = mock.add_fault({"command": "APPEND", "segment_index": 1}, {"status": 503}, times=1)
    assert (rule.match["segment_index"], rule.action, rule.times) == (1, {"status": 503}, 1)
    assert [r.id for r in mock.faults()] == [rule.id]
    chunks = [b"a" * 10, b"b" * 10, b"c" * 5]
    media_id = init(mock, 25)
    assert append(mock, media_id, 0, chunks[0]).status_code == 204
    refused = append(mock, media_id, 1, chunks[1])
    assert refused.status_code == 503 and refused.json() == {"errors": [{"code": 130, "message": "Over capacity"}]}
    assert append(mock, media_id, 1, chunks[1]).status_code == 204  # the client's retry
    assert append(mock, media_id, 2, chunks[2]).status_code == 204

    assert mock.upload(media_id).sha256 == hashlib.sha256(b"".join(chunks)).hexdigest()
    attempts = [a for a in mock.upload(media_id).attempts if a.segment_index == 1]
    assert [(a.status, a.stored, a.media_bytes) for a in attempts] == [(503, False, None), (204, True, 10)]
    retried = mock.requests(media_id=media_id, segment_index=1)
    assert [e.status for e in retried] == [503, 204]
    assert retried[0].fault.startswith(f"rule {rule.id}") and retried[1].fault is None
    assert mock.requests(fault=True) == [retried[0]]
    assert len(mock.requests(fault=False)) == 4
    assert [e.segment_index for e in mock.requests(command="APPEND", status=204)] == [0, 1, 2]
    assert mock.requests(command="FINALIZE") == []


def test_since_keeps_later_requests(upload_mock_shared):
    first = init(upload_mock_shared, 1)
    time.sleep(0.01)
    boundary = datetime.now(timezone.utc)
    time.sleep(0.01)
    second = init(upload_mock_shared, 1)
    assert [e.media_id for e in upload_mock_shared.requests()] == [int(first), int(second)]
    assert [e.media_id for e in upload_mock_shared.requests(since=boundary)] == [int(second)]
    assert [e.media_id for e in upload_mock_shared.requests(since=boundary.isoformat())] == [int(second)]
    assert upload_mock_shared.requests(since=datetime.now(timezone.utc).replace(year=2100)) == []


@pytest.mark.upload_mock(config={"auth": {"mode": "verify", "users": [
    {"user_id": "1", "consumer_key": "ck", "consumer_secret": "cs", "token": "one", "token_secret": "s1"},
    {"user_id": "2", "consumer_key": "ck", "consumer_secret": "cs", "token": "two", "token_secret": "s2"}]}})
def test_user_filter(upload_mock):
    from requests_oauthlib import OAuth1
    for token, secret in (("one", "s1"), ("two", "s2"), ("one", "s1")):
        requests.post(upload_mock.upload_url, auth=OAuth1("ck", "cs", token, secret),
                      data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"}).raise_for_status()
    assert [e.user for e in upload_mock.requests(user="1")] == ["1", "1"]


def test_filters_are_sent_as_query_parameters():
    seen = []

    class Journal(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            body = json.dumps({"requests": []}).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Journal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = AdminClient(f"http://127.0.0.1:{server.server_address[1]}")
        assert client.requests(api="v2", command="APPEND", media_id=7, segment_index=3, status=503, fault=True,
                               user="u1", since=datetime(2026, 1, 2, 3, 4, 5, 678901)) == []
        client.requests()
    finally:
        server.shutdown()
        server.server_close()
    path, query = seen[0].split("?")
    assert path == "/__admin/requests" and seen[1] == "/__admin/requests"
    assert dict(urllib.parse.parse_qsl(query)) == {
        "api": "v2", "command": "APPEND", "media_id": "7", "segment_index": "3", "status": "503", "fault": "true",
        "user": "u1", "since": "2026-01-02T03:04:05.678Z"}


def test_rate_limits_add_list_delete_and_reset(upload_mock_shared):
    mock = upload_mock_shared
    defaults = mock.rate_limits()
    assert [(r.match.get("command"), r.limit, r.window_secs, r.per) for r in defaults if r.match.get("api") == "v1.1"] == [
        ("INIT", 200, 3600, "user"), ("APPEND", 20000, 3600, "user"), ("FINALIZE", 615, 3600, "user"),
        ("STATUS", 1000, 3600, "user"), ("UPLOAD", 415, 3600, "user")]
    mock.clear_rate_limits()
    assert mock.rate_limits() == []
    rule = mock.add_rate_limit({"command": "APPEND"}, limit=1, window_secs=60, per="global")
    assert [r.id for r in mock.rate_limits()] == [rule.id]
    media_id = init(mock, 2)
    assert append(mock, media_id, 0, b"a").status_code == 204
    limited = append(mock, media_id, 1, b"b")
    assert limited.status_code == 429 and limited.headers["x-rate-limit-remaining"] == "0"
    [entry] = mock.requests(status=429)
    assert entry.rate_limit == f"rule {rule.id}: 1 per window"
    mock.delete_rate_limit(rule.id)
    assert append(mock, media_id, 1, b"b").status_code == 204
    mock.reset()
    assert mock.rate_limits() == defaults


def test_compatibility_switches_set_scoped_refusal_and_reset(upload_mock_shared):
    mock = upload_mock_shared
    assert mock.compatibility() == {"infer_v2_segment_index": False}
    initialized = requests.post(mock.base_url + "/2/media/upload/initialize",
                                json={"media_type": "video/mp4", "total_bytes": 3, "media_category": "tweet_video"})
    media_id = initialized.json()["data"]["id"]
    without_index = {"media": ("blob", b"abc", "application/octet-stream")}  # as python-twitter-v2 0.9.3 sends it
    append_url = mock.base_url + f"/2/media/upload/{media_id}/append"
    assert requests.post(append_url, files=without_index).status_code == 400
    assert mock.set_compatibility(infer_v2_segment_index=True) == {"infer_v2_segment_index": True}
    assert requests.post(append_url, files=without_index).status_code == 200
    worker = mock.scoped("worker-1")
    assert worker.set_compatibility(infer_v2_segment_index=False) == {"infer_v2_segment_index": False}
    assert (worker.compatibility(), mock.compatibility()) == ({"infer_v2_segment_index": False},
                                                              {"infer_v2_segment_index": True})
    mock.reset()
    assert mock.compatibility() == {"infer_v2_segment_index": False}


def test_faults_delete_and_clear(upload_mock_shared):
    mock = upload_mock_shared
    first = mock.add_fault({"command": "INIT"}, {"delay_ms": 1})
    second = mock.add_fault(action={"fault": "reset"}, after_commit=True)
    assert [(r.id, r.after_commit, r.times) for r in mock.faults()] == [(first.id, False, None), (second.id, True, None)]
    mock.delete_fault(first.id)
    assert [r.id for r in mock.faults()] == [second.id]
    mock.clear_faults()
    assert mock.faults() == []


def test_errors_carry_the_status_and_the_servers_message(upload_mock_shared):
    with pytest.raises(AdminError) as unknown:
        upload_mock_shared.upload(123)
    assert (unknown.value.status, unknown.value.message) == (404, "no upload with media_id 123")
    with pytest.raises(AdminError) as bad_rule:
        upload_mock_shared.add_fault({"command": "APPEND"}, {})
    assert bad_rule.value.status == 400 and "needs at least one of status, fault" in bad_rule.value.message
    with pytest.raises(AdminError) as missing:
        upload_mock_shared.delete_fault("999")
    assert missing.value.status == 404


def test_health_and_reset(upload_mock_shared):
    assert upload_mock_shared.health() == "ok"
    init(upload_mock_shared, 1)
    assert len(upload_mock_shared.uploads()) == 1
    upload_mock_shared.reset()
    assert upload_mock_shared.uploads() == [] and upload_mock_shared.requests() == []


def test_a_client_for_an_already_running_server(upload_mock_shared):
    client = AdminClient(upload_mock_shared.base_url + "/")
    assert client.health() == "ok" and client.host == f"127.0.0.1:{upload_mock_shared.port}"
    assert isinstance(upload_mock_shared, MockServer)


def test_clock_moves_the_servers_time_and_the_journal_shows_both(upload_mock_shared):
    mock = upload_mock_shared
    assert abs(mock.clock.now() - time.time()) < 5
    media_id = init(mock, 2)
    frozen = mock.clock.freeze()
    assert frozen.frozen and frozen.offset_secs <= 0
    assert mock.clock.advance(86_400).now == pytest.approx(frozen.now + 86_400)
    refused = append(mock, media_id, 0, b"ab")
    assert refused.status_code == 400 and "expired" in refused.json()["error"]
    [attempt] = mock.upload(media_id).attempts
    assert attempt.status == 400 and (attempt.clock_time - attempt.time).total_seconds() == pytest.approx(86_400, abs=1)
    [_, entry] = mock.requests()
    assert entry.clock_time == attempt.clock_time and entry.time == attempt.time
    assert mock.upload(media_id).state == "expired"
    new_year = mock.clock.set(datetime(2030, 1, 1))
    assert (new_year.now, new_year.time) == (1_893_456_000, datetime(2030, 1, 1, tzinfo=timezone.utc))
    resumed = mock.clock.resume()
    assert not resumed.frozen and resumed.now == pytest.approx(1_893_456_000, abs=1)
    with pytest.raises(AdminError) as refused_set:
        mock.clock.set(0)
    assert refused_set.value.status == 400 and refused_set.value.message.startswith("set must be seconds since 1970")
    assert mock.clock.reset().offset_secs == 0
    assert mock.upload(media_id).state == "initialized" and mock.requests()[0].clock_time is None


def test_a_scoped_clients_clock_is_its_own(upload_mock_shared):
    alice = upload_mock_shared.scoped("alice")
    alice.clock.advance(3_600)
    assert alice.clock.reading().offset_secs == 3_600
    assert upload_mock_shared.clock.reading().offset_secs == 0
    upload_mock_shared.clock.advance(60)
    assert upload_mock_shared.scoped("bob").clock.reading().offset_secs == 60, "bob follows the server's clock"
    assert alice.clock.reset().offset_secs == 60, "reset: alice follows the server's clock again"
