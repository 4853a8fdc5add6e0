"""docs/configuration.md, Bounds: floods of idle, slow or abandoned connections never lock out
the admin API or a fresh client, and request framing libmicrohttpd cannot decode is refused
with 400/501 instead of left unanswered. Small bounds keep each test to a few seconds."""
import json
import resource
import socket
import subprocess
import time

import pytest
import requests

from conftest import BINARY, UPLOAD_PATH

INIT_BODY = b"command=INIT&total_bytes=10&media_type=video%2Fmp4"


def init_request(extra=b""):
    return (b"POST " + UPLOAD_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
            + str(len(INIT_BODY)).encode() + b"\r\n" + extra + b"\r\n" + INIT_BODY)


def served(server):
    """The admin API and a fresh upload both answer, promptly."""
    assert requests.get(server.url("/__admin/health"), timeout=10).status_code == 200
    response = requests.post(server.upload_url, data=INIT_BODY, timeout=10,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 202, response.text


def first_answer(connection, timeout):
    """The status of the first response, 'closed' or 'silent'."""
    connection.settimeout(timeout)
    try:
        data = connection.recv(65536)
    except socket.timeout:
        return "silent"
    except ConnectionResetError:
        return "closed"
    return int(data.split(b" ", 2)[1]) if data else "closed"


def until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(autouse=True)
def enough_descriptors():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1024), hard))


@pytest.mark.parametrize("headers, status, message", [
    (b"Transfer-Encoding: gzip, chunked\r\n", 501, b"the 'gzip' coding is not supported"),
    (b"Transfer-Encoding: chunked, chunked\r\n", 400, b"applies chunked more than once"),
    (b"Transfer-Encoding: identity\r\n", 400, b"does not end with chunked"),
    (b"Transfer-Encoding: chunked \r\n", 501, b"exactly 'chunked'"),
    (b"Content-Length: 5\r\nContent-Length: 6\r\n", 400, b"Content-Length appears 2 times"),
    (b"Content-Length: 5\r\nContent-Length: 5\r\n", 400, b"Content-Length appears 2 times"),
    (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400, b"Transfer-Encoding and Content-Length together"),
])
def test_framing_libmicrohttpd_cannot_decode_is_refused_and_closed(mock, headers, status, message):
    with socket.create_connection(("127.0.0.1", mock.port), timeout=10) as connection:
        connection.sendall(b"POST " + UPLOAD_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/x-www-form-urlencoded\r\n" + headers
                           + b"\r\n5\r\nhello\r\n0\r\n\r\n")
        answer = b""
        while True:
            piece = connection.recv(65536)
            if not piece:
                break  # closed by the server after answering
            answer += piece
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 %d " % status)
    assert b"Content-Type: text/plain; charset=utf-8" in head
    assert message in body
    served(mock)


def test_idle_flood_leaves_room_for_the_admin_api_and_a_fresh_client(start_mock):
    server = start_mock({"connections": {"max": 64, "headroom": 8}})
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(150)]
    try:
        served(server)
        assert until(lambda: "without a request in progress" in server.stderr_text())
    finally:
        for connection in idle:
            connection.close()


def test_slowloris_is_closed_at_the_head_deadline(start_mock):
    server = start_mock({"connections": {"head_timeout_secs": 1}})
    trickling = socket.create_connection(("127.0.0.1", server.port))
    trickling.sendall(b"POST " + UPLOAD_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\n")
    try:
        closed = False
        for line in range(200):
            trickling.sendall(b"X-Trickle-%d: a\r\n" % line)
            if first_answer(trickling, 0.1) == "closed":
                closed = True
                break
        assert closed, "still open after 20 s of trickling"
        served(server)
        assert until(lambda: "no complete request head within connections.head_timeout_secs (1 s)"
                     in server.stderr_text())
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed while we were sending: the same outcome
    finally:
        trickling.close()


def test_abandoned_delayed_requests_are_released_and_never_block_the_admin_api(start_mock):
    server = start_mock({"real_rate_limits": False, "connections": {"max_held_by_faults": 5},
                         "faults": [{"match": {"command": "INIT"}, "action": {"delay_ms": 600000}}]})
    # More abandoned delayed requests than may be held: the excess are refused, not queued.
    abandoned = []
    for _ in range(12):
        connection = socket.create_connection(("127.0.0.1", server.port))
        connection.sendall(init_request())
        abandoned.append(connection)
    answers = [first_answer(connection, 2) for connection in abandoned]
    assert answers.count(503) == 7 and answers.count("silent") == 5, answers
    for connection in abandoned:
        connection.close()
    assert requests.get(server.url("/__admin/health"), timeout=10).status_code == 200
    assert requests.get(server.url("/__admin/faults"), timeout=10).status_code == 200

    def held_again():
        # Once the departed clients' slots are free, a new delayed request is held, not refused.
        with socket.create_connection(("127.0.0.1", server.port)) as connection:
            connection.sendall(init_request())
            return first_answer(connection, 0.5) == "silent"
    assert until(held_again), "the abandoned requests were never released"
    assert requests.delete(server.url("/__admin/faults"), timeout=10).status_code == 204
    served(server)


def test_held_limit_answer_names_the_key(start_mock):
    server = start_mock({"real_rate_limits": False, "connections": {"max_held_by_faults": 0},
                         "faults": [{"match": {"command": "INIT"}, "action": {"fault": "hang"}}]})
    response = requests.post(server.upload_url, data=INIT_BODY, timeout=10,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 503
    assert "connections.max_held_by_faults" in response.text
    assert until(lambda: "connections.max_held_by_faults (0) were already held" in server.stderr_text())


@pytest.mark.parametrize("connections, message", [
    ({"max": 100, "headroom": 100}, "connections.headroom (100) must be from 1 to connections.max - 1 (99)"),
    ({"max_held_by_faults": -1}, "connections.max_held_by_faults must be an integer from 0"),
    ({"head_timeout_secs": 0}, "connections.head_timeout_secs must be an integer from 1"),
    ({"max_conns": 5}, "unknown key 'connections.max_conns'"),
])
def test_inconsistent_connection_bounds_exit_2(tmp_path, connections, message):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"connections": connections}))
    result = subprocess.run([BINARY, "--config", str(path)], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
