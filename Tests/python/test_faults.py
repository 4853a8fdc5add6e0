"""docs/faults.md: injected faults, latency and rate limits, as a client sees them."""
import http.client
import json
import re
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import tweepy

from conftest import FIXTURES, REPO, UPLOAD_PATH, append, finalize, init


def add_fault(server, rule):
    response = server.admin("/faults", method="POST", json=rule)
    assert response.status_code == 201, response.text
    return response.json()


def raw_append(server, media_id, index, chunk, timeout=5):
    """An APPEND over a bare socket: returns (bytes received, how the connection ended)."""
    boundary = b"fault"
    body = (b"--fault\r\nContent-Disposition: form-data; name=\"command\"\r\n\r\nAPPEND\r\n"
            b"--fault\r\nContent-Disposition: form-data; name=\"media_id\"\r\n\r\n" + media_id.encode() + b"\r\n"
            b"--fault\r\nContent-Disposition: form-data; name=\"segment_index\"\r\n\r\n" + str(index).encode() + b"\r\n"
            b"--fault\r\nContent-Disposition: form-data; name=\"media\"; filename=\"m\"\r\n\r\n" + chunk + b"\r\n--fault--\r\n")
    request = (b"POST " + UPLOAD_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary="
               + boundary + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    connection.sendall(request)
    received = b""
    try:
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return received, "closed"
            received += chunk
    except ConnectionResetError:
        return received, "reset"
    except socket.timeout:
        return received, "timeout"
    finally:
        connection.close()


def test_status_fault_fires_on_the_third_append_of_segment_two_once(mock):
    rule = add_fault(mock, {"match": {"command": "APPEND", "segment_index": 2, "skip": 2},
                            "action": {"status": 503}, "times": 1})
    assert rule["id"] and rule["times"] == 1
    media_id = init(mock, 100)
    statuses = [append(mock, media_id, 2, b"abc").status_code for _ in range(5)]
    assert statuses == [204, 204, 503, 204, 204]
    assert mock.admin("/faults").json() == {"faults": []}  # retired after one firing
    failed = [e for e in mock.admin("/requests").json()["requests"] if e["status"] == 503][0]
    assert failed["fault"].startswith(f"rule {rule['id']}: status 503") or "status 503" in failed["fault"]


def test_status_fault_body_has_the_real_shape(mock):
    add_fault(mock, {"match": {"command": "INIT"}, "action": {"status": 503}})
    add_fault(mock, {"match": {"command": "FINALIZE"}, "action": {"status": 400, "error": "Invalid media"}})
    response = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"})
    assert response.status_code == 503
    assert response.json() == {"errors": [{"code": 130, "message": "Over capacity"}]}
    assert mock.admin("/uploads").json()["uploads"] == []
    response = requests.post(mock.upload_url, data={"command": "FINALIZE", "media_id": "1"})
    assert response.json() == {"request": UPLOAD_PATH, "error": "Invalid media"}


def test_reset_fault_resets_the_connection_and_stores_nothing(mock):
    media_id = init(mock, 100)
    add_fault(mock, {"match": {"command": "APPEND"}, "action": {"fault": "reset"}, "times": 1})
    received, ending = raw_append(mock, media_id, 0, b"abc")
    assert (received, ending) == (b"", "reset")
    assert mock.upload(media_id)["received_bytes"] == 0
    assert append(mock, media_id, 0, b"abc").status_code == 204


def test_after_commit_stores_the_segment_while_the_client_sees_an_error(mock):
    media_id = init(mock, 100)
    add_fault(mock, {"match": {"command": "APPEND"}, "action": {"fault": "reset"}, "after_commit": True, "times": 1})
    with pytest.raises(requests.exceptions.ConnectionError):
        append(mock, media_id, 0, b"stored anyway")
    assert mock.upload(media_id)["received_bytes"] == len(b"stored anyway")
    add_fault(mock, {"match": {"command": "APPEND"}, "action": {"status": 500}, "after_commit": True, "times": 1})
    response = append(mock, media_id, 1, b"also")
    assert response.status_code == 500
    assert response.json() == {"errors": [{"code": 131, "message": "Internal error"}]}
    assert mock.upload(media_id)["segments"][1]["bytes"] == 4
    # The attempts say what the client could not: both failed answers stored their segment.
    attempts = mock.upload(media_id)["attempts"]
    assert [(a["status"], a["stored"], a["media_bytes"]) for a in attempts] == [(None, True, 13), (500, True, 4)]


def test_close_fault_closes_without_a_response(mock):
    media_id = init(mock, 100)
    add_fault(mock, {"match": {"command": "APPEND"}, "action": {"fault": "close"}, "times": 1})
    received, ending = raw_append(mock, media_id, 0, b"abc")
    assert received == b"" and ending in ("closed", "reset")


def test_hang_fault_answers_nothing_until_the_client_gives_up(mock):
    media_id = init(mock, 100)
    add_fault(mock, {"match": {"command": "APPEND"}, "action": {"fault": "hang"}, "times": 1})
    started = time.monotonic()
    received, ending = raw_append(mock, media_id, 0, b"abc", timeout=1)
    assert (received, ending) == (b"", "timeout")
    assert time.monotonic() - started >= 0.9
    assert append(mock, media_id, 0, b"abc").status_code == 204  # other requests are served meanwhile


def test_hung_connection_is_closed_after_the_idle_timeout(start_mock):
    server = start_mock({"connection_timeout_secs": 1,
                         "faults": [{"match": {"command": "APPEND"}, "action": {"fault": "hang"}}]})
    media_id = init(server, 100)
    started = time.monotonic()
    received, ending = raw_append(server, media_id, 0, b"abc", timeout=5)
    assert received == b"" and ending in ("closed", "reset")
    assert 0.9 <= time.monotonic() - started < 4


def test_truncate_fault_sends_headers_and_part_of_the_body(mock):
    add_fault(mock, {"match": {"command": "INIT"}, "action": {"fault": "truncate", "truncate_bytes": 10}, "times": 1})
    connection = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    connection.request("POST", UPLOAD_PATH, body="command=INIT&total_bytes=1&media_type=video%2Fmp4",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    assert response.status == 202
    declared = int(response.getheader("content-length"))
    with pytest.raises(http.client.IncompleteRead) as error:
        response.read()
    assert len(error.value.partial) == 10 and declared > 10


def test_truncate_on_a_bodyless_answer_closes_without_it(mock):
    """An APPEND's 204 has nothing to cut: the client must not see a whole answer (the segment is stored)."""
    media_id = init(mock, 3)
    add_fault(mock, {"match": {"command": "APPEND"}, "action": {"fault": "truncate"}, "times": 1})
    received, ending = raw_append(mock, media_id, 0, b"abc", timeout=5)
    assert received == b"" and ending in ("closed", "reset")
    assert mock.upload(media_id)["received_bytes"] == 3
    assert append(mock, media_id, 0, b"abc").status_code == 204


def test_slow_fault_dribbles_the_response(mock):
    add_fault(mock, {"match": {"command": "INIT"}, "action": {"fault": "slow", "bytes_per_sec": 200}, "times": 1})
    started = time.monotonic()
    response = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"})
    elapsed = time.monotonic() - started
    assert response.status_code == 202 and response.json()["media_id_string"]
    size = len(response.content)  # ~100 bytes at 200 B/s: about half a second
    assert elapsed >= (size / 200) * 0.7, (elapsed, size)


def test_fixed_delay_is_measured_by_the_client(mock):
    add_fault(mock, {"match": {"command": "INIT"}, "action": {"delay_ms": 300}})
    started = time.monotonic()
    init(mock, 1)
    assert 0.29 <= time.monotonic() - started < 1.5
    entry = mock.admin("/requests").json()["requests"][-1]
    assert "delay 300 ms" in entry["fault"] and entry["duration_ms"] >= 290


def test_delays_do_not_hold_server_threads(mock):
    add_fault(mock, {"match": {"command": "INIT"}, "action": {"delay_ms": 1000}})
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=100) as pool:
        ids = list(pool.map(lambda _: init(mock, 1), range(100)))
    elapsed = time.monotonic() - started
    assert len(set(ids)) == 100
    assert elapsed < 2.5, f"100 concurrent 1 s delays took {elapsed:.2f} s"


def test_uniform_and_lognormal_delays_stay_in_range(mock):
    add_fault(mock, {"match": {"command": "INIT"}, "action": {"delay": {"distribution": "uniform", "min_ms": 100, "max_ms": 200}}})
    for _ in range(3):
        started = time.monotonic()
        init(mock, 1)
        assert 0.09 <= time.monotonic() - started < 1
    assert requests.delete(mock.url("/__admin/faults")).status_code == 204
    add_fault(mock, {"match": {"command": "INIT"}, "action": {"delay": {"distribution": "lognormal", "median_ms": 50, "sigma": 0.1}}})
    started = time.monotonic()
    init(mock, 1)
    assert 0.03 <= time.monotonic() - started < 1


def fired_segments(server):
    media_id = init(server, 10_000)
    outcomes = []
    for index in range(200):
        try:
            outcomes.append(append(server, media_id, index % 1000, b"x").status_code)
        except requests.exceptions.ConnectionError:
            outcomes.append("reset")
    return [i for i, outcome in enumerate(outcomes) if outcome == "reset"]


def test_seeded_probability_fires_on_the_same_requests_in_two_runs(start_mock):
    config = {"seed": 99, "faults": [{"match": {"command": "APPEND", "probability": 0.1}, "action": {"fault": "reset"}}]}
    first = fired_segments(start_mock(config, args=["--seed", "99"]))
    second = fired_segments(start_mock(config, args=["--seed", "99"]))
    assert first == second
    assert 5 <= len(first) <= 40, first  # about 10 % of 200


def test_fault_admin_api_lists_deletes_and_reset_restores_startup(start_mock):
    server = start_mock({"faults": [{"match": {"command": "FINALIZE"}, "action": {"status": 500}}]})
    startup = server.admin("/faults").json()["faults"]
    assert len(startup) == 1 and startup[0]["action"] == {"status": 500}
    added = add_fault(server, {"match": {"command": "INIT"}, "action": {"status": 503}})
    assert len(server.admin("/faults").json()["faults"]) == 2
    assert server.admin(f"/faults/{added['id']}", method="DELETE").status_code == 204
    assert server.admin(f"/faults/{added['id']}", method="DELETE").status_code == 404
    assert server.admin("/faults", method="DELETE").status_code == 204
    assert server.admin("/faults").json() == {"faults": []}
    server.admin("/reset", method="POST")
    assert [f["action"] for f in server.admin("/faults").json()["faults"]] == [{"status": 500}]
    bad = server.admin("/faults", method="POST", json={"match": {"command": "append"}, "action": {"status": 503}})
    assert bad.status_code == 400 and "rule.match.command" in bad.json()["error"]
    bad = server.admin("/faults", method="POST", json=[{"match": {"command": "append"}, "action": {"status": 503}}])
    assert bad.status_code == 400 and bad.json()["error"].startswith("rules[0].match.command")  # an array, even of one


@pytest.mark.parametrize("kind, rule", [("faults", {"match": {"path": "/nowhere"}, "action": {"delay_ms": 0}}),
                                        ("rate-limits", {"match": {"path": "/nowhere"}, "limit": 1})])
def test_at_most_10000_rules_of_a_kind(mock, kind, rule):
    key = kind.replace("-", "_")
    in_force = len(mock.admin(f"/{kind}").json()[key])
    assert mock.admin(f"/{kind}", method="POST", json=[rule] * (10_000 - in_force)).status_code == 201
    refused = mock.admin(f"/{kind}", method="POST", json=[rule, rule])
    assert refused.status_code == 409
    assert refused.json()["error"].endswith(" may be in force (admin.max_rules): 10000 are, and this request adds 2")
    assert len(mock.admin(f"/{kind}").json()[key]) == 10_000


def test_the_admin_bounds_are_configurable(start_mock):
    """docs/configuration.md, Bounds: admin.max_rules and admin.max_body_bytes."""
    server = start_mock({"admin": {"max_rules": 2, "max_body_bytes": 2048}})
    rule = {"match": {"path": "/nowhere"}, "action": {"delay_ms": 0}}
    assert server.admin("/faults", method="POST", json=[rule, rule]).status_code == 201
    refused = server.admin("/faults", method="POST", json=rule)
    assert refused.status_code == 409
    assert refused.json()["error"] == ("at most 2 fault rules may be in force (admin.max_rules): "
                                       "2 are, and this request adds 1")
    too_large = server.admin("/rate-limits", method="POST", data=b" " * 2049,
                             headers={"Content-Type": "application/json"})
    assert too_large.status_code == 413
    assert too_large.json() == {"error": "admin request bodies are limited to 2048 bytes"}
    assert len(server.admin("/faults").json()["faults"]) == 2


def test_rate_limit_refuses_past_the_limit_and_resets_with_the_window(start_mock):
    server = start_mock({"real_rate_limits": False,
                         "rate_limits": [{"match": {"command": "APPEND"}, "limit": 3, "window_secs": 1, "per": "global"}]})
    media_id = init(server, 100)
    responses = [append(server, media_id, i, b"a") for i in range(4)]
    assert [r.status_code for r in responses] == [204, 204, 204, 429]
    assert [r.headers["x-rate-limit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert responses[3].json() == {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    assert server.upload(media_id)["segment_count"] == 3
    assert "x-rate-limit-limit" not in requests.post(server.upload_url, data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"}).headers
    limited = [e for e in server.admin("/requests").json()["requests"] if e["status"] == 429][0]
    assert limited["rate_limit"].startswith("rule ")
    time.sleep(1.1)
    assert append(server, media_id, 3, b"a").status_code == 204


def test_config_rules_count_beside_the_real_limits_as_admin_rules_do(start_mock):
    """One meaning in the config file, the admin API and Swift (docs/configuration.md, Rate limits)."""
    server = start_mock({"rate_limits": [{"match": {"command": "APPEND", "api": "v1.1"}, "limit": 2, "per": "global"}]})
    rules = server.admin("/rate-limits").json()["rate_limits"]
    assert len(rules) == 22 and rules[-1]["limit"] == 2
    assert rules[-1]["window_secs"] == 900  # left out: 15 minutes, as documented
    initialized = requests.post(server.upload_url, data={"command": "INIT", "total_bytes": 3, "media_type": "video/mp4"})
    assert initialized.headers["x-rate-limit-limit"] == "200"  # the real INIT limit is still in force
    media_id = initialized.json()["media_id_string"]
    assert [append(server, media_id, i, b"a").status_code for i in range(3)] == [204, 204, 429]
    added = server.admin("/rate-limits", method="POST", json={"match": {"command": "INIT"}, "limit": 1, "window_secs": 60})
    assert added.status_code == 201 and len(server.admin("/rate-limits").json()["rate_limits"]) == 23
    assert init(server, 1) and requests.post(server.upload_url, data={
        "command": "INIT", "total_bytes": 1, "media_type": "video/mp4"}).status_code == 429
    server.admin("/reset", method="POST")
    assert server.admin("/rate-limits").json()["rate_limits"] == rules


def test_the_rate_limit_recipe_of_faults_md_as_written(mock):
    text = (REPO / "docs" / "faults.md").read_text().split("## Rate limits\n", 1)[1].split("\n## ", 1)[0]
    [recipe] = re.findall(r"```sh\n(.*?)```", text, re.S)
    script = recipe.replace("localhost:8080", f"localhost:{mock.port}")
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    decoder, answers, at = json.JSONDecoder(), [], 0
    while at < len(result.stdout):  # curl prints each answer without a newline
        answer, at = decoder.raw_decode(result.stdout, at)
        answers.append(answer)
    added, listed = answers
    assert listed["rate_limits"][-1] == added and len(listed["rate_limits"]) == 22
    assert mock.admin("/rate-limits").json() == {"rate_limits": []}


def test_real_rate_limits_off_leaves_only_the_added_ones(start_mock):
    server = start_mock({"real_rate_limits": False, "rate_limits": [{"match": {"command": "INIT"}, "limit": 5}]})
    assert [r["limit"] for r in server.admin("/rate-limits").json()["rate_limits"]] == [5]
    server.admin("/rate-limits", method="DELETE")
    server.admin("/reset", method="POST")
    assert [r["limit"] for r in server.admin("/rate-limits").json()["rate_limits"]] == [5]


def test_rate_limit_admin_api(mock):
    defaults = mock.admin("/rate-limits").json()["rate_limits"]
    assert [(r["match"]["command"], r["limit"], r["window_secs"]) for r in defaults if r["match"]["api"] == "v1.1"] == [
        ("INIT", 200, 3600), ("APPEND", 20000, 3600), ("FINALIZE", 615, 3600), ("STATUS", 1000, 3600), ("UPLOAD", 415, 3600)]
    assert mock.admin("/rate-limits", method="DELETE").status_code == 204
    rule = mock.admin("/rate-limits", method="POST", json={"match": {"command": "INIT"}, "limit": 1, "window_secs": 60}).json()
    assert rule["per"] == "user" and rule["id"]
    init(mock, 1)
    response = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"})
    assert response.status_code == 429
    mock.admin("/reset", method="POST")
    assert mock.admin("/rate-limits").json()["rate_limits"] == defaults


def test_tweepy_completes_an_upload_through_injected_503s(start_mock):
    tls = FIXTURES / "tls"
    server = start_mock({"processing": {"check_after_secs": 0},
                         "faults": [{"match": {"command": "APPEND", "segment_index": 1}, "action": {"status": 503}, "times": 2},
                                    {"match": {"command": "APPEND", "segment_index": 3}, "action": {"status": 503}, "times": 1}]},
                        args=["--tls-cert", str(tls / "server.pem"), "--tls-key", str(tls / "server-key.pem")])
    api = tweepy.API(tweepy.OAuth1UserHandler("ck", "cs", "t", "ts"), upload_host=f"localhost:{server.port}",
                     retry_count=3, retry_delay=0, retry_errors={503})
    api.session.trust_env = False
    api.session.verify = str(tls / "ca.pem")
    clip = FIXTURES / "media" / "clip.mp4"
    media = api.media_upload(str(clip), chunked=True, media_category="tweet_video", chunk_size=300_000)
    journal = requests.get(server.url("/__admin/requests"), verify=str(tls / "ca.pem")).json()["requests"]
    assert [e["status"] for e in journal if e["command"] == "APPEND"].count(503) == 3
    detail = requests.get(server.url(f"/__admin/uploads/{media.media_id_string}"), verify=str(tls / "ca.pem")).json()
    import hashlib
    assert detail["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "config").glob("*.json")))
def test_example_configs_load(start_mock, name):
    server = start_mock(json.loads((FIXTURES / "config" / name).read_text()))
    assert requests.get(server.url("/__admin/health")).status_code == 200
