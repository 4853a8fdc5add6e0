"""README, Authentication: OAuth 1.0a and bearer authentication, media ownership, self-signed TLS."""
import hashlib
import socket
import ssl
import time

import pytest
import requests
import tweepy
from oauthlib.oauth1 import Client
from requests_oauthlib import OAuth1

from conftest import FIXTURES, UPLOAD_PATH

ALICE = {"user_id": "1", "consumer_key": "ck-alice", "consumer_secret": "cs-alice", "token": "t-alice",
         "token_secret": "ts-alice", "bearer_token": "bearer-alice"}
BOB = {"user_id": "2", "consumer_key": "ck-bob", "consumer_secret": "cs-bob", "token": "t-bob",
       "token_secret": "ts-bob", "bearer_token": "bearer-bob"}
CODE_32 = {"errors": [{"code": 32, "message": "Could not authenticate you."}]}


def oauth(user, **overrides):
    options = {"client_key": user["consumer_key"], "client_secret": user["consumer_secret"],
               "resource_owner_key": user["token"], "resource_owner_secret": user["token_secret"], **overrides}
    return OAuth1(**options)


@pytest.fixture
def oauth_mock(start_mock):
    return start_mock({"auth": {"mode": "oauth1", "users": [ALICE, BOB]},
                       "processing": {"check_after_secs": 0}})


def init(server, auth, **fields):
    return requests.post(server.upload_url, auth=auth,
                         data={"command": "INIT", "total_bytes": 4, "media_type": "video/mp4", **fields})


def last_error(server):
    return server.admin("/requests").json()["requests"][-1]["error"]


def test_correct_signatures_upload_and_own_their_media(oauth_mock):
    response = init(oauth_mock, oauth(ALICE), media_category="tweet_video")
    assert response.status_code == 202, (response.text, last_error(oauth_mock))
    media_id = response.json()["media_id_string"]
    # Multipart APPEND: only the query string and oauth parameters are signed.
    appended = requests.post(oauth_mock.upload_url, auth=oauth(ALICE), params={"command": "APPEND"},
                             files={"media_id": (None, media_id), "segment_index": (None, "0"), "media": ("m", b"abcd")})
    assert appended.status_code == 204, last_error(oauth_mock)
    finalized = requests.post(oauth_mock.upload_url, auth=oauth(ALICE), data={"command": "FINALIZE", "media_id": media_id})
    assert finalized.status_code == 200
    status = requests.get(oauth_mock.upload_url, auth=oauth(ALICE), params={"command": "STATUS", "media_id": media_id})
    assert status.status_code == 200
    assert oauth_mock.upload(media_id)["owner"] == "1"


@pytest.mark.parametrize("case, reason", [
    ("wrong_consumer_secret", "signature mismatch"),
    ("wrong_token_secret", "signature mismatch"),
    ("unknown_consumer", "unknown oauth_consumer_key"),
    ("no_header", "no Authorization header"),
])
def test_bad_credentials_get_401_code_32_and_the_journal_says_why(oauth_mock, case, reason):
    auth = {
        "wrong_consumer_secret": oauth(ALICE, client_secret="nope"),
        "wrong_token_secret": oauth(ALICE, resource_owner_secret="nope"),
        "unknown_consumer": oauth(ALICE, client_key="who"),
        "no_header": None,
    }[case]
    response = init(oauth_mock, auth)
    assert response.status_code == 401
    assert response.json() == CODE_32
    assert reason in last_error(oauth_mock)
    assert oauth_mock.admin("/uploads").json()["uploads"] == []


def test_signing_multipart_fields_is_rejected(oauth_mock):
    """A client that wrongly puts multipart fields into its signature base string."""
    media_id = init(oauth_mock, oauth(ALICE)).json()["media_id_string"]
    fields = {"command": "APPEND", "media_id": media_id, "segment_index": "0"}
    client = Client(ALICE["consumer_key"], ALICE["consumer_secret"], ALICE["token"], ALICE["token_secret"])
    # Sign as if the fields were urlencoded, then send them as multipart.
    _, headers, _ = client.sign(oauth_mock.upload_url, "POST", body=fields,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = requests.post(oauth_mock.upload_url, headers={"Authorization": headers["Authorization"]},
                             files={**{k: (None, v) for k, v in fields.items()}, "media": ("m", b"abcd")})
    assert response.status_code == 401 and response.json() == CODE_32
    assert "multipart fields are never signed" in last_error(oauth_mock)
    assert oauth_mock.upload(media_id)["received_bytes"] == 0


def test_urlencoded_body_and_query_are_signed(oauth_mock):
    media_id = init(oauth_mock, oauth(ALICE)).json()["media_id_string"]
    import base64
    response = requests.post(oauth_mock.upload_url, auth=oauth(ALICE), params={"command": "APPEND"},
                             data={"media_id": media_id, "segment_index": "0",
                                   "media_data": base64.b64encode(b"ab+/").decode()})
    assert response.status_code == 204, last_error(oauth_mock)


def test_stale_timestamp_and_replayed_nonce(oauth_mock):
    stale = oauth(ALICE, timestamp=str(int(time.time()) - 3600))
    response = init(oauth_mock, stale)
    assert response.status_code == 401
    assert "from the server clock" in last_error(oauth_mock)
    replay = oauth(ALICE, nonce="fixed-nonce-1", timestamp=str(int(time.time())))
    assert init(oauth_mock, replay).status_code == 202
    second = init(oauth_mock, replay)
    assert second.status_code == 401 and second.json() == CODE_32
    assert "already used" in last_error(oauth_mock)


def test_nonce_replay_check_can_be_turned_off(start_mock):
    server = start_mock({"auth": {"mode": "oauth1", "users": [ALICE], "reject_replayed_nonces": False}})
    replay = oauth(ALICE, nonce="fixed-nonce-2", timestamp=str(int(time.time())))
    assert [init(server, replay).status_code for _ in range(2)] == [202, 202]


def test_signature_for_the_real_upload_host_is_accepted(oauth_mock):
    client = Client(ALICE["consumer_key"], ALICE["consumer_secret"], ALICE["token"], ALICE["token_secret"])
    body = "command=INIT&total_bytes=4&media_type=video%2Fmp4"
    _, headers, _ = client.sign("https://upload.twitter.com" + UPLOAD_PATH, "POST", body=body,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = requests.post(oauth_mock.upload_url, data=body, headers=headers)
    assert response.status_code == 202, last_error(oauth_mock)


def test_one_user_cannot_append_to_another_users_media(oauth_mock):
    media_id = init(oauth_mock, oauth(ALICE)).json()["media_id_string"]
    response = requests.post(oauth_mock.upload_url, auth=oauth(BOB), params={"command": "APPEND"},
                             files={"media_id": (None, media_id), "segment_index": (None, "0"), "media": ("m", b"abcd")})
    assert response.status_code == 403
    assert "belongs to another user" in response.json()["error"]
    assert oauth_mock.upload(media_id)["received_bytes"] == 0


def test_rate_limits_count_per_user(start_mock):
    server = start_mock({"auth": {"mode": "oauth1", "users": [ALICE, BOB]},
                         "rate_limits": [{"match": {"command": "INIT"}, "limit": 1, "window_secs": 60, "per": "user"}]})
    assert init(server, oauth(ALICE)).status_code == 202
    assert init(server, oauth(ALICE)).status_code == 429
    assert init(server, oauth(BOB)).status_code == 202


@pytest.mark.parametrize("mode", ["none", "verify", "bearer"])
def test_v11_refuses_a_users_bearer_token_with_403_whatever_the_mode(start_mock, mode):
    """v1.1 upload is OAuth 1.0a user context only; the real service answers 403 to OAuth 2.0."""
    server = start_mock({"auth": {"mode": mode, "users": [ALICE], "app_bearer_tokens": ["app-token"]}})
    form = {"command": "INIT", "total_bytes": 4, "media_type": "video/mp4"}
    for token in ["bearer-alice", "app-token"]:
        refused = requests.post(server.upload_url, headers={"Authorization": f"Bearer {token}"}, data=form)
        assert refused.status_code == 403
        assert refused.json() == {"errors": [{"code": 220, "message": "Your credentials do not allow access to this resource."}]}
        assert last_error(server).startswith("authentication refused: ")
    unknown = requests.post(server.upload_url, headers={"Authorization": "Bearer wrong"}, data=form)
    assert unknown.status_code == (202 if mode == "none" else 401)


def test_tweepy_with_oauth_over_self_signed_tls(start_mock, tmp_path):
    trust = tmp_path / "trust"
    server = start_mock({"auth": {"mode": "oauth1", "users": [ALICE]}, "processing": {"check_after_secs": 0}},
                        args=["--tls-self-signed", str(trust)])
    assert server.base_url.startswith("https://")
    api = tweepy.API(tweepy.OAuth1UserHandler(ALICE["consumer_key"], ALICE["consumer_secret"], ALICE["token"],
                                              ALICE["token_secret"]), upload_host=f"localhost:{server.port}")
    api.session.trust_env = False
    api.session.verify = str(trust / "ca.pem")  # only the CA the mock just wrote
    clip = FIXTURES / "media" / "clip.mp4"
    media = api.media_upload(str(clip), chunked=True, media_category="tweet_video")
    assert media.processing_info["state"] == "succeeded"
    png = api.simple_upload(str(FIXTURES / "media" / "pixel.png"))
    assert png.image["w"] == 300
    detail = requests.get(server.url(f"/__admin/uploads/{media.media_id_string}"), verify=str(trust / "ca.pem")).json()
    assert detail["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert detail["owner"] == "1"
    wrong = tweepy.API(tweepy.OAuth1UserHandler(ALICE["consumer_key"], "bad", ALICE["token"], ALICE["token_secret"]),
                       upload_host=f"localhost:{server.port}")
    wrong.session.trust_env = False
    wrong.session.verify = str(trust / "ca.pem")
    with pytest.raises(tweepy.Unauthorized):
        wrong.simple_upload(str(FIXTURES / "media" / "pixel.png"))


# --- upload.x.com, X's current v1.1 host ---

def test_a_signature_made_for_upload_x_com_is_accepted(oauth_mock):
    """node-twitter-api-v2 (>= 1.18) and X's docs sign for https://upload.x.com/1.1/media/upload.json."""
    client = Client(ALICE["consumer_key"], ALICE["consumer_secret"], ALICE["token"], ALICE["token_secret"])
    body = "command=INIT&total_bytes=4&media_type=video%2Fmp4&media_category=TweetVideo"
    _, headers, _ = client.sign("https://upload.x.com" + UPLOAD_PATH, "POST", body=body,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = requests.post(oauth_mock.upload_url, data=body, headers=headers)
    assert response.status_code == 202, last_error(oauth_mock)
    # The same signature does not pass for another host.
    _, headers, _ = client.sign("https://upload.example.com" + UPLOAD_PATH, "POST", body=body,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    refused = requests.post(oauth_mock.upload_url, data=body, headers=headers)
    assert refused.status_code == 401 and "signature mismatch" in last_error(oauth_mock)


class ToMock(requests.adapters.HTTPAdapter):
    """Sends requests made (and signed) for https://upload.x.com to the mock instead."""

    def __init__(self, base_url):
        super().__init__()
        self.base_url = base_url

    def send(self, request, **kwargs):
        request.url = request.url.replace("https://upload.x.com", self.base_url, 1)
        return super().send(request, **kwargs)


def test_tweepy_signing_for_upload_x_com_uploads_and_sets_alt_text(oauth_mock):
    api = tweepy.API(tweepy.OAuth1UserHandler(ALICE["consumer_key"], ALICE["consumer_secret"], ALICE["token"],
                                              ALICE["token_secret"]), upload_host="upload.x.com")
    api.session.mount("https://upload.x.com", ToMock(oauth_mock.base_url))
    clip = FIXTURES / "media" / "clip.mp4"
    media = api.media_upload(str(clip), chunked=True, media_category="TweetVideo")
    assert media.processing_info["state"] == "succeeded"
    image = api.simple_upload(str(FIXTURES / "media" / "pixel.png"))
    api.create_media_metadata(image.media_id_string, "signed for upload.x.com")
    assert oauth_mock.upload(image.media_id_string)["alt_text"] == "signed for upload.x.com"
    assert oauth_mock.upload(media.media_id_string)["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert {e["status"] for e in oauth_mock.admin("/requests").json()["requests"]} <= {200, 201, 202, 204}


def test_json_endpoints_verify_oauth_without_signing_the_body(oauth_mock):
    media_id = init(oauth_mock, oauth(ALICE), total_bytes=4, media_type="image/png").json()["media_id_string"]
    body = '{"media_id":"%s","alt_text":{"text":"signed"}}' % media_id
    headers = {"Content-Type": "application/json;charset=UTF-8"}
    url = oauth_mock.url("/1.1/media/metadata/create.json")
    assert requests.post(url, data=body, headers=headers, auth=oauth(ALICE)).status_code == 200, last_error(oauth_mock)
    wrong = requests.post(url, data=body, headers=headers, auth=oauth(ALICE, client_secret="nope"))
    assert wrong.status_code == 401 and wrong.json() == CODE_32
    assert "signature mismatch" in last_error(oauth_mock)
    other = requests.post(url, data=body, headers=headers, auth=oauth(BOB))
    assert other.status_code == 403 and "belongs to another user" in other.json()["error"]
    assert oauth_mock.upload(media_id)["alt_text"] == "signed"


@pytest.mark.parametrize("mode", ["none", "verify"])
@pytest.mark.parametrize("path", ["/1.1/media/metadata/create.json", "/1.1/media/subtitles/create.json",
                                  "/1.1/media/subtitles/delete.json"])
def test_json_endpoints_refuse_bearer_tokens_with_403(start_mock, mode, path):
    server = start_mock({"auth": {"mode": mode, "users": [ALICE], "app_bearer_tokens": ["app-token"]}})
    for token in ["bearer-alice", "app-token"]:
        response = requests.post(server.url(path), data="{}", headers={"Authorization": f"Bearer {token}",
                                                                       "Content-Type": "application/json"})
        assert response.status_code == 403
        assert response.json() == {"errors": [{"code": 220, "message": "Your credentials do not allow access to this resource."}]}
        assert last_error(server).startswith("authentication refused: ")


def test_self_signed_certificate_names_the_x_hosts(start_mock, tmp_path):
    trust = tmp_path / "trust"
    server = start_mock(args=["--tls-self-signed", str(trust)])
    context = ssl.create_default_context(cafile=str(trust / "ca.pem"))
    for name in ["upload.x.com", "api.x.com", "api.twitter.com", "upload.twitter.com", "localhost"]:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=name) as tls:
                assert tls.version()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname="example.com")


@pytest.mark.parametrize("where", ["header", "query"])
def test_a_duplicated_oauth_parameter_is_a_400(start_mock, where):
    """RFC 5849 §3.2: a protocol parameter sent twice is a bad request, whatever else is right."""
    server = start_mock({"auth": {"mode": "verify", "users": [ALICE]}})
    signed = requests.Request("POST", server.upload_url, auth=oauth(ALICE),
                              data={"command": "INIT", "total_bytes": 4, "media_type": "video/mp4"}).prepare()
    if where == "header":
        signed.headers["Authorization"] = signed.headers["Authorization"].decode() + ', oauth_nonce="again"'
    else:
        signed.prepare_url(signed.url, {"oauth_nonce": "again"})
    response = requests.Session().send(signed)
    assert response.status_code == 400 and response.json() == CODE_32
    assert "oauth_nonce is sent more than once" in last_error(server)
