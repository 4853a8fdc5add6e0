"""docs/api-v2.md with real clients from PyPI: xdk (X's official SDK) and python-twitter-v2, each
uploading a chunked video (polling STATUS) and a one-shot image, the bytes checked by SHA-256
through the admin API. Authentication is verified, so every signature and token is checked."""
import base64
import hashlib
import time

import pytest
import pytwitter
from xdk import Client
from xdk.media.models import (AppendUploadRequest, CreateMetadataRequest, CreateSubtitlesRequest,
                              DeleteSubtitlesRequest, InitializeUploadRequest, UploadRequest)
from xdk.oauth1_auth import OAuth1

from conftest import FIXTURES

MEDIA = FIXTURES / "media"
# python-twitter-v2 reads the user id from an access token of the form "<id>-<secret>".
ALICE = {"user_id": "1", "consumer_key": "ck-alice", "consumer_secret": "cs-alice", "token": "1-alicetoken",
         "token_secret": "ts-alice", "bearer_token": "user-token-alice"}
BOB = {"user_id": "2", "bearer_token": "user-token-bob"}


V2_CONFIG = {"auth": {"mode": "verify", "users": [ALICE, BOB], "app_bearer_tokens": ["app-only-token"]},
             "processing": {"check_after_secs": 0, "polls_until_done": 2}}


@pytest.fixture
def v2_mock(start_mock):
    return start_mock(V2_CONFIG)


@pytest.fixture
def pytwitter_mock(start_mock):
    """python-twitter-v2 0.9.3 sends its appends without segment_index: the switch that stores
    them as the next segment is on (docs/api-v2.md)."""
    return start_mock({**V2_CONFIG, "compatibility": {"infer_v2_segment_index": True}})


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def journal(server):
    return server.admin("/requests").json()["requests"]


def xdk_oauth2(server):
    return Client(base_url=server.base_url, access_token=ALICE["bearer_token"])


def xdk_oauth1(server):
    return Client(base_url=server.base_url, auth=OAuth1(
        api_key=ALICE["consumer_key"], api_secret=ALICE["consumer_secret"], callback="oob",
        access_token=ALICE["token"], access_token_secret=ALICE["token_secret"]))


def xdk_chunked_video(client, data, chunk=512 * 1024):
    """The SDK's documented flow: initialize, base64 JSON appends, finalize, poll STATUS."""
    media_id = client.media.initialize_upload(body=InitializeUploadRequest(
        media_type="video/mp4", total_bytes=len(data), media_category="tweet_video")).data.id
    for index, start in enumerate(range(0, len(data), chunk)):
        appended = client.media.append_upload(id=media_id, body=AppendUploadRequest(
            media=base64.b64encode(data[start:start + chunk]).decode(), segment_index=index))
        assert appended.data.expires_at > time.time() + 86000
    states = []
    status = client.media.finalize_upload(id=media_id).data
    states.append(status.processing_info.state)
    while status.processing_info and status.processing_info.state in ("pending", "in_progress"):
        time.sleep(status.processing_info.check_after_secs or 0)
        status = client.media.get_upload_status(media_id=media_id, command="STATUS").data
        states.append(status.processing_info.state)
    return media_id, status, states


@pytest.mark.parametrize("auth", ["oauth2_user_token", "oauth1"])
def test_xdk_chunked_video_with_status_polling(v2_mock, auth):
    client = xdk_oauth2(v2_mock) if auth == "oauth2_user_token" else xdk_oauth1(v2_mock)
    data = (MEDIA / "clip.mp4").read_bytes()
    media_id, status, states = xdk_chunked_video(client, data)
    assert states == ["pending", "in_progress", "succeeded"]
    assert status.id == media_id and status.media_key == f"7_{media_id}" and status.size == len(data)
    detail = v2_mock.upload(media_id)
    assert detail["sha256"] == sha256(data) and detail["state"] == "succeeded"
    assert [segment["bytes"] for segment in detail["segments"]] == [524288, 524288, 451424]
    assert detail["owner"] == "1"
    entries = journal(v2_mock)
    assert {entry["api"] for entry in entries} == {"v2"}
    assert [entry["command"] for entry in entries] == ["INIT", "APPEND", "APPEND", "APPEND", "FINALIZE", "STATUS", "STATUS"]
    assert all(entry["error"] is None for entry in entries), entries


def test_xdk_one_shot_image_and_alt_text(v2_mock):
    client = xdk_oauth2(v2_mock)
    png = (MEDIA / "pixel.png").read_bytes()
    uploaded = client.media.upload(body=UploadRequest(media=base64.b64encode(png).decode(), media_category="tweet_image")).data
    assert uploaded.image.image_type == "image/png" and (uploaded.image.w, uploaded.image.h) == (300, 200)
    assert uploaded.media_key == f"3_{uploaded.id}" and uploaded.size == len(png)
    metadata = client.media.create_metadata(body=CreateMetadataRequest(
        id=uploaded.id, metadata={"alt_text": {"text": "A test pattern"}, "sensitive_media_warning": {"other": True}})).data
    assert metadata.id == uploaded.id
    assert metadata.associated_metadata == {"alt_text": {"text": "A test pattern"}, "sensitive_media_warning": {"other": True}}
    detail = v2_mock.upload(uploaded.id)
    assert detail["sha256"] == sha256(png) and detail["alt_text"] == "A test pattern"
    assert detail["metadata"] == {"sensitive_media_warning": {"other": True}}


def test_xdk_subtitles_attach_and_detach(v2_mock):
    client = xdk_oauth1(v2_mock)
    video_id, _, _ = xdk_chunked_video(client, (MEDIA / "clip.mp4").read_bytes())
    srt = b"1\n00:00:00,000 --> 00:00:01,000\nHello\n"
    srt_id = client.media.initialize_upload(body=InitializeUploadRequest(
        media_type="text/srt", total_bytes=len(srt), media_category="subtitles")).data.id
    client.media.append_upload(id=srt_id, body=AppendUploadRequest(media=base64.b64encode(srt).decode(), segment_index=0))
    assert client.media.finalize_upload(id=srt_id).data.processing_info is None
    created = client.media.create_subtitles(body=CreateSubtitlesRequest(
        id=video_id, media_category="TweetVideo",
        subtitles={"id": srt_id, "language_code": "EN", "display_name": "English"})).data
    assert (created.id, created.media_category) == (video_id, "TweetVideo")
    assert created.associated_subtitles == {"id": srt_id, "language_code": "EN", "display_name": "English"}
    assert v2_mock.upload(video_id)["subtitles"] == [{"media_id": srt_id, "language_code": "EN", "display_name": "English"}]
    deleted = client.media.delete_subtitles(body=DeleteSubtitlesRequest(
        id=video_id, language_code="EN", media_category="TweetVideo")).data
    assert deleted.deleted is True
    assert v2_mock.upload(video_id)["subtitles"] == []


def test_xdk_sees_the_real_refusals(v2_mock):
    client = Client(base_url=v2_mock.base_url, access_token="not-a-user-token")
    with pytest.raises(Exception) as refused:
        client.media.initialize_upload(body=InitializeUploadRequest(media_type="video/mp4", total_bytes=1))
    assert refused.value.response.status_code == 401
    assert refused.value.response.json() == {"title": "Unauthorized", "type": "about:blank", "status": 401,
                                             "detail": "Unauthorized"}
    client = xdk_oauth2(v2_mock)
    with pytest.raises(Exception) as refused:
        client.media.append_upload(id="1", body=AppendUploadRequest(media="YWJj", segment_index=0))
    assert refused.value.response.status_code == 400
    assert refused.value.response.json()["errors"] == [{"parameters": {"id": ["1"]}, "message": "BadRequest: Not found"}]


class LocalApi(pytwitter.Api):
    """python-twitter-v2 hard-codes https://api.x.com/2: the class attribute redirects it."""
    BASE_URL_V2 = None


def pytwitter_api(server, auth):
    api_class = type("LocalApi", (LocalApi,), {"BASE_URL_V2": server.base_url + "/2"})
    if auth == "bearer":
        return api_class(bearer_token=ALICE["bearer_token"])
    return api_class(consumer_key=ALICE["consumer_key"], consumer_secret=ALICE["consumer_secret"],
                     access_token=ALICE["token"], access_secret=ALICE["token_secret"])


@pytest.mark.parametrize("auth", ["bearer", "oauth1"])
def test_pytwitter_chunked_video_and_one_shot_image(pytwitter_mock, auth):
    api = pytwitter_api(pytwitter_mock, auth)
    data = (MEDIA / "clip.mp4").read_bytes()
    chunk = 512 * 1024
    media_id = api.upload_media_chunked_init_v2(total_bytes=len(data), media_type="video/mp4",
                                                media_category="tweet_video").data.id
    for index, start in enumerate(range(0, len(data), chunk)):
        assert api.upload_media_chunked_append_v2(media_id=media_id, segment_index=index, media=data[start:start + chunk])
    info = api.upload_media_chunked_finalize_v2(media_id=media_id).data.processing_info
    states = [info.state]
    while info and info.state in ("pending", "in_progress"):
        time.sleep(info.check_after_secs or 0)
        info = api.upload_media_chunked_status_v2(media_id=media_id).data.processing_info
        states.append(info.state)
    assert states == ["pending", "in_progress", "succeeded"]
    detail = pytwitter_mock.upload(media_id)
    assert detail["sha256"] == sha256(data) and detail["segment_count"] == 3
    # Its appends carry no segment_index: with the switch on each is stored as the next
    # segment, and journaled so.
    appends = [entry for entry in journal(pytwitter_mock) if entry["command"] == "APPEND"]
    assert [entry["segment_index"] for entry in appends] == [0, 1, 2]
    assert all("segment_index was not sent" in entry["note"] for entry in appends)

    jpeg = (MEDIA / "photo.jpg").read_bytes()
    answer = api.upload_media_simple_v2(media=jpeg, media_category="tweet_image", return_json=True)
    assert answer["data"]["image"] == {"image_type": "image/jpeg", "w": 640, "h": 480}
    assert pytwitter_mock.upload(answer["data"]["id"])["sha256"] == sha256(jpeg)
    # The spec wraps the answer in `data`; the library's own model reads the top level
    # (docs/fidelity.md), so without return_json it finds no id.
    assert api.upload_media_simple_v2(media=jpeg, media_category="tweet_image").id is None


def test_pytwitter_appends_are_refused_without_the_switch(v2_mock):
    api = pytwitter_api(v2_mock, "bearer")
    media_id = api.upload_media_chunked_init_v2(total_bytes=3, media_type="video/mp4", media_category="tweet_video").data.id
    with pytest.raises(pytwitter.PyTwitterError) as refused:
        api.upload_media_chunked_append_v2(media_id=media_id, segment_index=0, media=b"abc")
    assert refused.value.message["errors"] == [
        {"parameters": {"$.segment_index": []}, "message": "$.segment_index: is missing but it is required"}]
    [entry] = [entry for entry in journal(v2_mock) if entry["command"] == "APPEND"]
    assert "compatibility.infer_v2_segment_index" in entry["error"]
    assert v2_mock.upload(media_id)["received_bytes"] == 0


def test_pytwitter_app_only_token_gets_the_recorded_403(v2_mock):
    api = type("AppApi", (LocalApi,), {"BASE_URL_V2": v2_mock.base_url + "/2"})(bearer_token="app-only-token")
    with pytest.raises(pytwitter.PyTwitterError) as refused:
        api.upload_media_chunked_init_v2(total_bytes=10, media_type="video/mp4")
    assert refused.value.message == {
        "title": "Unsupported Authentication",
        "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
                  "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
        "type": "https://api.twitter.com/2/problems/unsupported-authentication", "status": 403}
