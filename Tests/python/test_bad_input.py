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


def stream_chunked(port, path, content_type, pieces, most_bytes):
    """Sends a chunked request piece by piece, then its last chunk, unless the server answers or
    hangs up first (or `most_bytes` went out); returns the answer and the body bytes sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                           b"Transfer-Encoding: chunked\r\n"
                           b"Content-Type: " + content_type.encode() + b"\r\n\r\n")
        sent = 0
        connection.setblocking(False)
        try:
            for piece in pieces:
                if sent >= most_bytes:
                    break
                try:
                    if connection.recv(1, socket.MSG_PEEK):
                        break  # answered before the body ended
                except BlockingIOError:
                    pass
                connection.setblocking(True)
                connection.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                connection.setblocking(False)
                sent += len(piece)
            else:
                connection.setblocking(True)
                connection.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        connection.setblocking(True)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return answer, sent


def rss_bytes(server):
    with open(f"/proc/{server.process.pid}/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


@pytest.mark.parametrize("path, content_type", [
    (UPLOAD_PATH, "application/x-www-form-urlencoded"),
    ("/2/media/upload", "application/x-www-form-urlencoded"),
])
def test_a_chunked_body_of_many_fields_is_refused_at_max_fields(mock, path, content_type):
    """docs/configuration.md, Bounds: thousands of distinct 60 KB fields used to pin gigabytes.
    The 101st field is refused; the rest of a body is read and dropped, and answered at its end."""
    pieces = [b"field%d=%s&" % (number, b"v" * 60_000) for number in range(150)]
    answer, sent = stream_chunked(mock.port, path, content_type, pieces, most_bytes=100_000_000)
    assert b" 400 " in answer.split(b"\r\n", 1)[0], answer[:300]
    assert b"more than 100 parameters (limits.max_fields)" in answer
    still_serving(mock)


def test_an_endless_chunked_body_of_fields_pins_no_memory(mock):
    """Past the refusal the body is dropped unread; past 16 MiB the connection is closed."""
    before = rss_bytes(mock)
    pieces = (b"field%d=%s&" % (number, b"v" * 60_000) for number in range(5_000))
    answer, sent = stream_chunked(mock.port, UPLOAD_PATH, "application/x-www-form-urlencoded", pieces,
                                  most_bytes=300_000_000)
    assert answer == b""
    assert sent < 40_000_000, sent  # hung up soon after 16 MiB, not at 300 MB
    assert rss_bytes(mock) - before < 64 * 1024 * 1024
    [entry] = requests.get(mock.url("/__admin/requests")).json()["requests"]
    assert entry["error"] == "The request carries more than 100 parameters (limits.max_fields)."
    assert entry["status"] is None
    still_serving(mock)


def test_max_fields_and_field_bytes_are_configurable(start_mock):
    server = start_mock({"limits": {"max_fields": 4, "field_bytes": 10}})
    response = requests.post(server.upload_url, data={"command": "INIT", "total_bytes": 4, "media_type": "video/mp4",
                                                      "shared": "false", "extra": "1"})
    assert response.status_code == 400
    assert request_error(response) == "The request carries more than 4 parameters (limits.max_fields)."
    response = requests.post(server.upload_url, data={"command": "INIT", "total_bytes": 4,
                                                      "media_type": "video/quicktime"})
    assert response.status_code == 400
    assert request_error(response) == "Parameter media_type is longer than 10 bytes (limits.field_bytes)."
    response = requests.post(server.upload_url, data={"command": "INIT", "total_bytes": 4, "media_type": "video/mp4"})
    assert response.status_code == 202, response.text
    response = requests.post(server.url("/2/media/upload"), data={"command": "INIT", "total_bytes": 4,
                                                                   "media_type": "video/quicktime"})
    assert response.status_code == 400
    assert "The `media_type` parameter is longer than 10 bytes (limits.field_bytes)." in response.text


@pytest.mark.parametrize("path", [UPLOAD_PATH, "/2/media/upload"])
def test_a_chunked_body_past_the_body_limit_gets_413(start_mock, path):
    """A chunked body declares no length, so its bytes are counted: here a long multipart
    epilogue, which no parameter holds. An endless one is cut off after 16 MiB."""
    server = start_mock({"limits": {"chunk_bytes": 1000, "image_bytes": 1000, "gif_bytes": 1000}})
    opening = b'--b\r\nContent-Disposition: form-data; name="command"\r\n\r\nSTATUS\r\n--b--\r\n'
    answer, _ = stream_chunked(server.port, path, "multipart/form-data; boundary=b",
                               [opening] + [b"e" * 16_384] * 20, most_bytes=100_000_000)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"Request body exceeds the" in answer
    answer, sent = stream_chunked(server.port, path, "multipart/form-data; boundary=b",
                                  iter([opening] + [b"e" * 16_384] * 10_000), most_bytes=100_000_000)
    assert answer == b"" and sent < 40_000_000, sent
    still_serving(server)


def test_discard_body_bytes_is_configurable(start_mock):
    """connections.discard_body_bytes: how much of a refused body is read to answer at its end."""
    server = start_mock({"connections": {"discard_body_bytes": 200_000}})
    pieces = [b"field%d=%s&" % (number, b"v" * 1_000) for number in range(150)]
    answer, _ = stream_chunked(server.port, UPLOAD_PATH, "application/x-www-form-urlencoded", pieces,
                               most_bytes=100_000_000)
    assert b" 400 " in answer.split(b"\r\n", 1)[0], answer[:300]  # 150 KB: read to its end, answered
    pieces = (b"field%d=%s&" % (number, b"v" * 1_000) for number in range(100_000))
    answer, sent = stream_chunked(server.port, UPLOAD_PATH, "application/x-www-form-urlencoded", pieces,
                                  most_bytes=100_000_000)
    assert answer == b"" and sent < 2_000_000, sent  # cut off soon after 200 KB
    still_serving(server)
