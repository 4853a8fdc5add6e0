"""docs/fidelity.md over real HTTP: v1.1 answers as recorded, byte for byte where a recording exists."""
import time
from decimal import Decimal
from email.utils import parsedate_to_datetime

import pytest
import requests

from conftest import FIXTURES, append, finalize, init, request_error

MEDIA = FIXTURES / "media"
PAGE_DOES_NOT_EXIST = '{"errors":[{"message":"Sorry, that page does not exist","code":34}]}'
SNOWFLAKE_EPOCH_MS = 1288834974657


def upload_whole(server, data, media_type, chunk=1_000_000, **extra):
    media_id = init(server, len(data), media_type, **extra)
    for index, start in enumerate(range(0, len(data), chunk)):
        assert append(server, media_id, index, data[start:start + chunk]).status_code == 204
    return media_id


def status(server, media_id):
    return requests.get(server.upload_url, params={"command": "STATUS", "media_id": media_id})


def last_journal_entry(server):
    return server.admin("/requests").json()["requests"][-1]


# --- media_category, media types, media keys ---

@pytest.mark.parametrize("category, prefix", [
    ("TweetVideo", "7_"), ("tweet_video", "7_"), ("TWEET_VIDEO", "7_"), ("tweetvideo", "7_"), ("DmVideo", "7_"),
    ("amplify_video", "13_"), ("AmplifyVideo", "13_"),
])
def test_video_category_in_any_spelling_and_its_media_key(mock, category, prefix):
    response = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 10, "media_type": "video/mp4",
                                                    "media_category": category})
    assert response.status_code == 202, response.text
    body = response.json()
    assert list(body) == ["media_id", "media_id_string", "expires_after_secs", "media_key"]
    assert body["media_key"] == prefix + body["media_id_string"]


@pytest.mark.parametrize("media_type, category, stored, prefix", [
    ("image/png", "TweetImage", "tweet_image", "3_"), ("image/jpeg", "DmImage", "dm_image", "3_"),
    ("image/gif", "TweetGif", "tweet_gif", "16_"), ("image/gif", "DmGif", "dm_gif", "16_"),
    ("text/plain", "Subtitles", "subtitles", "21_"), ("text/srt", "SUBTITLES", "subtitles", "21_"),
])
def test_node_twitter_api_v2_categories_are_accepted(mock, media_type, category, stored, prefix):
    response = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 10, "media_type": media_type,
                                                    "media_category": category})
    assert response.status_code == 202, response.text
    assert response.json()["media_key"] == prefix + response.json()["media_id_string"]
    assert mock.upload(response.json()["media_id_string"])["media_category"] == stored


def test_an_unknown_category_is_refused_everywhere_v1_reads_it(mock):
    response = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 10, "media_type": "video/mp4",
                                                    "media_category": "TweetPdf"})
    assert response.status_code == 400
    assert request_error(response).startswith("Invalid media_category 'TweetPdf'")
    response = requests.post(mock.upload_url, data={"media_category": "TweetPdf"},
                             files={"media": ("pixel.png", (MEDIA / "pixel.png").read_bytes())})
    assert response.status_code == 400
    assert request_error(response).startswith("Invalid media_category 'TweetPdf'")
    assert mock.admin("/uploads").json()["uploads"] == []


def test_one_shot_upload_reads_the_category_in_any_case(mock):
    response = requests.post(mock.upload_url, data={"media_category": "TweetImage"},
                             files={"media": ("pixel.png", (MEDIA / "pixel.png").read_bytes())})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["media_key"] == "3_" + body["media_id_string"]
    assert mock.upload(body["media_id_string"])["media_category"] == "tweet_image"


@pytest.mark.parametrize("media_type", [
    "video/mp4", "video/webm", "video/mp2t", "video/quicktime", "text/srt", "text/vtt", "image/jpeg", "image/gif",
    "image/bmp", "image/png", "image/webp", "image/pjpeg", "image/tiff", "model/gltf-binary", "model/vnd.usdz+zip",
    "text/plain", "image/jpg", "video/mpeg", "application/x-subrip", "VIDEO/MP4",
])
def test_every_known_media_type_passes_init(mock, media_type):
    init(mock, 10, media_type)


@pytest.mark.parametrize("name, media_type, width, height", [
    ("bitmap.bmp", "image/bmp", 120, 90), ("scan.tiff", "image/tiff", 130, 95), ("big-endian.tiff", "image/tiff", 256, 100),
])
def test_bmp_and_tiff_finalize_with_their_real_size(mock, name, media_type, width, height):
    data = (MEDIA / name).read_bytes()
    media_id = upload_whole(mock, data, media_type, chunk=30_000)
    response = finalize(mock, media_id)
    assert response.status_code == 201, response.text
    assert response.json()["image"] == {"image_type": media_type, "w": width, "h": height}
    one_shot = requests.post(mock.upload_url, files={"media": (name, data)})
    assert one_shot.json()["image"] == {"image_type": media_type, "w": width, "h": height}


@pytest.mark.parametrize("media_type, category, key", [
    ("model/gltf-binary", None, None), ("model/vnd.usdz+zip", None, None), ("text/vtt", "subtitles", "21_"),
])
def test_models_and_subtitles_finalize_without_image_or_video(mock, media_type, category, key):
    extra = {"media_category": category} if category else {}
    media_id = upload_whole(mock, b"glTF\x02\x00\x00\x00" + b"\x00" * 24, media_type, **extra)
    response = finalize(mock, media_id)
    assert response.status_code == 201
    body = response.json()
    expected = ["media_id", "media_id_string"] + (["media_key"] if key else []) + ["size", "expires_after_secs"]
    assert list(body) == expected
    assert response.headers["x-mediaid"] == media_id


# --- Snowflake ids ---

def test_media_ids_are_snowflakes_a_javascript_number_cannot_hold(mock):
    """A JS client that reads media_id as a number (a double) gets a different id."""
    started = time.time() * 1000
    bodies = [requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"}).json()
              for _ in range(20)]
    for body in bodies:
        media_id = body["media_id"]
        assert media_id > 2**53 and str(media_id) == body["media_id_string"]
        made = (media_id >> 22) + SNOWFLAKE_EPOCH_MS
        assert started - 1 <= made <= time.time() * 1000 + 1
    ids = [body["media_id"] for body in bodies]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # JavaScript's Number(text).toString(): the shortest round-trip digits, padded with zeros.
    as_javascript = [format(Decimal(repr(float(media_id))), "f") for media_id in ids]
    assert any(text != str(media_id) for text, media_id in zip(as_javascript, ids))


# --- FINALIZE and STATUS shapes ---

def test_sync_finalize_is_201_with_x_mediaid_and_the_recorded_bytes(mock):
    media_id = upload_whole(mock, b"abcdef", "video/mp4")
    response = finalize(mock, media_id)
    assert response.status_code == 201
    assert response.headers["x-mediaid"] == media_id
    assert response.text == ('{"media_id":%s,"media_id_string":"%s","size":6,"expires_after_secs":86400,'
                             '"video":{"video_type":"video\\/mp4"}}' % (media_id, media_id))


def test_one_shot_upload_carries_no_x_mediaid(mock):
    response = requests.post(mock.upload_url, files={"media": ("banner.png", (MEDIA / "pixel.png").read_bytes())})
    assert response.status_code == 200
    assert "x-mediaid" not in response.headers
    body = response.json()
    assert response.text == ('{"media_id":%s,"media_id_string":"%s","size":%d,"expires_after_secs":86400,'
                             '"image":{"image_type":"image\\/png","w":300,"h":200}}'
                             % (body["media_id"], body["media_id_string"], body["size"]))
    assert response.headers["x-rate-limit-limit"] == "415"


def test_async_finalize_is_200_without_x_mediaid_or_media_object(mock):
    media_id = upload_whole(mock, b"abc", "video/mp4", media_category="TweetVideo")
    response = finalize(mock, media_id)
    assert response.status_code == 200
    assert "x-mediaid" not in response.headers
    assert response.text == ('{"media_id":%s,"media_id_string":"%s","media_key":"7_%s","size":3,"expires_after_secs":86400,'
                             '"processing_info":{"state":"pending","check_after_secs":0}}' % (media_id, media_id, media_id))


def test_status_key_sets_while_processing_and_once_succeeded(mock):
    media_id = upload_whole(mock, b"abc", "video/mp4", media_category="tweet_video")
    finalize(mock, media_id)
    polled = status(mock, media_id)
    assert polled.status_code == 200
    assert list(polled.json()) == ["media_id", "media_id_string", "media_key", "size", "expires_after_secs", "processing_info"]
    assert polled.json()["processing_info"] == {"state": "in_progress", "check_after_secs": 0, "progress_percent": 50}
    done = status(mock, media_id)
    assert list(done.json()) == ["media_id", "media_id_string", "media_key", "size", "expires_after_secs", "video",
                                 "processing_info"]
    assert done.json()["video"] == {"video_type": "video/mp4"}
    assert done.json()["processing_info"] == {"state": "succeeded", "progress_percent": 100}
    again = finalize(mock, media_id)  # FINALIZE is idempotent and answers the current state
    assert again.json()["processing_info"]["state"] == "succeeded" and again.status_code == 200


def test_failed_status_has_no_expiry_no_check_after_and_an_error_without_message(start_mock):
    server = start_mock({"processing": {"check_after_secs": 0, "polls_until_done": 1, "result": "failed",
                                        "error": {"code": 1, "name": "InvalidMedia"}, "error_progress_percent": 99}})
    gif = (MEDIA / "animated.gif").read_bytes()
    media_id = upload_whole(server, gif, "image/gif", media_category="TweetGif")
    assert finalize(server, media_id).json()["processing_info"]["state"] == "pending"
    failed = status(server, media_id)
    assert failed.status_code == 200
    assert failed.text == ('{"media_id":%s,"media_id_string":"%s","media_key":"16_%s","size":%d,"processing_info":'
                           '{"state":"failed","progress_percent":99,"error":{"code":1,"name":"InvalidMedia"}}}'
                           % (media_id, media_id, media_id, len(gif)))
    assert server.upload(media_id)["state"] == "failed"


def test_an_error_can_arrive_while_still_in_progress_and_stays(start_mock):
    error = {"code": 1, "name": "InvalidMedia", "message": "file is invalid"}
    server = start_mock({"processing": {"check_after_secs": 0, "polls_until_done": 2, "result": "failed", "error": error,
                                        "error_state": "in_progress"}})
    media_id = upload_whole(server, b"abcd", "video/mp4", media_category="tweet_video")
    finalize(server, media_id)
    assert status(server, media_id).json()["processing_info"] == {"state": "in_progress", "check_after_secs": 0,
                                                                  "progress_percent": 50}
    # A client that polls until the state changes never stops; one that checks `error` does.
    for _ in range(5):
        body = status(server, media_id).json()
        assert list(body) == ["media_id", "media_id_string", "media_key", "size", "processing_info"]
        assert body["processing_info"] == {"state": "in_progress", "progress_percent": 100, "error": error}
    assert server.upload(media_id)["state"] == "failed"


@pytest.mark.parametrize("how", ["one_shot_image", "chunked_image", "sync_video"])
def test_status_of_media_that_needs_no_processing_is_404_code_34(mock, how):
    if how == "one_shot_image":
        media_id = requests.post(mock.upload_url, files={"media": ("p.png", (MEDIA / "pixel.png").read_bytes())}) \
            .json()["media_id_string"]
    else:
        data, media_type = ((MEDIA / "pixel.png").read_bytes(), "image/png") if how == "chunked_image" else (b"abc", "video/mp4")
        media_id = upload_whole(mock, data, media_type, **({"media_category": "TweetImage"} if how == "chunked_image" else {}))
        assert finalize(mock, media_id).status_code == 201
    response = status(mock, media_id)
    assert response.status_code == 404
    assert response.text == PAGE_DOES_NOT_EXIST
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    assert "needs no processing" in last_journal_entry(mock)["error"]


def test_status_before_finalize_is_404(mock):
    media_id = init(mock, 3, media_category="tweet_video")
    response = status(mock, media_id)
    assert response.status_code == 404
    assert "has not been finalized" in request_error(response)


# --- Rate limits ---

def test_default_v11_windows_are_an_hour(mock):
    response = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"})
    date = parsedate_to_datetime(response.headers["date"]).timestamp()
    # Date has whole seconds and is stamped by libmicrohttpd, not where the window starts: allow a few.
    assert 3595 <= int(response.headers["x-rate-limit-reset"]) - date <= 3605
    assert response.headers["x-rate-limit-limit"] == "200"


def test_a_rule_added_at_run_time_counts_beside_the_defaults(mock):
    """Every matching rule counts; the one with the fewest requests left sets the headers."""
    assert mock.admin("/rate-limits", method="POST",
                      json={"match": {"command": "INIT"}, "limit": 100000, "window_secs": 60}).status_code == 201
    loose = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"})
    assert (loose.headers["x-rate-limit-limit"], loose.headers["x-rate-limit-remaining"]) == ("200", "199")
    tight = mock.admin("/rate-limits", method="POST",
                       json={"match": {"command": "INIT"}, "limit": 2, "window_secs": 60}).json()
    answers = [requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"})
               for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert [(a.headers["x-rate-limit-limit"], a.headers["x-rate-limit-remaining"]) for a in answers] == \
        [("2", "1"), ("2", "0"), ("2", "0")]
    assert last_journal_entry(mock)["rate_limit"] == f"rule {tight['id']}: 2 per window"
    assert len(mock.admin("/rate-limits").json()["rate_limits"]) > 2  # the defaults are still there
    mock.admin(f"/rate-limits/{tight['id']}", method="DELETE")
    after = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"})
    # The refused request counted against no rule: the default has seen 3 requests before this one.
    assert (after.status_code, after.headers["x-rate-limit-remaining"]) == (202, "196")


def test_unknown_path_keeps_the_api_host_404(mock):
    response = requests.get(mock.url("/1.1/media/nothing.json"))
    assert response.status_code == 404
    assert response.json() == {"errors": [{"code": 34, "message": "Sorry, that page does not exist."}]}
