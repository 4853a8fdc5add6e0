"""docs/api.md, Errors: malformed, truncated, oversized and garbage input get a 4xx or a closed
connection, and the server keeps serving."""
import socket
import time

import pytest
import requests

from conftest import UPLOAD_PATH, append, init, raw_request, request_error


def still_serving(server):
    assert requests.get(server.url("/__admin/health"), timeout=5).status_code == 200
    media_id = init(server, 4)
    assert append(server, media_id, 0, b"abcd").status_code == 204


def post(path, body, content_type, extra=b""):
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
            + content_type.encode() + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


@pytest.mark.parametrize("body, content_type, reason", [
    (b'--b\r\nContent-Disposition: form-data; name="command"\r\n\r\nAPPEND\r\n', "multipart/form-data; boundary=b",
     "before the closing boundary"),
    (b"this is not multipart at all", "multipart/form-data; boundary=b", "no boundary line"),
    (b'--b\r\nContent-Type: text/plain\r\n\r\nAPPEND\r\n--b--\r\n', "multipart/form-data; boundary=b",
     "no Content-Disposition"),
    (b'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--', "multipart/form-data", "no boundary"),
    (b"--b\r\nContent-Disposition: attachment\r\n\r\n1\r\n--b--", "multipart/form-data; boundary=b", "not form-data"),
    (b"command=INIT&total_bytes=%G1", "application/x-www-form-urlencoded", "percent-escape"),
])
def test_malformed_bodies_get_a_precise_400(mock, body, content_type, reason):
    response = requests.post(mock.upload_url, data=body, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert reason in request_error(response)
    still_serving(mock)


def test_truncated_body_then_close(mock):
    media_id = init(mock, 100)
    body = b'--b\r\nContent-Disposition: form-data; name="media"\r\n\r\n' + b"x" * 50
    request = post(UPLOAD_PATH, body, "multipart/form-data; boundary=b").replace(
        b"Content-Length: " + str(len(body)).encode(), b"Content-Length: 5000")
    with socket.create_connection(("127.0.0.1", mock.port)) as connection:
        connection.sendall(request)
    time.sleep(0.2)
    assert mock.upload(media_id)["received_bytes"] == 0
    still_serving(mock)


def test_garbage_instead_of_http(mock):
    answer = raw_request(mock.port, bytes(range(256)) * 20 + b"\r\n\r\n")
    assert answer == b"" or answer.startswith(b"HTTP/1.1 4")
    still_serving(mock)


def test_oversized_declared_length_is_refused_before_the_body(mock):
    media_id = init(mock, 4)
    request = (b"POST " + UPLOAD_PATH.encode() + b"?command=APPEND&media_id=" + media_id.encode()
               + b"&segment_index=0 HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
               b"Content-Length: 1000000000\r\nExpect: 100-continue\r\n\r\n")
    started = time.monotonic()
    answer = raw_request(mock.port, request)
    assert time.monotonic() - started < 2
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert b'"error":"Request body of 1000000000 bytes exceeds' in answer
    still_serving(mock)


def test_oversized_body_without_expect_is_read_and_refused(start_mock):
    server = start_mock({"limits": {"chunk_bytes": 1000}})
    media_id = init(server, 100_000)
    response = append(server, media_id, 0, b"x" * 50_000)
    assert response.status_code in (400, 413)
    assert server.upload(media_id)["received_bytes"] == 0
    still_serving(server)


def test_slow_client_does_not_block_others(mock):
    media_id = init(mock, 4)
    slow = socket.create_connection(("127.0.0.1", mock.port))
    slow.sendall(b"POST " + UPLOAD_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\n\r\ncommand=AP")
    try:
        started = time.monotonic()
        assert append(mock, media_id, 0, b"abcd").status_code == 204
        assert time.monotonic() - started < 1
    finally:
        slow.close()
    still_serving(mock)


def test_unsupported_method(mock):
    response = requests.put(mock.upload_url, data=b"x")
    assert response.status_code == 405
    assert "POST" in request_error(response)
