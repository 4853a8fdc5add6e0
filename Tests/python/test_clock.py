"""docs/clock.md: the virtual clock over real HTTP. Expiry, rate-limit windows and timed
processing as real clients (tweepy over HTTPS for v1.1, xdk for v2) see them, one scope's clock
apart from another's, and every bad input refused with nothing changed."""
import base64
import threading
import time
from datetime import datetime

import pytest
import requests
import tweepy
from requests_oauthlib import OAuth1
from xdk import Client
from xdk.media.models import AppendUploadRequest, InitializeUploadRequest

from conftest import FIXTURES, MockServer, init

TLS = FIXTURES / "tls"
DAY = 86_400
EARLIEST, LATEST = 1_136_073_600, 4_102_444_800  # 2006-01-01 and 2100-01-01, UTC


def clock(server, method="GET", scope=None, **body):
    headers = {"X-Mock-Scope": scope} if scope else {}
    response = server.admin("/clock", method=method, headers=headers, json=body or None)
    assert response.status_code == 200, response.text
    return response.json()


def frozen_at(server, epoch, scope=None):
    clock(server, "POST", scope, freeze=True)
    return clock(server, "POST", scope, set=epoch)


def tweepy_api(server, token="token"):
    api = tweepy.API(tweepy.OAuth1UserHandler("ck", "cs", token, "ts"), upload_host=f"localhost:{server.port}")
    api.session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
    api.session.verify = str(TLS / "ca.pem")
    return api


def admin_https(server, path, method="GET", **kwargs):
    return requests.request(method, server.url("/__admin" + path), verify=str(TLS / "ca.pem"), **kwargs)


@pytest.fixture
def tls_mock(start_mock):
    def start(config=None):
        return start_mock(config, args=["--tls-cert", str(TLS / "server.pem"), "--tls-key", str(TLS / "server-key.pem")])
    return start


def entries(server, **query):
    return server.admin("/requests", params=query).json()["requests"]


def test_reads_moves_freezes_and_goes_back_to_real_time(mock):
    real = clock(mock)
    assert real["frozen"] is False and real["offset_secs"] == 0 and abs(real["now"] - time.time()) < 5
    moved = clock(mock, "POST", advance_secs=DAY)
    assert moved["offset_secs"] == DAY and moved["frozen"] is False
    frozen = clock(mock, "POST", freeze=True)
    time.sleep(0.05)
    assert clock(mock)["now"] == frozen["now"], "a frozen clock stands still"
    assert clock(mock, "POST", advance_secs=1.5)["now"] == pytest.approx(frozen["now"] + 1.5)
    assert clock(mock, "POST", set=1_893_456_000) == {"now": 1_893_456_000, "frozen": True, "offset_secs": pytest.approx(1_893_456_000 - time.time(), abs=5)}
    resumed = clock(mock, "POST", freeze=False)
    assert resumed["frozen"] is False and resumed["now"] == pytest.approx(1_893_456_000, abs=1)
    back = clock(mock, "DELETE")
    assert back["offset_secs"] == 0 and back["frozen"] is False
    clock(mock, "POST", advance_secs=60)
    assert mock.admin("/reset", method="POST").status_code == 200
    assert clock(mock)["offset_secs"] == 0, "POST /__admin/reset puts the clock back to real time"


@pytest.mark.parametrize("body, message", [
    ({"advance_secs": -1}, "advance_secs must be a number of seconds, zero or more, not -1"),
    ({"advance_secs": "60"}, 'advance_secs must be a number of seconds, zero or more, not "60"'),
    ({"advance_secs": True}, "advance_secs must be a number of seconds, zero or more, not true"),
    ({"advance_secs": None}, "advance_secs must be a number of seconds, zero or more, not null"),
    ({"advance_secs": LATEST - EARLIEST},
     "advance_secs would move the clock to 4102444801 seconds since 1970, outside 1136073600 (2006-01-01T00:00:00Z) to 4102444800 (2100-01-01T00:00:00Z)"),
    ({"set": EARLIEST - 1}, "set must be seconds since 1970 from 1136073600 (2006-01-01T00:00:00Z) to 4102444800 (2100-01-01T00:00:00Z), not 1136073599"),
    ({"set": LATEST + 0.5}, "set must be seconds since 1970 from 1136073600 (2006-01-01T00:00:00Z) to 4102444800 (2100-01-01T00:00:00Z), not 4102444800.5"),
    ({"set": "2030-01-01"}, "set must be seconds since 1970"),
    ({"freeze": 1}, "freeze must be true or false, not 1"),
    ({}, "send exactly one of advance_secs, set, freeze"),
    ({"advance_secs": 1, "set": EARLIEST}, "send exactly one of advance_secs, set, freeze, not advance_secs and set"),
    ({"advance": 1}, "unknown key 'advance': expected exactly one of advance_secs, set, freeze"),
    ([{"advance_secs": 1}], "the body must be a JSON object with exactly one of advance_secs, set, freeze"),
    ("tomorrow", "not valid JSON"),
])
def test_bad_input_is_400_naming_the_field_and_changes_nothing(mock, body, message):
    before = frozen_at(mock, 2_000_000_000)
    # The one-day advance past 2100 needs a late clock: from 2000000000 it would fit.
    if "advance_secs would move" in message:
        before = clock(mock, "POST", set=EARLIEST + 1)
    payload = body.encode() if isinstance(body, str) else None
    response = mock.admin("/clock", method="POST", data=payload, json=None if payload else body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message), response.json()
    assert reading(clock(mock)) == reading(before)
    scoped = mock.admin("/clock", method="POST", headers={"X-Mock-Scope": "w"}, data=payload, json=None if payload else body)
    assert scoped.status_code == 400 and response.json() == scoped.json()
    mock.admin("/clock", method="POST", json={"advance_secs": 1})
    assert clock(mock, scope="w")["now"] == before["now"] + 1, "a refused scoped call gave the scope no clock of its own"


def reading(status):
    """`now` and `frozen`: a frozen clock's offset from the wall grows as the test runs."""
    return status["now"], status["frozen"]


def test_expiry_after_a_day_v1_tweepy(tls_mock):
    server = tls_mock()
    api = tweepy_api(server)
    media_id = api.chunked_upload_init(6, "video/mp4", media_category="tweet_video").media_id
    api.chunked_upload_append(media_id, ("clip.mp4", b"abc"), 0)
    status = admin_https(server, "/clock", "POST", json={"advance_secs": DAY}).json()
    assert status["offset_secs"] == DAY
    with pytest.raises(tweepy.errors.BadRequest) as refused:
        api.chunked_upload_append(media_id, ("clip.mp4", b"def"), 1)
    assert refused.value.response.status_code == 400
    assert refused.value.response.json() == {
        "request": "/1.1/media/upload.json",
        "error": f"Media id {media_id} expired: it was valid for 86400 seconds after INIT. Start a new upload with INIT."}
    report = admin_https(server, f"/uploads/{media_id}").json()
    assert report["state"] == "expired" and report["received_bytes"] == 3, "nothing of the refused APPEND is stored"
    [stored, expired] = report["attempts"]
    assert stored["clock_time"] is None and stored["status"] == 204
    assert expired["status"] == 400 and _seconds(expired["clock_time"]) - _seconds(expired["time"]) == pytest.approx(DAY, abs=1)
    # Back on real time the upload is live again; a new one a day later counts down from INIT.
    admin_https(server, "/clock", "DELETE")
    api.chunked_upload_append(media_id, ("clip.mp4", b"def"), 1)
    assert api.chunked_upload_finalize(media_id).expires_after_secs == DAY


def test_expiry_after_a_day_v2_xdk(mock):
    client = Client(base_url=mock.base_url, access_token="user-token")
    media_id = client.media.initialize_upload(body=InitializeUploadRequest(
        media_type="video/mp4", total_bytes=6, media_category="tweet_video")).data.id
    start = clock(mock)["now"]
    first = client.media.append_upload(id=media_id, body=AppendUploadRequest(media="YWJj", segment_index=0)).data
    assert first.expires_at == pytest.approx(start + DAY, abs=2)
    clock(mock, "POST", advance_secs=DAY - 10)
    clock(mock, "POST", freeze=True)
    status = client.media.append_upload(id=media_id, body=AppendUploadRequest(media="ZGVm", segment_index=1)).data
    assert status.expires_at == first.expires_at, "expires_at is the session's, on the clock"
    clock(mock, "POST", advance_secs=10)
    with pytest.raises(Exception) as refused:
        client.media.finalize_upload(id=media_id)
    assert refused.value.response.status_code == 400
    problem = refused.value.response.json()
    assert problem["title"] == "Invalid Request"
    assert problem["errors"][0]["message"].startswith(f"Media id {media_id} expired: it was valid for 86400 seconds")


def test_rate_limit_window_with_its_headers_tweepy(tls_mock):
    server = tls_mock({"rate_limits": [{"match": {"command": "APPEND"}, "limit": 2, "window_secs": 900}]})
    start = admin_https(server, "/clock", "POST", json={"freeze": True}).json()["now"]
    api = tweepy_api(server)
    media_id = api.chunked_upload_init(4, "video/mp4").media_id
    for index in (0, 1):
        api.chunked_upload_append(media_id, ("blob", b"a"), index)
    with pytest.raises(tweepy.errors.TooManyRequests) as refused:
        api.chunked_upload_append(media_id, ("blob", b"a"), 2)
    reset = int(refused.value.response.headers["x-rate-limit-reset"])
    assert reset == int(start) + 900 or reset == int(start) + 901  # the window's end, rounded up to a second
    assert refused.value.api_codes == [88]
    admin_https(server, "/clock", "POST", json={"set": reset - 1})
    with pytest.raises(tweepy.errors.TooManyRequests):
        api.chunked_upload_append(media_id, ("blob", b"a"), 2)
    admin_https(server, "/clock", "POST", json={"set": reset})
    answer = requests.post(server.upload_url, auth=OAuth1("ck", "cs", "token", "ts"), verify=str(TLS / "ca.pem"), data={
        "command": "APPEND", "media_id": media_id, "segment_index": 3, "media_data": "YQ=="})
    assert answer.status_code == 204, answer.text
    assert (answer.headers["x-rate-limit-remaining"], answer.headers["x-rate-limit-reset"]) == ("1", str(reset + 900))
    limited = [e for e in admin_https(server, "/requests", params={"status": 429}).json()["requests"]]
    assert len(limited) == 2 and all(e["clock_time"] for e in limited)


def test_global_windows_run_on_the_server_clock_per_user_on_the_scopes(mock):
    for rule in ({"match": {"command": "INIT"}, "limit": 1, "window_secs": 60, "per": "global"},
                 {"match": {"command": "FINALIZE"}, "limit": 1, "window_secs": 60, "per": "user"}):
        assert mock.admin("/rate-limits", method="POST", json=rule).status_code == 201
    alice = OAuth1("ck", "cs", "alice", "ts")
    declaration = {"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"}
    frozen_at(mock, 2_000_000_000)
    media_id = requests.post(mock.upload_url, auth=alice, data=declaration).json()["media_id_string"]
    clock(mock, "POST", "alice", advance_secs=60)
    refused = requests.post(mock.upload_url, auth=alice, data=declaration)
    assert refused.status_code == 429 and refused.headers["x-rate-limit-reset"] == "2000000060", "alice's clock does not end a global window"
    clock(mock, "POST", advance_secs=60)
    assert requests.post(mock.upload_url, auth=alice, data=declaration).status_code == 202
    requests.post(mock.upload_url, auth=alice, files={"command": (None, "APPEND"), "media_id": (None, media_id),
                                                      "segment_index": (None, "0"), "media": ("b", b"x")})
    finalize = {"command": "FINALIZE", "media_id": media_id}
    assert requests.post(mock.upload_url, auth=alice, data=finalize).headers["x-rate-limit-reset"] == "2000000120"
    assert requests.post(mock.upload_url, auth=alice, data=finalize).status_code == 429
    clock(mock, "POST", "alice", advance_secs=60)
    assert requests.post(mock.upload_url, auth=alice, data=finalize).status_code == 201, "alice's clock ends her own window"


def _percent(info):
    return info["progress_percent"] if info["state"] == "in_progress" else info["state"]


def test_timed_processing_percent_rises_with_the_clock_tweepy(tls_mock):
    server = tls_mock({"processing": {"duration_secs": 600, "check_after_secs": 200}})
    admin_https(server, "/clock", "POST", json={"freeze": True})
    api = tweepy_api(server)
    media = api.chunked_upload(str(FIXTURES / "media" / "clip.mp4"), file_type="video/mp4", media_category="tweet_video",
                               wait_for_async_finalize=False)
    assert media.processing_info == {"state": "pending", "check_after_secs": 200}
    seen = []
    for _ in range(5):
        info = api.get_media_upload_status(media.media_id).processing_info
        seen.append((_percent(info), info.get("check_after_secs")))
        admin_https(server, "/clock", "POST", json={"advance_secs": 150})
    assert seen == [(0, 200), (25, 200), (50, 200), (75, 150), ("succeeded", None)]
    assert admin_https(server, f"/uploads/{media.media_id}").json()["state"] == "succeeded"


def test_timed_processing_per_category_xdk(start_mock):
    server = start_mock({"processing": {"duration_secs_by_category": {"amplify_video": 600}}})
    clock(server, "POST", freeze=True)
    client = Client(base_url=server.base_url, access_token="user-token")
    media_id = client.media.initialize_upload(body=InitializeUploadRequest(
        media_type="video/mp4", total_bytes=3, media_category="amplify_video")).data.id
    client.media.append_upload(id=media_id, body=AppendUploadRequest(media=base64.b64encode(b"abc").decode(), segment_index=0))
    assert client.media.finalize_upload(id=media_id).data.processing_info.state == "pending"
    states = []
    for _ in range(3):
        info = client.media.get_upload_status(media_id=media_id, command="STATUS").data.processing_info
        states.append(info.state if info.state != "in_progress" else info.progress_percent)
        assert server.upload(media_id)["state"] == ("processing" if len(states) < 3 else "succeeded")
        clock(server, "POST", advance_secs=300)
    assert states == [0, 50, "succeeded"]


def test_tweepy_waits_out_ten_minutes_of_processing_in_a_second(tls_mock):
    """tweepy's own poll loop sleeps check_after_secs of real time between STATUS polls; the test
    fast-forwards the clock past the processing while tweepy waits."""
    server = tls_mock({"processing": {"duration_secs": 600, "check_after_secs": 1}})
    api = tweepy_api(server)
    result = {}

    def upload():
        result["media"] = api.chunked_upload(str(FIXTURES / "media" / "clip.mp4"), file_type="video/mp4",
                                             media_category="tweet_video")

    uploader = threading.Thread(target=upload)
    uploader.start()
    deadline = time.monotonic() + 30
    while admin_https(server, "/requests/count", params={"command": "STATUS"}).json()["count"] == 0:
        assert time.monotonic() < deadline, "tweepy never polled STATUS"
        time.sleep(0.05)
    admin_https(server, "/clock", "POST", json={"advance_secs": 600})
    uploader.join(timeout=30)
    assert not uploader.is_alive()
    assert result["media"].processing_info == {"state": "succeeded", "progress_percent": 100}
    polls = admin_https(server, "/requests", params={"command": "STATUS"}).json()["requests"]
    assert polls[0]["clock_time"] is None and polls[-1]["clock_time"] is not None


def test_scopes_keep_their_own_clocks(mock):
    worker_a = OAuth1("ck", "cs", "worker-a", "ts")
    worker_b = {"Authorization": "Bearer worker-b"}
    a_id = requests.post(mock.upload_url, auth=worker_a, data={"command": "INIT", "total_bytes": 2,
                                                               "media_type": "video/mp4"}).json()["media_id_string"]
    b_id = requests.post(mock.url("/2/media/upload/initialize"), headers=worker_b,
                         json={"media_type": "video/mp4", "total_bytes": 2}).json()["data"]["id"]
    moved = clock(mock, "POST", "worker-a", advance_secs=DAY)
    assert moved["offset_secs"] == DAY
    assert clock(mock, scope="worker-b")["offset_secs"] == 0 and clock(mock)["offset_secs"] == 0
    a_append = requests.post(mock.upload_url, auth=worker_a, files={
        "command": (None, "APPEND"), "media_id": (None, a_id), "segment_index": (None, "0"), "media": ("b", b"ab")})
    assert a_append.status_code == 400 and "expired" in a_append.json()["error"]
    b_append = requests.post(mock.url(f"/2/media/upload/{b_id}/append"), headers=worker_b,
                             files={"segment_index": (None, "0"), "media": ("b", b"ab")})
    assert b_append.status_code == 200
    assert [u["state"] for u in mock.admin("/uploads").json()["uploads"]] == ["expired", "initialized"]
    [a_entry] = entries(mock, command="APPEND", api="v1.1")
    [b_entry] = entries(mock, command="APPEND", api="v2")
    assert a_entry["clock_time"] is not None and b_entry["clock_time"] is None

    # The server's clock moves every scope that follows it, but not one with its own.
    clock(mock, "POST", advance_secs=3_600)
    assert clock(mock, scope="worker-b")["offset_secs"] == 3_600
    assert clock(mock, scope="worker-a")["offset_secs"] == DAY
    # DELETE with the header: worker-a follows the server again; a scoped reset does the same.
    assert clock(mock, "DELETE", "worker-a")["offset_secs"] == 3_600
    clock(mock, "POST", "worker-b", freeze=True)
    assert mock.admin("/reset", method="POST", headers={"X-Mock-Scope": "worker-b"}).status_code == 200
    assert clock(mock, scope="worker-b")["frozen"] is False
    # The journal's `since` reads the wall clock, whatever the clock says.
    wall = str(time.time())
    clock(mock, "POST", set=EARLIEST)
    init(mock, 1)
    assert [e["command"] for e in entries(mock, since=wall)] == ["INIT"]
    assert clock(mock, "DELETE")["offset_secs"] == 0


def test_scoped_clocks_are_bounded(start_mock):
    server = start_mock({"admin": {"max_scoped_clocks": 2}})
    for scope in ("a", "b"):
        clock(server, "POST", scope, freeze=True)
    refused = server.admin("/clock", method="POST", headers={"X-Mock-Scope": "c"}, json={"freeze": True})
    assert refused.status_code == 409
    assert refused.json() == {"error": "2 scopes have their own clock (admin.max_scoped_clocks): reset one "
                                       "(DELETE /__admin/clock with its X-Mock-Scope) or all of them first"}
    assert clock(server, "POST", "a", advance_secs=1)["frozen"] is True, "a scope that has a clock still moves it"
    clock(server, "DELETE", "a")
    assert clock(server, "POST", "c", freeze=True)["frozen"] is True


def test_config_values_are_checked(start_mock, tmp_path):
    server = start_mock({"processing": {"duration_secs": 0, "duration_secs_by_category": {"TweetGif": 5}}})
    assert server.admin("/health").status_code == 200
    for processing, message in (({"duration_secs": -1}, "processing.duration_secs must be an integer from 0 to 2147483647"),
                                ({"duration_secs_by_category": {"tweet_pdf": 5}}, "processing.duration_secs_by_category.tweet_pdf is not a media_category"),
                                ({"duration_secs_by_category": 5}, "processing.duration_secs_by_category must be an object")):
        with pytest.raises(RuntimeError) as failed:
            MockServer(tmp_path, {"processing": processing})
        assert message in str(failed.value)


def _seconds(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
