"""docs/api-v2.md, Authentication and Rate limits; docs/faults.md for v2: the same rules, users and
journal as v1.1, answered in v2's shapes."""
import base64
import json
import time

import pytest
import requests
from oauthlib.oauth1 import Client as OAuthClient
from requests_oauthlib import OAuth1

from conftest import raw_request

INITIALIZE = "/2/media/upload/initialize"
UPLOAD = "/2/media/upload"
SUBTITLES = "/2/media/subtitles"
ALICE = {"user_id": "1", "consumer_key": "ck-alice", "consumer_secret": "cs-alice", "token": "t-alice",
         "token_secret": "ts-alice", "bearer_token": "user-alice"}
BOB = {"user_id": "2", "bearer_token": "user-bob"}
UNAUTHORIZED = b'{\n  "title": "Unauthorized",\n  "type": "about:blank",\n  "status": 401,\n  "detail": "Unauthorized"\n}'
UNSUPPORTED = (b'{\n  "title": "Unsupported Authentication",\n  "detail": "Authenticating with OAuth 2.0 Application-Only is '
               b'forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User '
               b'Context].",\n  "type": "https://api.twitter.com/2/problems/unsupported-authentication",\n  "status": 403\n}')
TOO_MANY = b'{\n  "title": "Too Many Requests",\n  "detail": "Too Many Requests",\n  "type": "about:blank",\n  "status": 429\n}'
VIDEO = {"media_type": "video/mp4", "total_bytes": 6, "media_category": "tweet_video"}


@pytest.fixture
def auth_mock(start_mock):
    return start_mock({"auth": {"mode": "verify", "users": [ALICE, BOB], "app_bearer_tokens": ["app-token"]},
                       "processing": {"check_after_secs": 0}})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def oauth(user=ALICE, **overrides):
    return OAuth1(**{"client_key": user["consumer_key"], "client_secret": user["consumer_secret"],
                     "resource_owner_key": user["token"], "resource_owner_secret": user["token_secret"], **overrides})


def signed_for(url, method="POST", user=ALICE):
    """An Authorization header signed for `url` (say, the real service's), to send elsewhere."""
    client = OAuthClient(user["consumer_key"], client_secret=user["consumer_secret"], resource_owner_key=user["token"],
                         resource_owner_secret=user["token_secret"])
    _, headers, _ = client.sign(url, http_method=method)
    return {"Authorization": headers["Authorization"]}


def last_entry(server):
    return server.admin("/requests").json()["requests"][-1]


# ------------------------------------------------------------------ authentication


def test_no_credential_gets_the_recorded_401(auth_mock):
    response = requests.post(auth_mock.url(INITIALIZE), json=VIDEO)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.content == UNAUTHORIZED and response.headers["content-length"] == "99"
    assert "x-rate-limit-limit" not in response.headers  # as recorded
    assert last_entry(auth_mock)["error"] == "authentication failed: no Authorization header"
    assert requests.post(auth_mock.url(INITIALIZE), json=VIDEO, headers=bearer("who")).content == UNAUTHORIZED


@pytest.mark.parametrize("config", [
    {"auth": {"mode": "verify", "users": [ALICE], "app_bearer_tokens": ["app-token"]}},
    {"auth": {"app_bearer_tokens": ["app-token"]}},  # refused even when nothing is verified
])
def test_an_app_only_token_gets_the_recorded_403(start_mock, config):
    server = start_mock(config)
    for method, path in (("POST", INITIALIZE), ("GET", UPLOAD + "?media_id=1"), ("POST", "/2/media/metadata")):
        response = requests.request(method, server.url(path), json={}, headers=bearer("app-token"))
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert response.content == UNSUPPORTED
    assert last_entry(server)["error"].startswith("authentication refused: an app-only bearer token")


def test_user_tokens_and_media_ownership(auth_mock):
    response = requests.post(auth_mock.url(INITIALIZE), json=VIDEO, headers=bearer(ALICE["bearer_token"]))
    assert response.status_code == 200, response.text
    media_id = response.json()["data"]["id"]
    assert auth_mock.upload(media_id)["owner"] == "1"
    append = {"media": base64.b64encode(b"abcdef").decode(), "segment_index": 0}
    stolen = requests.post(auth_mock.url(f"/2/media/upload/{media_id}/append"), json=append, headers=bearer(BOB["bearer_token"]))
    assert stolen.status_code == 403
    assert stolen.json() == {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"}
    assert len(stolen.content) == 93  # pretty-printed, as recorded
    assert last_entry(auth_mock)["error"] == f"Media id {media_id} belongs to another user."
    mine = requests.post(auth_mock.url(f"/2/media/upload/{media_id}/append"), json=append, auth=oauth())
    assert mine.status_code == 200


@pytest.mark.parametrize("origin", ["https://api.x.com", "https://api.twitter.com", "mock"])
def test_oauth1_signatures_for_the_real_hosts_and_the_mock(auth_mock, origin):
    base = auth_mock.base_url if origin == "mock" else origin
    response = requests.post(auth_mock.url(INITIALIZE), json=VIDEO, headers=signed_for(base + INITIALIZE))
    assert response.status_code == 200, last_entry(auth_mock)["error"]
    media_id = response.json()["data"]["id"]
    # GET STATUS: the query string is signed too.
    query = f"?command=STATUS&media_id={media_id}"
    status = requests.get(auth_mock.url(UPLOAD + query), headers=signed_for(base + UPLOAD + query, "GET"))
    assert status.status_code == 400 and status.json()["errors"] == [{"message": "BadRequest: Not found"}]  # not finalized


def test_oauth1_refusals_name_the_check_that_failed(auth_mock):
    response = requests.post(auth_mock.url(INITIALIZE), json=VIDEO, auth=oauth(client_secret="wrong"))
    assert (response.status_code, response.content) == (401, UNAUTHORIZED)
    assert last_entry(auth_mock)["error"].startswith("authentication failed: signature mismatch")
    # The query is part of what is signed: a signature without it fails.
    unsigned_query = signed_for(auth_mock.base_url + UPLOAD, "GET")
    assert requests.get(auth_mock.url(UPLOAD + "?media_id=1"), headers=unsigned_query).status_code == 401


def test_command_form_signs_urlencoded_bodies(auth_mock):
    fields = {"command": "INIT", "total_bytes": "6", "media_type": "video/mp4"}
    assert requests.post(auth_mock.url(UPLOAD), data=fields, auth=oauth()).status_code == 202
    # Signed as if the body were not there: the real service signs urlencoded bodies, so this fails.
    headers = {**signed_for(auth_mock.base_url + UPLOAD), "Content-Type": "application/x-www-form-urlencoded"}
    response = requests.post(auth_mock.url(UPLOAD), data="command=INIT&total_bytes=6&media_type=video%2Fmp4", headers=headers)
    assert response.status_code == 401


# ------------------------------------------------------------------ rate limits


def test_every_endpoint_reports_its_documented_per_user_limit(mock):
    expected = [("POST", INITIALIZE, "1875"), ("POST", "/2/media/upload/1/append", "1875"),
                ("POST", "/2/media/upload/1/finalize", "1875"), ("GET", UPLOAD + "?media_id=1", "1000"),
                ("POST", UPLOAD, "500"), ("POST", "/2/media/metadata", "500"), ("POST", SUBTITLES, "100"),
                ("DELETE", SUBTITLES, "100")]
    for method, path, limit in expected:
        response = requests.request(method, mock.url(path), json={})
        assert response.status_code == 400, (path, response.text)  # refused, but counted and described
        assert response.headers["x-rate-limit-limit"] == limit, path
        assert int(response.headers["x-rate-limit-remaining"]) == int(limit) - 1, path
        reset = int(response.headers["x-rate-limit-reset"])
        assert 899 < reset - time.time() <= 901, path  # a 15-minute window, in whole seconds


def test_the_per_app_daily_limits_are_in_the_defaults(mock):
    rules = mock.admin("/rate-limits").json()["rate_limits"]
    v2 = {(rule["match"]["command"], rule["per"], rule["window_secs"]): rule["limit"] for rule in rules
          if rule["match"].get("api") == "v2"}
    assert v2 == {
        ("INIT", "user", 900): 1875, ("INIT", "global", 86400): 180000,
        ("APPEND", "user", 900): 1875, ("APPEND", "global", 86400): 180000,
        ("FINALIZE", "user", 900): 1875, ("FINALIZE", "global", 86400): 180000,
        ("STATUS", "user", 900): 1000, ("STATUS", "global", 86400): 100000,
        ("UPLOAD", "user", 900): 500, ("UPLOAD", "global", 86400): 50000,
        ("METADATA", "user", 900): 500, ("METADATA", "global", 86400): 50000,
        ("SUBTITLES_CREATE", "user", 900): 100, ("SUBTITLES_CREATE", "global", 86400): 10000,
        ("SUBTITLES_DELETE", "user", 900): 100, ("SUBTITLES_DELETE", "global", 86400): 10000,
    }


def test_the_default_subtitles_limit_refuses_the_101st_request_per_user(auth_mock):
    def delete(user):
        return requests.delete(auth_mock.url(SUBTITLES), json={}, headers=bearer(user["bearer_token"]))
    for count in range(100):
        assert delete(ALICE).status_code == 400, count
    refused = delete(ALICE)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.content == TOO_MANY
    assert refused.headers["x-rate-limit-limit"] == "100" and refused.headers["x-rate-limit-remaining"] == "0"
    entry = last_entry(auth_mock)
    assert entry["status"] == 429 and entry["rate_limit"].endswith("100 per window") and entry["api"] == "v2"
    assert delete(BOB).status_code == 400  # each user has a window
    # Creating subtitles has its own window.
    assert requests.post(auth_mock.url(SUBTITLES), json={}, headers=bearer(ALICE["bearer_token"])).status_code == 400


def test_rules_match_v2_by_api_and_path(mock):
    assert mock.admin("/rate-limits", method="POST", json={"match": {"api": "v2", "path": INITIALIZE}, "limit": 1,
                                                             "window_secs": 60, "per": "global"}).status_code == 201
    assert requests.post(mock.url(INITIALIZE), json=VIDEO).status_code == 200
    refused = requests.post(mock.url(INITIALIZE), json=VIDEO)
    assert (refused.status_code, refused.content) == (429, TOO_MANY)
    assert refused.headers["x-rate-limit-limit"] == "1"
    assert len(mock.admin("/uploads").json()["uploads"]) == 1  # nothing stored
    v1 = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 6, "media_type": "video/mp4"})
    assert v1.status_code == 202


# ------------------------------------------------------------------ faults


def add_fault(server, rule):
    response = server.admin("/faults", method="POST", json=rule)
    assert response.status_code == 201, response.text
    return response.json()


def start_upload(server, size=6):
    return requests.post(server.url(INITIALIZE), json={**VIDEO, "total_bytes": size}).json()["data"]["id"]


def append(server, media_id, index, chunk):
    return requests.post(server.url(f"/2/media/upload/{media_id}/append"),
                         json={"media": base64.b64encode(chunk).decode(), "segment_index": index})


def test_a_fault_matched_by_api_command_and_segment(mock):
    add_fault(mock, {"match": {"api": "v2", "command": "APPEND", "segment_index": 1}, "action": {"status": 503}, "times": 1})
    media_id = start_upload(mock)
    assert append(mock, media_id, 0, b"abc").status_code == 200
    failed = append(mock, media_id, 1, b"def")
    assert failed.status_code == 503
    assert failed.content == (b'{\n  "title": "Service Unavailable",\n  "type": "about:blank",\n  "status": 503,\n'
                              b'  "detail": "Service Unavailable"\n}')
    assert failed.headers["x-rate-limit-limit"] == "1875"
    assert mock.upload(media_id)["received_bytes"] == 3  # nothing stored
    assert append(mock, media_id, 1, b"def").status_code == 200  # the retry goes through
    entry = [e for e in mock.admin("/requests").json()["requests"] if e["status"] == 503][0]
    assert entry["api"] == "v2" and entry["fault"].startswith("rule ") and entry["segment_index"] == 1


@pytest.mark.parametrize("action, status, body", [
    ({"status": 500}, 500, {"errors": ["internal server error"]}),
    ({"status": 400, "error": "Invalid media"}, 400,
     {"errors": [{"message": "Invalid media"}], "title": "Invalid Request",
      "detail": "One or more parameters to your request was invalid.",
      "type": "https://api.twitter.com/2/problems/invalid-request"}),
    ({"status": 429}, 429, {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}),
    ({"status": 401}, 401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
    ({"status": 502, "error": "upstream gone"}, 502,
     {"title": "Bad Gateway", "type": "about:blank", "status": 502, "detail": "upstream gone"}),
])
def test_injected_statuses_have_v2_bodies(mock, action, status, body):
    add_fault(mock, {"match": {"api": "v2", "command": "FINALIZE"}, "action": action})
    response = requests.post(mock.url("/2/media/upload/1/finalize"))
    assert response.status_code == status and response.json() == body
    # The same rule shape answers v1.1 in v1.1's shapes; this one only matches v2.
    v1 = requests.post(mock.upload_url, data={"command": "FINALIZE", "media_id": "1"})
    assert v1.status_code == 400 and "media_id" in v1.text


@pytest.mark.parametrize("status", [401, 403, 404, 405, 408, 409, 413, 415, 418, 422, 431, 451, 502, 503, 504, 599])
def test_an_about_blank_title_is_the_status_lines_reason_phrase(mock, status):
    add_fault(mock, {"match": {"api": "v2", "command": "FINALIZE"}, "action": {"status": status}})
    response = requests.post(mock.url("/2/media/upload/1/finalize"))
    assert response.status_code == status and response.json()["type"] == "about:blank"
    assert response.json()["title"] == response.reason and response.reason


def test_after_commit_reset_stores_the_segment_then_drops_the_answer(mock):
    media_id = start_upload(mock)
    add_fault(mock, {"match": {"api": "v2", "path": f"/2/media/upload/{media_id}/append"}, "action": {"fault": "reset"},
                     "after_commit": True, "times": 1})
    body = json.dumps({"media": base64.b64encode(b"abcdef").decode(), "segment_index": 0}).encode()
    answer = raw_request(mock.port, f"POST /2/media/upload/{media_id}/append HTTP/1.1\r\nHost: x\r\n"
                                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    assert answer == b""
    assert mock.upload(media_id)["received_bytes"] == 6
    [attempt] = mock.upload(media_id)["attempts"]
    assert (attempt["status"], attempt["stored"], attempt["media_bytes"]) == (None, True, 6)
    assert attempt["bytes_received"] == len(body)
    assert requests.post(mock.url(f"/2/media/upload/{media_id}/finalize")).status_code == 200


def test_a_delay_slows_the_real_answer(mock):
    add_fault(mock, {"match": {"api": "v2", "command": "INIT"}, "action": {"delay_ms": 300}, "times": 1})
    begun = time.monotonic()
    assert requests.post(mock.url(INITIALIZE), json=VIDEO).status_code == 200
    assert time.monotonic() - begun >= 0.3
    assert last_entry(mock)["fault"].endswith("delay 300 ms")
