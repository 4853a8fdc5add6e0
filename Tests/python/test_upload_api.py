"""docs/api.md over real HTTP: every command, every APPEND rejection, every encoding."""
import base64
import hashlib
import subprocess
import time

import pytest
import requests

from conftest import FIXTURES, UPLOAD_PATH, append, finalize, init, raw_request, request_error

MEDIA = FIXTURES / "media"


def test_init_answers_like_the_real_service(mock):
    response = requests.post(mock.upload_url, data="command=INIT&total_bytes=1577963&media_type=video%2Fmp4",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 202
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    body = response.json()
    assert list(body) == ["media_id", "media_id_string", "expires_after_secs"]
    assert isinstance(body["media_id"], int) and 2**59 < body["media_id"] < 2**63
    assert body["media_id_string"] == str(body["media_id"])
    assert body["expires_after_secs"] == 86400
    assert response.headers["x-mediaid"] == body["media_id_string"]
    assert response.headers["x-rate-limit-limit"] == "200"
    assert int(response.headers["x-rate-limit-reset"]) > time.time()
    second = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"})
    assert int(second.headers["x-rate-limit-remaining"]) == int(response.headers["x-rate-limit-remaining"]) - 1
    assert second.json()["media_id"] != body["media_id"]


def test_init_with_category_returns_media_key(mock):
    response = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 10, "media_type": "video/mp4",
                                                    "media_category": "tweet_video"})
    assert response.json()["media_key"] == "7_" + response.json()["media_id_string"]


@pytest.mark.parametrize("fields, expected", [
    ({"media_type": "video/mp4"}, {"errors": [{"code": 38, "message": "total_bytes parameter is missing."}]}),
    ({"total_bytes": "10"}, {"errors": [{"code": 38, "message": "media_type parameter is missing."}]}),
    ({"total_bytes": "ten", "media_type": "video/mp4"}, "total_bytes must be a positive decimal integer, got 'ten'."),
    ({"total_bytes": "10", "media_type": "application/pdf"}, "media type unrecognized."),
    ({"total_bytes": "6000000", "media_type": "image/png"}, "File size exceeds 5242880 bytes."),
    ({"total_bytes": "6000000", "media_type": "image/gif"}, "File size exceeds 5242880 bytes."),
    ({"total_bytes": "10", "media_type": "video/mp4", "media_category": "tweet_pdf"}, None),
])
def test_init_rejections(mock, fields, expected):
    response = requests.post(mock.upload_url, data={"command": "INIT", **fields})
    assert response.status_code == 400
    if isinstance(expected, dict):
        assert response.json() == expected
    elif expected is None:
        assert "media_category" in request_error(response)
    else:
        assert request_error(response) == expected
    assert mock.admin("/uploads").json()["uploads"] == []


def test_gif_over_five_megabytes_needs_tweet_gif(mock):
    init(mock, 6_000_000, "image/gif", media_category="tweet_gif")


def test_append_answers_204_with_the_recorded_headers(mock):
    """Recorded: content-length 0 and x-segmentcount / x-totalbytes 0; progress is in the admin API."""
    media_id = init(mock, 10)
    for index, chunk in enumerate([b"hello", b"abc"]):
        response = append(mock, media_id, index, chunk)
        assert response.status_code == 204
        assert response.content == b""
        assert response.headers["content-length"] == "0"
        assert response.headers["content-type"] == "text/html;charset=utf-8"
        assert (response.headers["x-segmentcount"], response.headers["x-totalbytes"]) == ("0", "0")
        assert response.headers["x-mediaid"] == media_id
        assert response.headers["x-rate-limit-limit"] == "20000"
        assert "content-disposition" not in response.headers
    detail = mock.upload(media_id)
    assert (detail["segment_count"], detail["received_bytes"]) == (2, 8)


def stored(mock, media_id):
    detail = mock.upload(media_id)
    return detail["received_bytes"], detail["segments"]


@pytest.mark.parametrize("case", ["lowercase", "missing_id", "bad_id", "unknown_id", "neither", "both",
                                  "bad_base64", "index_missing", "index_fraction", "index_negative",
                                  "index_1000", "index_text", "beyond_total"])
def test_append_rejections_store_nothing(mock, case):
    media_id = init(mock, 8)
    assert append(mock, media_id, 0, b"1234").status_code == 204
    fields = {"command": "APPEND", "media_id": media_id, "segment_index": "1"}
    files = {"media": ("blob", b"5678")}
    expected = None
    if case == "lowercase":
        fields["command"] = "append"
        expected = "commands are case sensitive"
    elif case == "missing_id":
        del fields["media_id"]
        expected = {"errors": [{"code": 38, "message": "media_id parameter is missing."}]}
    elif case == "bad_id":
        fields["media_id"] = "12x"
        expected = "Invalid media_id: Some(12x)."
    elif case == "unknown_id":
        fields["media_id"] = "1234567890123456789"
        expected = "Invalid media_id: Some(1234567890123456789)."
    elif case == "neither":
        files = None
        expected = {"errors": [{"code": 38, "message": "media parameter is missing."}]}
    elif case == "both":
        fields["media_data"] = base64.b64encode(b"5678").decode()
        expected = "exactly one of media"
    elif case == "bad_base64":
        files = None
        fields["media_data"] = "NTY3*A=="
        expected = "media_data is not valid base64"
    elif case == "index_missing":
        del fields["segment_index"]
        expected = {"errors": [{"code": 38, "message": "segment_index parameter is missing."}]}
    elif case in ("index_fraction", "index_text"):
        fields["segment_index"] = "1.5" if case == "index_fraction" else "one"
        expected = "segment_index must be a decimal integer"
    elif case in ("index_negative", "index_1000"):
        fields["segment_index"] = "-1" if case == "index_negative" else "1000"
        expected = "SegmentIndex must be between 0 and 999."
    elif case == "beyond_total":
        files = {"media": ("blob", b"56789")}
        expected = "more than the total_bytes of 8"
    response = requests.post(mock.upload_url, data=fields, files=files)
    assert response.status_code == 400, response.text
    if isinstance(expected, dict):
        assert response.json() == expected
    else:
        assert expected in request_error(response)
    assert stored(mock, media_id) == (4, [{"index": 0, "bytes": 4, "sha256": hashlib.sha256(b"1234").hexdigest()}])


def test_chunk_over_the_limit_is_refused(start_mock):
    server = start_mock({"limits": {"chunk_bytes": 1000}})
    media_id = init(server, 5000)
    response = append(server, media_id, 0, b"x" * 1001)
    assert response.status_code == 400
    assert "1000-byte limit" in request_error(response)
    # The limit applies to media_data as sent: 999 decoded bytes are 1332 base64 characters.
    encoded = base64.b64encode(b"y" * 999).decode()
    response = requests.post(server.upload_url, data={"command": "APPEND", "media_id": media_id,
                                                      "segment_index": 0, "media_data": encoded})
    assert response.status_code == 400
    assert "media_data" in request_error(response)
    assert server.upload(media_id)["received_bytes"] == 0
    assert append(server, media_id, 0, b"z" * 1000).status_code == 204


def test_expired_media_id_is_refused(start_mock):
    server = start_mock({"expires_after_secs": 1})
    media_id = init(server, 4)
    time.sleep(1.2)
    response = append(server, media_id, 0, b"abcd")
    assert response.status_code == 400
    assert "expired" in request_error(response)
    assert server.upload(media_id)["state"] == "expired"
    assert server.upload(media_id)["received_bytes"] == 0


def test_append_after_finalize_is_refused(mock):
    media_id = init(mock, 4)
    append(mock, media_id, 0, b"abcd")
    assert finalize(mock, media_id).status_code == 201
    response = append(mock, media_id, 0, b"wxyz")
    assert response.status_code == 400
    assert "already finalized" in request_error(response)
    assert mock.upload(media_id)["segments"][0]["sha256"] == hashlib.sha256(b"abcd").hexdigest()


def test_repeated_segment_replaces_earlier_bytes(mock):
    media_id = init(mock, 4)
    append(mock, media_id, 0, b"aaaa")
    append(mock, media_id, 0, b"bbbb")
    assert requests.get(mock.url(f"/__admin/uploads/{media_id}/media")).content == b"bbbb"


def test_finalize_answers_media_object(mock):
    media_id = init(mock, 6)
    append(mock, media_id, 0, b"abc")
    append(mock, media_id, 1, b"def")
    response = finalize(mock, media_id)
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    assert '"video":{"video_type":"video\\/mp4"}' in response.text
    body = response.json()
    assert body == {"media_id": int(media_id), "media_id_string": media_id, "size": 6,
                    "expires_after_secs": 86400, "video": {"video_type": "video/mp4"}}
    assert mock.upload(media_id)["state"] == "finalized"


@pytest.mark.parametrize("segments", [[b"abc"], [b"abc", b"defg"], {0: b"abc", 2: b"def"}])
def test_finalize_refuses_segments_that_do_not_add_up(mock, segments):
    media_id = init(mock, 6)
    items = segments.items() if isinstance(segments, dict) else enumerate(segments)
    for index, chunk in items:
        append(mock, media_id, index, chunk)
    response = finalize(mock, media_id)
    assert response.status_code == 400
    assert response.json() == {"request": UPLOAD_PATH, "error": "Segments do not add up to provided total file size."}


def test_processing_walks_to_succeeded(mock):
    media_id = init(mock, 3, media_category="tweet_video")
    append(mock, media_id, 0, b"abc")
    body = finalize(mock, media_id).json()
    assert body["processing_info"] == {"state": "pending", "check_after_secs": 0}
    assert mock.upload(media_id)["state"] == "processing"
    status = requests.get(mock.upload_url, params={"command": "STATUS", "media_id": media_id})
    assert status.status_code == 200
    assert status.json()["processing_info"] == {"state": "in_progress", "check_after_secs": 0, "progress_percent": 50}
    status = requests.get(mock.upload_url, params={"command": "STATUS", "media_id": media_id})
    assert status.json()["processing_info"] == {"state": "succeeded", "progress_percent": 100}
    assert mock.upload(media_id)["state"] == "succeeded"


def test_processing_can_fail(start_mock):
    error = {"code": 3, "name": "InvalidMedia", "message": "Invalid or Unsupported media"}
    server = start_mock({"processing": {"check_after_secs": 0, "polls_until_done": 1, "result": "failed", "error": error}})
    media_id = init(server, 3, media_category="tweet_video")
    append(server, media_id, 0, b"abc")
    finalize(server, media_id)
    status = requests.get(server.upload_url, params={"command": "STATUS", "media_id": media_id}).json()
    assert status["processing_info"] == {"state": "failed", "progress_percent": 100, "error": error}
    assert server.upload(media_id)["state"] == "failed"


def test_status_before_finalize_and_as_post(mock):
    media_id = init(mock, 3, media_category="tweet_video")
    response = requests.get(mock.upload_url, params={"command": "STATUS", "media_id": media_id})
    assert response.status_code == 404
    assert "not been finalized" in request_error(response)
    response = requests.post(mock.upload_url, data={"command": "STATUS", "media_id": media_id})
    assert response.status_code == 400
    assert response.json() == {"errors": [{"code": 38, "message": "media parameter is missing."}]}


@pytest.mark.parametrize("name, image_type, width, height", [
    ("pixel.png", "image/png", 300, 200), ("animated.gif", "image/gif", 320, 240),
    ("photo.jpg", "image/jpeg", 640, 480), ("progressive.jpg", "image/jpeg", 200, 150),
    ("lossy.webp", "image/webp", 160, 120), ("lossless.webp", "image/webp", 161, 121),
    ("extended.webp", "image/webp", 162, 122),
])
def test_simple_upload_reads_image_size(mock, name, image_type, width, height):
    data = (MEDIA / name).read_bytes()
    response = requests.post(mock.upload_url, files={"media": (name, data)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["image"] == {"image_type": image_type, "w": width, "h": height}
    assert body["size"] == len(data)
    assert requests.get(mock.url(f"/__admin/uploads/{body['media_id_string']}/media")).content == data
    encoded = requests.post(mock.upload_url, data={"media_data": base64.b64encode(data).decode()})
    assert encoded.json()["image"] == body["image"]


def test_simple_upload_of_garbage_is_unrecognized(mock):
    response = requests.post(mock.upload_url, files={"media": ("x.png", (MEDIA / "not-an-image.png").read_bytes())})
    assert response.status_code == 400
    assert response.json() == {"request": UPLOAD_PATH, "error": "media type unrecognized."}


def test_oversize_simple_upload_gets_413_with_empty_body(start_mock):
    server = start_mock({"limits": {"image_bytes": 1000}})
    response = requests.post(server.upload_url, files={"media": ("p.png", (MEDIA / "pixel.png").read_bytes())})
    assert response.status_code == 413
    assert response.content == b""


# --- Parameters, encodings and what real clients send ---

def full_upload_via(mock, send_append):
    media_id = init(mock, 8)
    send_append(media_id, 0, b"abcd")
    send_append(media_id, 1, b"efgh")
    assert finalize(mock, media_id).status_code == 201
    assert requests.get(mock.url(f"/__admin/uploads/{media_id}/media")).content == b"abcdefgh"


def test_parameters_in_query_string_only(mock):
    def send(media_id, index, chunk):
        response = requests.post(mock.upload_url, params={"command": "APPEND", "media_id": media_id,
                                                          "segment_index": index,
                                                          "media_data": base64.b64encode(chunk).decode()})
        assert response.status_code == 204, response.text
    full_upload_via(mock, send)


def test_parameters_split_between_query_and_multipart(mock):
    def send(media_id, index, chunk):
        response = requests.post(mock.upload_url, params={"command": "APPEND", "media_id": media_id},
                                 files={"segment_index": (None, str(index)), "media": ("f", chunk)})
        assert response.status_code == 204, response.text
    full_upload_via(mock, send)


def test_urlencoded_media_data(mock):
    def send(media_id, index, chunk):
        response = requests.post(mock.upload_url, data={"command": "APPEND", "media_id": media_id,
                                                        "segment_index": index,
                                                        "media_data": base64.b64encode(chunk).decode()})
        assert response.status_code == 204, response.text
    full_upload_via(mock, send)


def multipart_body(parts, boundary, final_crlf=b"\r\n", line_end=b"\r\n"):
    body = b""
    for headers, value in parts:
        body += b"--" + boundary + line_end + line_end.join(headers) + line_end + line_end + value + line_end
    return body + b"--" + boundary + b"--" + final_crlf


def append_parts(media_id, index, chunk, media_first=False, filename=True, part_type=True):
    disposition = b'Content-Disposition: form-data; name="media"' + (b'; filename="/home/me/clip.mp4"' if filename else b"")
    media = ([disposition] + ([b"Content-Type: application/octet-stream"] if part_type else []), chunk)
    text = [([b'Content-Disposition: form-data; name="command"', b"Content-Type: text/plain; charset=UTF-8"], b"APPEND"),
            ([b'content-disposition: form-data; name=media_id'], media_id.encode()),
            ([b'CONTENT-DISPOSITION: form-data; name="segment_index"'], str(index).encode())]
    return [media] + text if media_first else text + [media]


@pytest.mark.parametrize("variant", ["media_first", "media_last", "no_filename", "no_part_type", "quoted_boundary",
                                     "twurl_comma", "no_final_crlf", "extra_crlf", "boundary_then_charset",
                                     "binary_with_dashes"])
def test_multipart_variants_real_clients_send(mock, variant):
    def send(media_id, index, chunk):
        boundary = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
        if variant == "binary_with_dashes":
            chunk = b"\r\n--" + boundary[:10] + b"\r\n-" + chunk
        parts = append_parts(media_id, index, chunk, media_first=variant == "media_first",
                             filename=variant != "no_filename", part_type=variant != "no_part_type")
        final = {"no_final_crlf": b"", "extra_crlf": b"\r\n\r\n"}.get(variant, b"\r\n")
        body = multipart_body(parts, boundary, final)
        content_type = {
            "quoted_boundary": 'multipart/form-data; boundary="%s"',
            "twurl_comma": 'multipart/form-data, boundary="%s"',
            "boundary_then_charset": "multipart/form-data; Boundary=%s; charset=utf-8",
        }.get(variant, "multipart/form-data; boundary=%s") % boundary.decode()
        response = requests.post(mock.upload_url, data=body, headers={"Content-Type": content_type})
        assert response.status_code == 204, response.text
        return chunk
    media_id = init(mock, 100)
    first = send(media_id, 0, b"abcd")
    second = send(media_id, 1, b"efgh")
    assert requests.get(mock.url(f"/__admin/uploads/{media_id}/media")).content == first + second


def test_chunked_transfer_encoding(mock):
    media_id = init(mock, 200_000)
    chunk = bytes(range(256)) * 781 + b"abcd"
    boundary = b"chunky"
    body = multipart_body(append_parts(media_id, 0, chunk), boundary)

    def pieces():
        for start in range(0, len(body), 7_001):
            yield body[start:start + 7_001]
    response = requests.post(mock.upload_url, data=pieces(),
                             headers={"Content-Type": "multipart/form-data; boundary=chunky"})
    assert response.status_code == 204, response.text
    assert mock.upload(media_id)["segments"][0]["sha256"] == hashlib.sha256(chunk).hexdigest()


def test_expect_100_continue_with_curl(mock, tmp_path):
    media_id = init(mock, 3_000_000)
    payload = tmp_path / "chunk.bin"
    payload.write_bytes(b"q" * 3_000_000)
    result = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect: 100-continue",
                             "-F", "command=APPEND", "-F", f"media_id={media_id}", "-F", "segment_index=0",
                             "-F", f"media=@{payload}", mock.upload_url], capture_output=True, text=True, timeout=30)
    assert result.stdout == "204"
    assert mock.upload(media_id)["received_bytes"] == 3_000_000


def test_header_case_does_not_matter(mock):
    body = b"command=INIT&total_bytes=5&media_type=video%2Fmp4"
    request = (b"POST " + UPLOAD_PATH.encode() + b" HTTP/1.1\r\nhOsT: x\r\nCONTENT-type: application/x-www-form-urlencoded\r\n"
               b"content-LENGTH: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    response = raw_request(mock.port, request)
    assert response.startswith(b"HTTP/1.1 202"), response


def test_unknown_path_answers_real_404(mock):
    response = requests.get(mock.url("/1.1/statuses/update.json"))
    assert response.status_code == 404
    assert response.json() == {"errors": [{"code": 34, "message": "Sorry, that page does not exist."}]}
