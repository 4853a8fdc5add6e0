"""Writes the fuzz seed corpus (scripts/fuzz, docs/reliability.md): real client requests and
bodies (requests/tweepy-style multipart, python-twitter's unterminated body, twurl's comma
boundary, curl), OAuth headers as requests-oauthlib signs them, configs and admin rules.

    python3 Fixtures/fuzz/generate.py    # rewrites Fixtures/fuzz/<target>/*
"""
import base64
import json
import shutil
from pathlib import Path
from urllib.parse import urlencode

import requests
import urllib3.filepost
from requests_oauthlib import OAuth1

# The same bytes on every run, so regenerating changes only what the generator changed.
urllib3.filepost.choose_boundary = lambda: "fuzzseedboundary0123456789abcdef"

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent
UPLOAD = "/1.1/media/upload.json"
PNG = (FIXTURES / "media" / "pixel.png").read_bytes()
SEPARATOR = b"\r\n--- next request ---\r\n"


def prepared(method, url, **kwargs):
    return requests.Request(method, "http://127.0.0.1:8080" + url, **kwargs).prepare()


def raw(request, chunked=False):
    """A prepared request as the bytes a client sends (chunked bodies shown decoded)."""
    path = request.path_url
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    body = body.replace(b"%7Bmedia_id%7D", b"{media_id}")
    headers = dict(request.headers)
    headers.setdefault("Host", "127.0.0.1:8080")
    if chunked:
        headers.pop("Content-Length", None)
        headers["Transfer-Encoding"] = "chunked"
    path = path.replace("%7Bmedia_id%7D", "{media_id}")  # the placeholder the harness fills in
    head = f"{request.method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + b"\r\n" + body


def init(total=len(PNG), media_type="image/png", **extra):
    return prepared("POST", UPLOAD, data={"command": "INIT", "total_bytes": total, "media_type": media_type, **extra})


def append(index, chunk, **extra):
    return prepared("POST", UPLOAD, data={"command": "APPEND", "media_id": "{media_id}", "segment_index": index, **extra},
                    files={"media": ("blob", chunk, "application/octet-stream")})


def requests_corpus():
    half = len(PNG) // 2
    upload = [
        raw(init()),
        raw(append(0, PNG[:half])),
        raw(prepared("POST", UPLOAD, data={"command": "APPEND", "media_id": "{media_id}", "segment_index": 1,
                                           "media_data": base64.b64encode(PNG[half:]).decode()})),
        raw(prepared("POST", UPLOAD, data={"command": "FINALIZE", "media_id": "{media_id}"})),
        raw(prepared("GET", UPLOAD + "?command=STATUS&media_id={media_id}")),
        raw(prepared("GET", "/__admin/uploads/{media_id}")),
        raw(prepared("GET", "/__admin/uploads/{media_id}/media")),
    ]
    video = [raw(init(total=10, media_type="video/mp4", media_category="tweet_video")),
             raw(append(0, b"0123456789"), chunked=True),
             raw(prepared("POST", UPLOAD + "?command=FINALIZE&media_id={media_id}"))]
    # python-twitter ends the body right after the closing boundary, without CRLF.
    python_twitter = (b"POST " + UPLOAD.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: multipart/form-data; boundary=pt\r\n\r\n"
                      b'--pt\r\nContent-Disposition: form-data; name="command"\r\n\r\nAPPEND\r\n'
                      b'--pt\r\nContent-Disposition: form-data; name="media_id"\r\n\r\n{media_id}\r\n'
                      b'--pt\r\nContent-Disposition: form-data; name="segment_index"\r\n\r\n0\r\n'
                      b'--pt\r\nContent-Disposition: form-data; name="media"; filename="a.png"\r\n\r\n' + PNG + b"\r\n--pt--")
    twurl = (b"POST " + UPLOAD.encode() + b" HTTP/1.1\r\nHost: x\r\n"
             b'Content-Type: multipart/form-data, boundary="00Twurl"\r\n\r\n'
             b'--00Twurl\r\nContent-Disposition: form-data; name="media"; filename="a.png"\r\nContent-Type: application/octet-stream\r\n\r\n'
             + PNG + b"\r\n--00Twurl--\r\n")
    one_shot = raw(prepared("POST", UPLOAD, files={"media": ("a.png", PNG, "image/png")}))
    admin = [raw(prepared("POST", "/__admin/faults", data=json.dumps({"match": {"command": "INIT"}, "action": {"status": 503},
                                                                        "times": 1}))),
             raw(init()), raw(init()), raw(prepared("GET", "/__admin/requests")),
             raw(prepared("DELETE", "/__admin/faults")), raw(prepared("POST", "/__admin/reset"))]
    # Issue 11: a lognormal delay that validation accepts drew values past Int64 and trapped.
    long_tail = [raw(prepared("POST", "/__admin/faults", data=json.dumps(
        {"match": {"command": "INIT"}, "action": {"delay": {"distribution": "lognormal", "median_ms": 3600000,
                                                             "sigma": 10}}})))] + [raw(init())] * 12
    v2 = "/2/media/upload"
    v2_upload = [
        raw(prepared("POST", v2 + "/initialize", json={"media_type": "video/mp4", "total_bytes": 6,
                                                      "media_category": "tweet_video"})),
        raw(prepared("POST", v2 + "/{media_id}/append", json={"media": "YWJj", "segment_index": 0})),
        # PHP's json_encode and others escape every '/': the streamed reader undoes \/ as it goes.
        raw(prepared("POST", v2 + "/{media_id}/append", data=b'{"segment_index": 2, "media": "Z\\/8="}',
                     headers={"Content-Type": "application/json"})),
        raw(prepared("POST", v2 + "/{media_id}/append", data={"segment_index": 1},
                     files={"media": ("blob", b"def", "application/octet-stream")})),
        raw(prepared("POST", v2 + "/{media_id}/finalize")),
        raw(prepared("GET", v2 + "?command=STATUS&media_id={media_id}")),
        raw(prepared("POST", "/2/media/metadata", data=json.dumps({"id": "{media_id}",
                                                                   "metadata": {"alt_text": {"text": "A cat"}}}),
                     headers={"Content-Type": "application/json"})),
    ]
    v2_commands = [raw(prepared("POST", v2 + "?command=INIT&total_bytes=3&media_type=image/png")),
                   raw(prepared("POST", v2, files={"media": ("a.png", PNG, "image/png")},
                                data={"media_category": "tweet_image"}))]
    return {
        "v2-chunked-upload": SEPARATOR.join(v2_upload),
        "v2-command-form": SEPARATOR.join(v2_commands),
        "lognormal-delay": SEPARATOR.join(long_tail),
        "chunked-upload-image": SEPARATOR.join(upload),
        "chunked-upload-video": SEPARATOR.join(video),
        "python-twitter-append": SEPARATOR.join([raw(init()), python_twitter]),
        "twurl-one-shot": twurl,
        "requests-one-shot": one_shot,
        "admin-faults": SEPARATOR.join(admin),
        "unknown-path": raw(prepared("GET", "/1.1/statuses/update.json")),
        "wrong-method": raw(prepared("DELETE", UPLOAD)),
    }


def head_corpus():
    base = b"POST " + UPLOAD.encode() + b" HTTP/1.1\r\nHost: x\r\n"
    return {
        "content-length": base + b"Content-Length: 12\r\n\r\n",
        "chunked": base + b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
        "gzip-chunked": base + b"Transfer-Encoding: gzip, chunked\r\n\r\n",
        "duplicate-length": base + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "both": base + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        "v2-append": b"POST /2/media/upload/123/append HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "admin-media": b"GET /__admin/uploads/1/media?x=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    }


def forms_corpus():
    multipart = append(0, PNG[:40])
    urlencoded = init()
    return {
        "requests-multipart": multipart.headers["Content-Type"].encode() + b"\n" + multipart.body,
        "urlencoded": b"application/x-www-form-urlencoded\n" + urlencoded.body.encode(),
        "urlencoded-escapes": b"application/x-www-form-urlencoded\ncommand=APPEND&media_data=iVBOR%2Bw0KG%3D%3D&x=a+b%20c",
        "twurl": b'multipart/form-data, boundary="00Twurl"\n--00Twurl\r\nContent-Disposition: form-data; name="media"; '
                 b'filename="a"\r\n\r\nabc\r\n--00Twurl--\r\n',
        "quoted-boundary": b'multipart/form-data; boundary="a b"; charset=utf-8\n--a b\r\nContent-Disposition: form-data; '
                           b'name="command"; filename*=UTF-8\'\'%C3%A9.png\r\n\r\nINIT\r\n--a b--',
        "bare-lf": b"multipart/form-data; boundary=z\n--z\nContent-Disposition: form-data; name=\"x\"\n\n1\n--z--\n",
        # The delimiter scan takes 16 positions at a time: a 1-character and a 70-character boundary.
        "short-boundary": b"multipart/form-data; boundary=q\n--q\r\nContent-Disposition: form-data; name=\"media\"\r\n\r\n"
                          + PNG[:90] + b"\r\n--q\r\n" + b"\r\n--q--",
        "long-boundary": b"multipart/form-data; boundary=" + b"-" * 40 + b"abcdefghijklmnopqrstuvwxyz0123\n--" + b"-" * 40
                         + b"abcdefghijklmnopqrstuvwxyz0123\r\nContent-Disposition: form-data; name=\"m\"\r\n\r\n"
                         + PNG[:100] + b"\r\n--" + b"-" * 40 + b"abcdefghijklmnopqrstuvwxyz0123--",
    }


def json_media_corpus():
    media = base64.b64encode(PNG).decode()
    return {
        "xdk-append": json.dumps({"media": media, "segment_index": 0}).encode(),
        "escaped-slashes": json.dumps({"segment_index": 3, "media": media}).replace("/", "\\/").encode(),
        "upload": json.dumps({"media": media[:40], "media_category": "tweet_image", "additional_owners": "1"},
                             indent=2).encode(),
        "escapes-and-nesting": b'{"media": "\\u0059W\\/j\\n", "x": [1, -2.5e3, {"a": "\\u00e9\\ud83d\\ude00"}, true, null],'
                               b' "k\\u0065y": "\xc3\xa9\xcc\x81"}',
        "not-an-object": b'[{"media": "YWJj"}, 1e400]',
    }


def parameters_corpus():
    return {
        "append-multipart": b"command=APPEND&media_id=1&segment_index=0\n--b\r\nContent-Disposition: form-data; "
                            b'name="media"\r\n\r\n' + PNG[:60] + b"\r\n--b--\r\n",
        "append-media-data": b"command=APPEND\nmedia_id=1&segment_index=0&media_data=" + base64.b64encode(PNG[:60]),
        "duplicates": b"command=INIT\ncommand=INIT&total_bytes=5&total_bytes=6",
        "too-large": b"command=APPEND\n--b\r\nContent-Disposition: form-data; name=\"media\"\r\n\r\n" + b"x" * 100 + b"\r\n--b--\r\n",
    }


def base64_corpus():
    text = base64.b64encode(PNG).decode()
    return {
        "padded": base64.b64encode(PNG[:100]).decode().encode(),
        "mime-lines": base64.encodebytes(PNG).replace(b"\n", b"\r\n"),
        "unpadded": text.rstrip("=").encode(),
        # Bad bytes at the start, middle and end of 16- and 32-character vector blocks.
        "bad-bytes": (text[:15] + "-" + text[16:40] + " " + text[41:63] + "\xe9" + text[64:]).encode(),
        "padding-inside": (text[:32] + "==" + text[32:64]).encode(),
    }


def percent_corpus():
    # As requests encodes base64: an escape about every 21 bytes, some across 16- and 32-byte blocks.
    media = urlencode({"media_data": base64.b64encode(PNG).decode()}).encode()
    return {
        "media-data": b"command=APPEND&media_id=1&segment_index=0&" + media,
        "lowercase-and-plus": media[:200].replace(b"%2F", b"%2f") + b"&q=a+b+%2b",
        # Malformed escapes at the end of a 16-byte block, and in the middle of a 32-byte one.
        "bad-escapes": media[:13] + b"%4G" + media[16:40] + b"%%41" + media[44:80] + b"%\xff0" + media[83:120],
        "cut-escape": media[:63] + b"%4",
    }


def oauth_corpus():
    auth = OAuth1("ck", "cs", "t", "ts", nonce="fuzzseednonce", timestamp="1700000000")
    signed = auth(prepared("POST", UPLOAD, data={"command": "INIT", "total_bytes": 10, "media_type": "video/mp4"}))
    header = signed.headers["Authorization"]
    header = header.decode() if isinstance(header, bytes) else header
    return {
        "requests-oauthlib": header[len("OAuth "):].encode(),
        "minimal": b'oauth_consumer_key="ck", oauth_token="t", oauth_signature_method="HMAC-SHA1", '
                   b'oauth_timestamp="1700000000", oauth_nonce="n", oauth_version="1.0", oauth_signature="x%3D"',
        "huge-timestamp": b'oauth_consumer_key="ck", oauth_token="t", oauth_signature_method="HMAC-SHA1", '
                          b'oauth_timestamp="-9223372036854775808", oauth_nonce="n", oauth_signature="x"',
        "duplicate-params": b'oauth_nonce="a", oauth_nonce="b", realm="x", oauth_signature="%ZZ"',
    }


def config_corpus():
    files = {path.stem: path.read_bytes() for path in sorted((FIXTURES / "config").glob("*.json"))}
    files["connections"] = json.dumps({"connections": {"max": 64, "headroom": 8, "head_timeout_secs": 5,
                                                       "body_min_bytes_per_sec": 0, "max_held_by_faults": 4}}).encode()
    files["everything"] = json.dumps({
        "host": "127.0.0.1", "port": 0, "seed": 42, "log_level": "debug", "expires_after_secs": 60,
        "limits": {"chunk_bytes": 1024, "video_bytes": 4096},
        "processing": {"check_after_secs": 0, "polls_until_done": 1, "result": "failed",
                       "error": {"code": 1, "name": "InvalidMedia", "message": "Unsupported"}},
        "rate_limits": [{"match": {"command": "APPEND"}, "limit": 5, "window_secs": 10, "per": "global"}],
        "faults": [{"match": {"command": "APPEND", "segment_index": 2}, "action": {"status": 503}, "times": 1}],
        "auth": {"mode": "oauth1", "users": [{"user_id": "1", "consumer_key": "ck", "consumer_secret": "cs",
                                             "token": "t", "token_secret": "ts"}]},
    }).encode()
    files["syntax"] = b'{"a": [1, -2.5e3, true, null, "\\u00e9\\n\\/"], "b": {}}'
    return files


def admin_corpus():
    return {
        "status": json.dumps({"match": {"command": "APPEND", "segment_index": 2, "skip": 2}, "action": {"status": 503},
                              "times": 1}).encode(),
        "delays": json.dumps([{"action": {"delay": {"distribution": "lognormal", "median_ms": 40, "sigma": 0.6}}},
                              {"action": {"delay": {"distribution": "uniform", "min_ms": 1, "max_ms": 5}}},
                              {"action": {"delay_ms": 300, "fault": "slow", "bytes_per_sec": 10}}]).encode(),
        "faults": json.dumps([{"match": {"probability": 0.1}, "action": {"fault": "reset"}},
                              {"action": {"fault": "truncate", "truncate_bytes": 3}, "after_commit": True}]).encode(),
        "rate-limit": json.dumps({"match": {"command": "INIT", "method": "POST", "path": UPLOAD}, "limit": 2,
                                  "window_secs": 60, "per": "user"}).encode(),
        "clock-advance": json.dumps({"advance_secs": 86400}).encode(),
        "clock-set": json.dumps({"set": 4102444800}).encode(),
        "clock-freeze": json.dumps({"freeze": True}).encode(),
    }


def main():
    for target, files in [("request", requests_corpus()), ("http-head", head_corpus()), ("forms", forms_corpus()),
                          ("parameters", parameters_corpus()), ("json-media", json_media_corpus()),
                          ("base64", base64_corpus()), ("percent", percent_corpus()), ("oauth", oauth_corpus()),
                          ("config", config_corpus()), ("admin", admin_corpus())]:
        directory = HERE / target
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir()
        for name, content in files.items():
            (directory / name).write_bytes(content)
        print(f"{target}: {len(files)} files")


if __name__ == "__main__":
    main()
