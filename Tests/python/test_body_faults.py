"""docs/faults.md, Faults while the body arrives: a connection reset, closed or stalled partway
through a request body, and a slow uplink, as real clients (requests, tweepy, xdk) see them;
the journal says what happened, a retry succeeds, and nothing partial is stored."""
import base64
import hashlib
import re
import socket
import subprocess
import threading
import time

import pytest
import requests
import tweepy
from xdk import Client
from xdk.media.models import AppendUploadRequest, InitializeUploadRequest

from conftest import FIXTURES, REPO, MockServer, append, finalize, init

MIB = 1024 * 1024


def add_fault(server, rule):
    response = server.admin("/faults", method="POST", json=rule)
    assert response.status_code == 201, response.text
    return response.json()


def journal(server, **filters):
    return server.admin("/requests", params=filters).json()["requests"]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def pattern(size, seed=0):
    return bytes((index * 31 + seed) % 251 for index in range(size))


def test_v1_append_reset_three_mb_into_five_then_retried(mock):
    media = pattern(5 * MIB)
    rule = add_fault(mock, {"match": {"command": "APPEND"},
                            "action": {"fault": "reset", "after_request_bytes": 3_000_000}, "times": 1})
    media_id = init(mock, len(media))
    with pytest.raises(requests.exceptions.ConnectionError):
        append(mock, media_id, 0, media)
    [cut] = journal(mock, command="APPEND")
    assert cut["status"] is None and cut["segment_index"] == 0 and cut["media_id"] == media_id
    assert cut["bytes_received"] == 3_000_000
    assert cut["fault"] == f"rule {rule['id']}, reset after 3000000 request bytes"
    assert mock.upload(media_id)["segments"] == []  # nothing of the cut request was stored
    assert append(mock, media_id, 0, media).status_code == 204  # the retry
    assert finalize(mock, media_id).status_code in (200, 201)
    detail = mock.upload(media_id)
    assert detail["sha256"] == sha256(media)
    assert [attempt["status"] for attempt in detail["attempts"]] == [None, 204]


def test_tweepy_sees_the_close_and_a_second_upload_succeeds(start_mock, tmp_path):
    """tweepy does not retry a broken APPEND: the failure reaches the caller, as it would in production."""
    tls = FIXTURES / "tls"
    server = start_mock({"processing": {"check_after_secs": 0}},
                        args=["--tls-cert", str(tls / "server.pem"), "--tls-key", str(tls / "server-key.pem")])
    media = pattern(3 * MIB, seed=1)
    added = requests.post(server.url("/__admin/faults"), verify=str(tls / "ca.pem"), json={
        "match": {"command": "APPEND", "segment_index": 1}, "action": {"fault": "close", "after_request_bytes": 500_000},
        "times": 1})
    assert added.status_code == 201, added.text
    api = tweepy.API(tweepy.OAuth1UserHandler("ck", "cs", "t", "ts"), upload_host=f"localhost:{server.port}")
    api.session.trust_env = False
    api.session.verify = str(tls / "ca.pem")
    path = tmp_path / "clip.mp4"
    path.write_bytes(media)
    with pytest.raises(tweepy.TweepyException):
        api.media_upload(str(path), chunked=True, media_category="tweet_video", wait_for_async_finalize=False)
    entries = requests.get(server.url("/__admin/requests"), verify=str(tls / "ca.pem")).json()["requests"]
    [broken] = [entry for entry in entries if entry["command"] == "APPEND" and entry["status"] is None]
    assert broken["segment_index"] == 1 and broken["bytes_received"] == 500_000 and "close after 500000" in broken["fault"]
    uploaded = api.media_upload(str(path), chunked=True, media_category="tweet_video", wait_for_async_finalize=False)
    detail = requests.get(server.url(f"/__admin/uploads/{uploaded.media_id_string}"), verify=str(tls / "ca.pem")).json()
    assert detail["sha256"] == sha256(media)


def test_v1_urlencoded_media_data_reset_mid_body(mock):
    media = pattern(200_000, seed=2)
    add_fault(mock, {"match": {"command": "APPEND"}, "action": {"fault": "reset", "after_request_bytes": 100_000},
                     "times": 1})
    media_id = init(mock, len(media))
    body = {"command": "APPEND", "media_id": media_id, "segment_index": 0, "media_data": base64.b64encode(media).decode()}
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(mock.upload_url, data=body)
    assert mock.upload(media_id)["segments"] == []
    assert requests.post(mock.upload_url, data=body).status_code == 204
    assert finalize(mock, media_id).status_code in (200, 201)
    assert mock.upload(media_id)["sha256"] == sha256(media)


def test_v1_json_endpoint_reset_stores_no_alt_text(mock):
    media_id = init(mock, 10, media_type="image/png")
    add_fault(mock, {"match": {"command": "METADATA"}, "action": {"fault": "reset", "after_request_bytes": 10},
                     "times": 1})
    body = {"media_id": media_id, "alt_text": {"text": "A cat on a mat"}}
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(mock.url("/1.1/media/metadata/create.json"), json=body)
    assert mock.upload(media_id)["alt_text"] is None
    assert requests.post(mock.url("/1.1/media/metadata/create.json"), json=body).status_code == 200
    assert mock.upload(media_id)["alt_text"] == "A cat on a mat"


def test_xdk_json_append_closed_mid_body_then_retried(mock):
    client = Client(base_url=mock.base_url, access_token="xdk-user")
    media = pattern(1 * MIB, seed=3)
    media_id = client.media.initialize_upload(body=InitializeUploadRequest(
        media_type="video/mp4", total_bytes=len(media), media_category="tweet_video")).data.id
    add_fault(mock, {"match": {"api": "v2", "command": "APPEND", "media_id": media_id},
                     "action": {"fault": "close", "after_request_bytes": 400_000}, "times": 1})
    chunk = AppendUploadRequest(media=base64.b64encode(media).decode(), segment_index=0)
    with pytest.raises(requests.exceptions.ConnectionError):
        client.media.append_upload(id=media_id, body=chunk)
    [cut] = journal(mock, api="v2", command="APPEND")
    assert cut["status"] is None and cut["bytes_received"] == 400_000 and cut["media_id"] == media_id
    assert mock.upload(media_id)["segments"] == []
    client.media.append_upload(id=media_id, body=chunk)
    client.media.finalize_upload(id=media_id)
    assert mock.upload(media_id)["sha256"] == sha256(media)


def stalled_appends(server):
    return [entry for entry in journal(server, command="APPEND") if entry["status"] is None]


def test_stall_blocks_the_client_until_it_gives_up(start_mock):
    server = start_mock({"connections": {"max_held_by_faults": 1}, "connection_timeout_secs": 3})
    add_fault(server, {"match": {"command": "APPEND"}, "action": {"fault": "stall", "after_request_bytes": 1_000_000}})
    media = pattern(8 * MIB, seed=4)
    media_id = init(server, len(media))
    fields = {"command": "APPEND", "media_id": media_id, "segment_index": 0}
    # More than the socket buffers hold: the client's send blocks until its write timeout.
    with pytest.raises((requests.exceptions.Timeout, requests.exceptions.ConnectionError)):
        requests.post(server.upload_url, data=fields, files={"media": ("blob", media, "application/octet-stream")}, timeout=2)
    [stalled] = stalled_appends(server)
    assert stalled["bytes_received"] == 1_000_000 and "stall after 1000000 request bytes" in stalled["fault"]
    # Its unsent bytes keep that client's FIN queued in its kernel, so the mock holds the stall
    # until connection_timeout_secs; meanwhile the one held slot is taken.
    small = pattern(2 * 1_000_000, seed=5)
    busy = requests.post(server.upload_url, data=fields, files={"media": ("blob", small, "application/octet-stream")}, timeout=10)
    assert busy.status_code == 503 and "max_held_by_faults" in busy.text
    # A client that sent its whole body (it fits the buffers) and then gives up waiting is seen
    # leaving at the watchdog's next pass, and its slot is free again.
    deadline = time.monotonic() + 15
    for attempt in range(2):
        while True:
            try:
                refused = requests.post(server.upload_url, data=fields,
                                        files={"media": ("blob", small, "application/octet-stream")}, timeout=2)
            except requests.exceptions.Timeout:
                break
            assert refused.status_code == 503 and time.monotonic() < deadline, refused.text
            time.sleep(0.2)
        assert len(stalled_appends(server)) == 2 + attempt
    assert server.admin("/faults", method="DELETE").status_code == 204
    half = len(media) // 2
    assert [append(server, media_id, index, media[index * half:(index + 1) * half]).status_code
            for index in range(2)] == [204, 204]
    assert finalize(server, media_id).status_code in (200, 201)
    assert server.upload(media_id)["sha256"] == sha256(media)


def test_throttled_append_is_slow_stored_whole_and_slows_no_one_else(mock):
    media = pattern(2 * MIB, seed=5)
    add_fault(mock, {"match": {"command": "APPEND"}, "action": {"request_bytes_per_sec": 1_000_000}, "times": 1})
    media_id = init(mock, len(media))
    outcome = {}

    def slow_append():
        started = time.monotonic()
        outcome["status"] = append(mock, media_id, 0, media).status_code
        outcome["seconds"] = time.monotonic() - started

    uploader = threading.Thread(target=slow_append)
    uploader.start()
    others = [init(mock, 10) for _ in range(10)]  # answered while the throttled body still arrives
    assert uploader.is_alive(), "ten INITs should finish long before a 2 MiB body at 1 MB/s"
    uploader.join(timeout=30)
    assert len(others) == 10 and outcome["status"] == 204
    assert outcome["seconds"] >= 1.5  # 2 MiB at 1 MB/s cannot arrive sooner
    assert finalize(mock, media_id).status_code in (200, 201)
    assert mock.upload(media_id)["sha256"] == sha256(media)
    [throttled] = journal(mock, command="APPEND")
    assert throttled["fault"].endswith("request body at 1000000 bytes/s") and throttled["status"] == 204


def test_a_rule_for_a_longer_body_leaves_short_ones_alone(mock):
    add_fault(mock, {"match": {"command": "APPEND"}, "action": {"fault": "reset", "after_request_bytes": 1_000_000},
                     "times": 1})
    media_id = init(mock, 20)
    assert append(mock, media_id, 0, b"a short segment").status_code == 204
    assert len(mock.admin("/faults").json()["faults"]) == 1  # not fired, still waiting


def test_five_hundred_held_bodies_hold_no_thread(start_mock):
    server = start_mock({"real_rate_limits": False})
    stalled = requests.post(server.url("/2/media/upload/initialize"),
                            json={"media_type": "video/mp4", "total_bytes": 10, "media_category": "tweet_video"}).json()
    throttled = requests.post(server.url("/2/media/upload/initialize"),
                              json={"media_type": "video/mp4", "total_bytes": 10, "media_category": "tweet_video"}).json()
    add_fault(server, {"match": {"media_id": stalled["data"]["id"]}, "action": {"fault": "stall", "after_request_bytes": 10}})
    add_fault(server, {"match": {"media_id": throttled["data"]["id"]}, "action": {"request_bytes_per_sec": 1}})
    sockets = []
    try:
        for index in range(500):
            media_id = (stalled if index % 2 else throttled)["data"]["id"]
            connection = socket.create_connection(("127.0.0.1", server.port))
            connection.sendall(f"POST /2/media/upload/{media_id}/append HTTP/1.1\r\nHost: x\r\n"
                               "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n".encode() + b'{"media":"' + b"A" * 100)
            sockets.append(connection)
        deadline = time.monotonic() + 20
        while len([e for e in journal(server) if e["status"] is None]) < 250 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len([e for e in journal(server) if e["status"] is None]) == 250  # every stall is journaled at once
        started = time.monotonic()
        assert server.admin("/health").json() == {"status": "ok"}
        assert time.monotonic() - started < 1.0, "the admin API answers while 500 bodies are held"
    finally:
        for connection in sockets:
            connection.close()


@pytest.mark.parametrize("action, complaint", [
    ({"fault": "reset", "after_request_bytes": -1}, "action.after_request_bytes"),
    ({"fault": "reset", "after_request_bytes": 1 << 31}, "action.after_request_bytes"),
    ({"fault": "reset", "after_request_bytes": 100_000_000}, "action.after_request_bytes 100000000 is more than"),
    ({"fault": "reset", "after_request_bytes": "many"}, "action.after_request_bytes"),
    ({"request_bytes_per_sec": 0}, "action.request_bytes_per_sec"),
    ({"request_bytes_per_sec": -5}, "action.request_bytes_per_sec"),
    ({"fault": "hang", "after_request_bytes": 10}, "after_request_bytes needs fault reset, close or stall"),
    ({"status": 503, "fault": "reset", "after_request_bytes": 10}, "takes no status"),
    ({"fault": "stall", "status": 503}, "fault stall ends the request without an answer"),
])
def test_out_of_range_body_faults_are_refused_and_change_nothing(mock, action, complaint):
    response = mock.admin("/faults", method="POST", json={"action": action})
    assert response.status_code == 400 and complaint in response.json()["error"], response.text
    assert mock.admin("/faults").json() == {"faults": []}


def test_after_commit_cannot_come_with_a_body_interruption(mock):
    response = mock.admin("/faults", method="POST", json={
        "action": {"fault": "close", "after_request_bytes": 10}, "after_commit": True})
    assert response.status_code == 400 and "after_commit" in response.json()["error"]


def test_a_config_file_rule_past_the_longest_body_stops_the_start(tmp_path):
    with pytest.raises(RuntimeError, match="after_request_bytes"):
        MockServer(tmp_path, {"faults": [{"action": {"fault": "reset", "after_request_bytes": 2_000_000_000}}]})


def test_the_docs_examples_work_as_written(mock):
    """docs/faults.md, Faults while the body arrives: its curl block, pasted whole."""
    section = (REPO / "docs" / "faults.md").read_text().split("## Faults while the body arrives\n", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```sh\n(.*?)```", section, re.S)
    subprocess.run(["bash", "-euo", "pipefail", "-c", block.replace("localhost:8080", f"localhost:{mock.port}")],
                   check=True, capture_output=True)
    rules = mock.admin("/faults").json()["faults"]
    assert [rule["action"] for rule in rules] == [
        {"fault": "reset", "after_request_bytes": 3000000}, {"fault": "stall", "after_request_bytes": 1000000},
        {"request_bytes_per_sec": 50000}]
