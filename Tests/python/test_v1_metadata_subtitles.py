"""docs/api.md, Alt text and subtitles: media/metadata/create.json and media/subtitles/{create,delete}.json."""
import json
from decimal import Decimal

import pytest
import requests
import tweepy

from conftest import FIXTURES, append, finalize, init

MEDIA = FIXTURES / "media"
TLS = FIXTURES / "tls"
METADATA = "/1.1/media/metadata/create.json"
SUBTITLES_CREATE = "/1.1/media/subtitles/create.json"
SUBTITLES_DELETE = "/1.1/media/subtitles/delete.json"
NODE_JSON = {"Content-Type": "application/json;charset=UTF-8"}  # what node-twitter-api-v2 sends
INVALID_JSON_PAYLOAD = '{"request":"\\/1.1\\/media\\/metadata\\/create.json","error":"Invalid json payload."}'
SRT = b"1\n00:00:00,000 --> 00:00:01,000\nHello\n"


def uploaded(server, data, media_type, category=None):
    extra = {"media_category": category} if category else {}
    media_id = init(server, len(data), media_type, **extra)
    assert append(server, media_id, 0, data).status_code == 204
    assert finalize(server, media_id).status_code in (200, 201)
    return media_id


def png(server):
    response = requests.post(server.upload_url, files={"media": ("pixel.png", (MEDIA / "pixel.png").read_bytes())})
    return response.json()["media_id_string"]


def post_json(server, path, document, headers=NODE_JSON):
    return requests.post(server.url(path), data=json.dumps(document, separators=(",", ":")), headers=headers)


def journal(server):
    return server.admin("/requests").json()["requests"]


# --- metadata/create ---

def test_node_style_alt_text_answers_200_with_an_empty_body(mock):
    media_id = png(mock)
    response = post_json(mock, METADATA, {"media_id": media_id, "alt_text": {"text": "A pixel, up close"}})
    assert response.status_code == 200
    assert response.content == b"" and response.headers["content-length"] == "0"
    assert mock.upload(media_id)["alt_text"] == "A pixel, up close"
    entry = journal(mock)[-1]
    assert (entry["api"], entry["command"], entry["media_id"], entry["status"]) == ("v1.1", "METADATA", media_id, 200)


def test_tweepy_create_media_metadata_end_to_end(start_mock):
    server = start_mock(args=["--tls-cert", str(TLS / "server.pem"), "--tls-key", str(TLS / "server-key.pem")])
    api = tweepy.API(tweepy.OAuth1UserHandler("ck", "cs", "t", "ts"), upload_host=f"localhost:{server.port}")
    api.session.trust_env = False
    api.session.verify = str(TLS / "ca.pem")
    media = api.simple_upload(str(MEDIA / "pixel.png"))
    # tweepy sends the id as the caller gave it: an int here, Python's json spacing.
    assert api.create_media_metadata(media.media_id, "first") is None
    assert api.create_media_metadata(media.media_id_string, "Zweiter Versuch: ÄÖÜ ✓") is None
    detail = requests.get(server.url(f"/__admin/uploads/{media.media_id_string}"), verify=str(TLS / "ca.pem")).json()
    assert detail["alt_text"] == "Zweiter Versuch: ÄÖÜ ✓"
    with pytest.raises(tweepy.BadRequest):
        api.create_media_metadata(media.media_id, "x" * 1001)


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=UTF-8", "text/plain; charset=UTF-8",
                                          "TEXT/PLAIN"])
def test_documented_content_types_are_accepted(mock, content_type):
    media_id = png(mock)
    response = post_json(mock, METADATA, {"media_id": int(media_id), "alt_text": {"text": "ok"}},
                         headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("case, reason", [
    ("form_encoded", "Content-Type application/x-www-form-urlencoded"),
    ("no_content_type", "Content-Type (none)"),
    ("malformed", "the body is not JSON"),
    ("not_an_object", "not a JSON object"),
    ("alt_text_string", "alt_text must be an object"),
    ("no_alt_text", "alt_text is missing"),
    ("text_not_string", "alt_text.text must be a string"),
    ("no_media_id", "media_id is missing"),
    ("media_id_float", "media_id must be a decimal string or an integer"),
    ("duplicate_key", "the body is not JSON"),
])
def test_bodies_the_real_service_cannot_read_get_the_recorded_400(mock, case, reason):
    media_id = png(mock)
    body = json.dumps({"media_id": media_id, "alt_text": {"text": "x"}})
    headers = {"Content-Type": "application/json"}
    if case == "form_encoded":
        body, headers = {"media_id": media_id, "alt_text": "x"}, None
    elif case == "no_content_type":
        headers = {}
    elif case == "malformed":
        body = body[:-1]
    elif case == "not_an_object":
        body = json.dumps([media_id])
    elif case == "alt_text_string":
        body = json.dumps({"media_id": media_id, "alt_text": "Rainbow!"})
    elif case == "no_alt_text":
        body = json.dumps({"media_id": media_id})
    elif case == "text_not_string":
        body = json.dumps({"media_id": media_id, "alt_text": {"text": 5}})
    elif case == "no_media_id":
        body = json.dumps({"alt_text": {"text": "x"}})
    elif case == "media_id_float":
        body = '{"media_id": 1.5e18, "alt_text": {"text": "x"}}'
    elif case == "duplicate_key":
        body = '{"media_id": "%s", "media_id": "%s", "alt_text": {"text": "x"}}' % (media_id, media_id)
    response = requests.post(mock.url(METADATA), data=body, headers=headers)
    assert response.status_code == 400
    assert response.text == INVALID_JSON_PAYLOAD
    assert reason in journal(mock)[-1]["error"]
    assert mock.upload(media_id)["alt_text"] is None


def test_alt_text_is_limited_to_1000_characters(mock):
    media_id = png(mock)
    assert post_json(mock, METADATA, {"media_id": media_id, "alt_text": {"text": "é" * 1000}}).status_code == 200
    response = post_json(mock, METADATA, {"media_id": media_id, "alt_text": {"text": "a" * 1001}})
    assert response.status_code == 400
    assert response.json() == {"request": METADATA,
                               "error": "The alt text is 1001 characters long; it may have at most 1000."}
    assert mock.upload(media_id)["alt_text"] == "é" * 1000


def test_a_javascript_client_that_read_media_id_as_a_number_hits_an_unknown_id(mock):
    """node-style: JSON.stringify(body.media_id) for a double; ids above 2^53 do not survive it."""
    ids = [png(mock) for _ in range(20)]
    rounded = [(media_id, format(Decimal(repr(float(int(media_id)))), "f")) for media_id in ids]
    media_id, as_javascript = next((exact, js) for exact, js in rounded if js != exact)
    response = requests.post(mock.url(METADATA), data='{"media_id":%s,"alt_text":{"text":"x"}}' % as_javascript,
                             headers=NODE_JSON)
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"Invalid media_id: Some({as_javascript}).")
    assert mock.upload(media_id)["alt_text"] is None
    assert post_json(mock, METADATA, {"media_id": media_id, "alt_text": {"text": "x"}}).status_code == 200


def test_metadata_rate_limits_and_faults_apply(mock):
    media_id = png(mock)
    first = post_json(mock, METADATA, {"media_id": media_id, "alt_text": {"text": "a"}})
    assert "x-rate-limit-limit" not in first.headers  # v1.1 never published one: no default rule
    mock.admin("/rate-limits", method="POST", json={"match": {"command": "METADATA"}, "limit": 1, "window_secs": 60})
    assert post_json(mock, METADATA, {"media_id": media_id, "alt_text": {"text": "b"}}).headers["x-rate-limit-remaining"] == "0"
    limited = post_json(mock, METADATA, {"media_id": media_id, "alt_text": {"text": "c"}})
    assert limited.status_code == 429 and limited.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    assert journal(mock)[-1]["rate_limit"].startswith("rule ")
    mock.admin("/rate-limits", method="DELETE")
    mock.admin("/faults", method="POST", json={"match": {"command": "METADATA"}, "action": {"status": 503}, "times": 1})
    faulted = post_json(mock, METADATA, {"media_id": media_id, "alt_text": {"text": "d"}})
    assert faulted.status_code == 503 and faulted.json() == {"errors": [{"code": 130, "message": "Over capacity"}]}
    assert journal(mock)[-1]["fault"].startswith("rule ")
    assert mock.upload(media_id)["alt_text"] == "b"


def test_oversize_body_and_wrong_method(mock):
    response = requests.post(mock.url(METADATA), data=b"{" + b" " * 70_000 + b"}", headers=NODE_JSON)
    assert response.status_code == 413
    assert "65536-byte limit" in response.json()["error"]
    assert journal(mock)[-1]["status"] == 413
    response = requests.get(mock.url(METADATA))
    assert response.status_code == 405


# --- subtitles/create and subtitles/delete ---

def test_node_style_subtitles_create_and_delete(mock):
    video = uploaded(mock, b"not really a video", "video/mp4", "TweetVideo")
    captions = uploaded(mock, SRT, "text/plain", "Subtitles")  # node-twitter-api-v2's MIME type for .srt
    created = post_json(mock, SUBTITLES_CREATE, {"media_id": video, "media_category": "TweetVideo", "subtitle_info": {
        "subtitles": [{"media_id": captions, "language_code": "EN", "display_name": "English"}]}})
    assert created.status_code == 200 and created.content == b""
    assert mock.upload(video)["subtitles"] == [{"media_id": captions, "language_code": "EN", "display_name": "English"}]
    deleted = post_json(mock, SUBTITLES_DELETE, {"media_id": video, "media_category": "TweetVideo",
                                                 "subtitle_info": {"subtitles": [{"language_code": "EN"}]}})
    assert deleted.status_code == 200 and deleted.content == b""
    assert mock.upload(video)["subtitles"] == []
    assert [(e["command"], e["media_id"], e["status"]) for e in journal(mock)[-2:]] == \
        [("SUBTITLES_CREATE", video, 200), ("SUBTITLES_DELETE", video, 200)]


@pytest.mark.parametrize("category", ["tweet_video", "amplify_video", "AMPLIFY_VIDEO", None])
def test_subtitles_category_in_any_spelling_and_ids_as_numbers(mock, category):
    """Symfony sends tweet_video and x.com amplify_video; ids may be JSON integers."""
    video = uploaded(mock, b"video bytes", "video/mp4", "amplify_video")
    english, dutch = uploaded(mock, SRT, "text/srt", "subtitles"), uploaded(mock, b"WEBVTT\n", "text/vtt", "subtitles")
    document = {"media_id": int(video), "subtitle_info": {"subtitles": [
        {"media_id": int(english), "language_code": "en", "display_name": "English"},
        {"media_id": int(dutch), "language_code": "nl"}]}}
    if category:
        document["media_category"] = category
    response = post_json(mock, SUBTITLES_CREATE, document)
    assert response.status_code == 200, response.text
    assert mock.upload(video)["subtitles"] == [
        {"media_id": english, "language_code": "en", "display_name": "English"},
        {"media_id": dutch, "language_code": "nl", "display_name": None}]


def test_subtitles_refusals_store_nothing(mock):
    video = uploaded(mock, b"video bytes", "video/mp4", "tweet_video")
    captions = uploaded(mock, SRT, "text/plain", "subtitles")
    image = png(mock)

    def create(media_id, *tracks, **extra):
        return post_json(mock, SUBTITLES_CREATE, {"media_id": media_id, **extra, "subtitle_info": {"subtitles": [
            {"media_id": track, "language_code": "EN", "display_name": "English"} for track in tracks]}})
    unknown = create("1234567890123456789", captions)
    assert unknown.status_code == 404  # documented for a wrong media_id
    assert unknown.json()["error"].startswith("Invalid media_id: Some(1234567890123456789).")
    assert create(image, captions).json() == {"request": SUBTITLES_CREATE,
                                             "error": f"Media id {image} is not a video: subtitles attach to videos only."}
    both = create(video, captions, image)
    assert both.status_code == 400 and both.json()["error"].startswith(f"Media id {image} is not a subtitles file")
    bad_category = create(video, captions, media_category="TweetPdf")
    assert bad_category.status_code == 400 and bad_category.json()["error"].startswith("Invalid media_category 'TweetPdf'")
    empty = create(video)
    assert empty.status_code == 400 and empty.json()["error"] == "Invalid json payload."
    assert "non-empty list" in journal(mock)[-1]["error"]
    assert mock.upload(video)["subtitles"] == []
    missing = post_json(mock, SUBTITLES_DELETE, {"media_id": video, "subtitle_info": {"subtitles": [{"language_code": "FR"}]}})
    assert missing.status_code == 400
    assert missing.json()["error"] == f"Media id {video} has no subtitles in language FR."
