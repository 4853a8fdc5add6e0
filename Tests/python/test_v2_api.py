"""docs/api-v2.md over raw HTTP: every v2 endpoint's answer, envelope, problem and limit."""
import base64
import hashlib
import json
import time

import pytest
import requests

from conftest import FIXTURES, raw_request

MEDIA = FIXTURES / "media"
INITIALIZE = "/2/media/upload/initialize"
UPLOAD = "/2/media/upload"
METADATA = "/2/media/metadata"
SUBTITLES = "/2/media/subtitles"
INVALID_REQUEST = {"title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                   "type": "https://api.twitter.com/2/problems/invalid-request"}
BODIES_MUST_BE_JSON = {"errors": [{"message": "Requests with bodies must have content-type of application/json."}],
                       **INVALID_REQUEST}


def initialize(server, total=6, media_type="video/mp4", category="tweet_video", **extra):
    body = {"media_type": media_type, "total_bytes": total, **extra}
    if category:
        body["media_category"] = category
    response = requests.post(server.url(INITIALIZE), json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]["id"]


def append_json(server, media_id, index, chunk):
    return requests.post(server.url(f"/2/media/upload/{media_id}/append"),
                         json={"media": base64.b64encode(chunk).decode(), "segment_index": index})


def append_multipart(server, media_id, chunk, index=None, **options):
    fields = {} if index is None else {"segment_index": (None, str(index))}
    return requests.post(server.url(f"/2/media/upload/{media_id}/append"),
                         files={**fields, "media": ("blob", chunk, "application/octet-stream")}, **options)


def finalize(server, media_id, **options):
    return requests.post(server.url(f"/2/media/upload/{media_id}/finalize"), **options)


def status(server, media_id, command="STATUS"):
    params = {"media_id": media_id} if command is None else {"command": command, "media_id": media_id}
    return requests.get(server.url(UPLOAD), params=params)


def uploaded_video(server, data=b"abcdef"):
    media_id = initialize(server, len(data))
    assert append_json(server, media_id, 0, data).status_code == 200
    assert finalize(server, media_id).status_code == 200
    return media_id


def invalid(response, *errors):
    """A compact invalid-request problem with exactly these `errors`, as the real service writes it."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    expected = {"errors": list(errors), **INVALID_REQUEST}
    assert response.json() == expected
    assert response.content == json.dumps(expected, separators=(",", ":"), ensure_ascii=False).encode()


def message(text, **parameters):
    entry = {"message": text}
    if parameters:
        entry = {"parameters": parameters, **entry}
    return entry


def last_entry(server):
    return server.admin("/requests").json()["requests"][-1]


# ------------------------------------------------------------------ initialize


def test_initialize_answers_data_with_a_string_id(mock):
    response = requests.post(mock.url(INITIALIZE), json={"media_type": "video/mp4", "total_bytes": 1577963,
                                                         "media_category": "tweet_video"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache, no-store, max-age=0"
    data = response.json()["data"]
    assert list(response.json()) == ["data"]
    assert list(data) == ["id", "expires_after_secs", "media_key"]
    assert isinstance(data["id"], str) and len(data["id"]) == 19 and int(data["id"]) > 2**59
    assert data["media_key"] == f"7_{data['id']}" and data["expires_after_secs"] == 86400
    assert response.headers["x-rate-limit-limit"] == "1875"
    assert int(response.headers["x-rate-limit-reset"]) > time.time()
    report = mock.upload(data["id"])
    assert (report["state"], report["total_bytes"], report["media_category"]) == ("initialized", 1577963, "tweet_video")
    entry = last_entry(mock)
    assert (entry["api"], entry["command"], entry["media_id"], entry["path"]) == ("v2", "INIT", data["id"], INITIALIZE)


def test_initialize_without_category_has_no_media_key(mock):
    response = requests.post(mock.url(INITIALIZE), json={"media_type": "image/png", "total_bytes": 10, "shared": True,
                                                         "additional_owners": ["12"]})
    assert list(response.json()["data"]) == ["id", "expires_after_secs"]


@pytest.mark.parametrize("headers, body, expected", [
    # The recorded refusals of a body that is not JSON, not valid JSON, or not an object.
    ({"Content-Type": "application/x-www-form-urlencoded"}, b"media_type=video%2Fmp4&total_bytes=6",
     [message("Requests with bodies must have content-type of application/json.")]),
    ({"Content-Type": "text/plain"}, b'{"media_type":"video/mp4","total_bytes":6}',
     [message("Requests with bodies must have content-type of application/json.")]),
    ({}, b'{"media_type":"video/mp4","total_bytes":6}',
     [message("Requests with bodies must have content-type of application/json.")]),
    ({"Content-Type": "application/json"}, b"", [message("Request body must be a JSON object.")]),
    ({"Content-Type": "application/json"}, b"[1, 2]", [message("Request body must be a JSON object.")]),
    ({"Content-Type": "application/json"}, b'{"media_type": "video/mp4",', [message("Request body is not valid JSON.")]),
    ({"Content-Type": "application/json; charset=utf-8"}, b"{}",
     [message("$.media_type: is missing but it is required", **{"$.media_type": []}),
      message("$.total_bytes: is missing but it is required", **{"$.total_bytes": []})]),
])
def test_initialize_refuses_bodies_that_are_not_json_objects(mock, headers, body, expected):
    invalid(requests.post(mock.url(INITIALIZE), data=body, headers=headers), *expected)
    assert mock.admin("/uploads").json()["uploads"] == []


def test_initialize_names_every_schema_violation(mock):
    response = requests.post(mock.url(INITIALIZE), json={
        "media_type": "application/pdf", "total_bytes": "6", "media_category": "TweetVideo", "shared": "yes",
        "additional_owners": ["12", "x"], "media_id": "1"})
    enumeration = ("[video/mp4, video/webm, video/mp2t, video/quicktime, text/srt, text/vtt, image/jpeg, image/gif, "
                   "image/bmp, image/png, image/webp, image/pjpeg, image/tiff, model/gltf-binary, model/vnd.usdz+zip]")
    invalid(response,
            message(f"$.media_type: does not have a value in the enumeration {enumeration}",
                    **{"$.media_type": ['"application/pdf"']}),
            message("$.total_bytes: string found, integer expected", **{"$.total_bytes": ['"6"']}),
            message("$.media_category: does not have a value in the enumeration [amplify_video, tweet_gif, tweet_image, "
                    "tweet_video, dm_gif, dm_image, dm_video, subtitles]", **{"$.media_category": ['"TweetVideo"']}),
            message("$.shared: string found, boolean expected", **{"$.shared": ['"yes"']}),
            message("$.additional_owners[1]: does not match the regex pattern ^[0-9]{1,19}$",
                    **{"$.additional_owners[1]": ['"x"']}),
            message("$.media_id: is not defined in the schema and the schema does not allow additional properties",
                    **{"$.media_id": ['"1"']}))


@pytest.mark.parametrize("body, expected", [
    ({"media_type": "video/mp4", "total_bytes": -1},
     message("$.total_bytes: must have a minimum value of 0", **{"$.total_bytes": ["-1"]})),
    ({"media_type": "video/mp4", "total_bytes": 17179869185},
     message("$.total_bytes: must have a maximum value of 17179869184", **{"$.total_bytes": ["17179869185"]})),
    ({"media_type": "video/mp4", "total_bytes": 1.5},
     message("$.total_bytes: number found, integer expected", **{"$.total_bytes": ["1.5"]})),
    ({"media_type": "image/png", "total_bytes": 6_000_000}, message("File size exceeds 5242880 bytes.")),
    ({"media_type": "video/mp4", "total_bytes": 600_000_000}, message("File size exceeds 536870912 bytes.")),
])
def test_initialize_limits(mock, body, expected):
    invalid(requests.post(mock.url(INITIALIZE), json=body), expected)


def test_query_parameters_are_refused_where_the_spec_defines_none(mock):
    response = requests.post(mock.url(INITIALIZE), params={"total_bytes": "6"}, json={"media_type": "video/mp4", "total_bytes": 6})
    invalid(response, message("The query parameter [total_bytes] is not one of []", total_bytes=["6"]))


# ------------------------------------------------------------------ append


def test_append_json_and_multipart_answer_expires_at(mock):
    media_id = initialize(mock, 6)
    response = append_json(mock, media_id, 0, b"abc")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    expires_at = response.json()["data"]["expires_at"]
    assert response.json() == {"data": {"expires_at": expires_at}}
    assert abs(expires_at - (time.time() + 86400)) < 5
    assert response.headers["x-rate-limit-limit"] == "1875"
    multipart = append_multipart(mock, media_id, b"def", index=1)
    assert multipart.status_code == 200 and multipart.json() == {"data": {"expires_at": expires_at}}
    report = mock.upload(media_id)
    assert [s["sha256"] for s in report["segments"]] == [hashlib.sha256(b"abc").hexdigest(), hashlib.sha256(b"def").hexdigest()]
    assert [(e["command"], e["segment_index"], e["media_id"]) for e in mock.admin("/requests").json()["requests"][1:]] == [
        ("APPEND", 0, media_id), ("APPEND", 1, media_id)]


SWITCH = ("compatibility.infer_v2_segment_index in the config file, PATCH /__admin/compatibility "
          '{"infer_v2_segment_index":true} or MockConfiguration.compatibility.infersV2SegmentIndex')


def test_multipart_append_without_segment_index_is_refused_naming_the_switch(mock):
    media_id = initialize(mock, 6)
    invalid(append_multipart(mock, media_id, b"abc"),
            message("$.segment_index: is missing but it is required", **{"$.segment_index": []}))
    # Both missing: the validator lists them in the schema's `required` order.
    response = requests.post(mock.url(f"/2/media/upload/{media_id}/append"), files={"media_data": (None, "YWJj")})
    invalid(response, message("$.media: is missing but it is required", **{"$.media": []}),
            message("$.segment_index: is missing but it is required", **{"$.segment_index": []}))
    assert mock.upload(media_id)["received_bytes"] == 0
    refused = mock.admin("/requests").json()["requests"][1]
    assert refused["status"] == 400 and refused["error"] == (
        "$.segment_index: is missing but it is required: the spec has required segment_index in every append since "
        "2.139 (2025-05-28); to store a multipart append without it as the next segment, as python-twitter-v2 0.9.3 "
        "needs, turn on " + SWITCH)


def test_multipart_append_without_segment_index_takes_the_next_one_when_switched_on(mock):
    assert mock.admin("/compatibility").json() == {"infer_v2_segment_index": False}
    switched = mock.admin("/compatibility", method="PATCH", json={"infer_v2_segment_index": True})
    assert switched.status_code == 200 and switched.json() == {"infer_v2_segment_index": True}
    media_id = initialize(mock, 9)
    assert append_multipart(mock, media_id, b"ghi", index=2).status_code == 200
    assert append_multipart(mock, media_id, b"abc").status_code == 200
    assert append_multipart(mock, media_id, b"def", index=0).status_code == 200
    assert [s["index"] for s in mock.upload(media_id)["segments"]] == [0, 2, 3]
    inferred = mock.admin("/requests").json()["requests"][2]
    assert inferred["segment_index"] == 3
    assert inferred["note"] == ("segment_index was not sent: stored as segment 3, the one after the highest stored "
                                "(compatibility.infer_v2_segment_index is on)")
    # A JSON append must still carry it: the switch is for multipart, as the one client needs.
    invalid(requests.post(mock.url(f"/2/media/upload/{media_id}/append"), json={"media": "YWJj"}),
            message("$.segment_index: is missing but it is required", **{"$.segment_index": []}))
    # Reset restores the startup switches.
    assert mock.admin("/reset", method="POST").status_code == 200
    assert mock.admin("/compatibility").json() == {"infer_v2_segment_index": False}


def test_compatibility_from_the_config_file_and_its_refusals(start_mock):
    server = start_mock({"compatibility": {"infer_v2_segment_index": True}})
    media_id = initialize(server, 3)
    assert append_multipart(server, media_id, b"abc").status_code == 200
    assert server.admin("/compatibility", method="PATCH", json={"infer_v2_segment_index": "yes"}).json() == {
        "error": "infer_v2_segment_index must be true or false"}
    assert server.admin("/compatibility", method="PATCH", json={"infer_segment_index": True}).json() == {
        "error": "unknown key 'infer_segment_index'"}
    assert server.admin("/compatibility", method="PATCH", json={}).json() == {"infer_v2_segment_index": True}


def test_a_credential_scope_sets_its_own_switches(mock):
    """Workers sharing a server (README, Isolation): one turns the switch on for its own
    requests; another's are still refused, and a reset of the scope forgets its switches."""
    def upload_without_index(token):
        headers = {"Authorization": f"Bearer {token}"}
        initialized = requests.post(mock.url(INITIALIZE), headers=headers,
                                    json={"media_type": "video/mp4", "total_bytes": 3, "media_category": "tweet_video"})
        media_id = initialized.json()["data"]["id"]
        return requests.post(mock.url(f"/2/media/upload/{media_id}/append"), headers=headers,
                             files={"media": ("blob", b"abc")}).status_code

    scoped = mock.admin("/compatibility", method="PATCH", json={"infer_v2_segment_index": True},
                        headers={"X-Mock-Scope": "worker-1"})
    assert scoped.status_code == 200 and scoped.json() == {"infer_v2_segment_index": True}
    assert mock.admin("/compatibility", headers={"X-Mock-Scope": "worker-1"}).json() == {"infer_v2_segment_index": True}
    assert mock.admin("/compatibility").json() == {"infer_v2_segment_index": False}
    assert (upload_without_index("worker-1"), upload_without_index("worker-2")) == (200, 400)
    mock.admin("/reset", method="POST", headers={"X-Mock-Scope": "worker-1"})
    assert upload_without_index("worker-1") == 400


@pytest.mark.parametrize("body, expected", [
    ({"media": "YWJj"}, [message("$.segment_index: is missing but it is required", **{"$.segment_index": []})]),
    ({"segment_index": 0}, [message("$.media: is missing but it is required", **{"$.media": []})]),
    ({"media": "YWJj", "segment_index": 1000},
     [message("$.segment_index: must have a maximum value of 999", **{"$.segment_index": ["1000"]})]),
    ({"media": "YWJj", "segment_index": -1},
     [message("$.segment_index: must have a minimum value of 0", **{"$.segment_index": ["-1"]})]),
    ({"media": "YWJj", "segment_index": "0"},
     [message("$.segment_index: string found, integer expected", **{"$.segment_index": ['"0"']})]),
    ({"media": [1], "segment_index": 0, "media_id": "1"},
     [message("$.media: array found, string expected", **{"$.media": ["[1]"]}),
      message("$.media_id: is not defined in the schema and the schema does not allow additional properties",
              **{"$.media_id": ['"1"']})]),
    ({"media": "YW*j", "segment_index": 0},
     [message("$.media: is not valid base64: '*' at offset 2 is not in the standard base64 alphabet", **{"$.media": []})]),
])
def test_append_json_schema(mock, body, expected):
    media_id = initialize(mock, 6)
    invalid(requests.post(mock.url(f"/2/media/upload/{media_id}/append"), json=body), *expected)
    assert mock.upload(media_id)["received_bytes"] == 0


@pytest.mark.parametrize("fields, expected", [
    ({"segment_index": (None, "x")}, message("$.segment_index: string found, integer expected", **{"$.segment_index": ['"x"']})),
    ({"segment_index": (None, "1000")}, message("$.segment_index: must have a maximum value of 999",
                                                **{"$.segment_index": ["1000"]})),
    ({"segment_index": (None, "0"), "media_data": (None, "YWJj")},
     message("$.media: is missing but it is required", **{"$.media": []})),
])
def test_append_multipart_fields(mock, fields, expected):
    media_id = initialize(mock, 6)
    extra = {} if "media_data" in fields else {"media": ("m", b"abc")}
    invalid(requests.post(mock.url(f"/2/media/upload/{media_id}/append"), files={**fields, **extra}), expected)


def test_append_refuses_forms_that_are_not_multipart(mock):
    media_id = initialize(mock, 6)
    path = f"/2/media/upload/{media_id}/append"
    assert requests.post(mock.url(path), data={"segment_index": 0, "media": "abc"}).json() == BODIES_MUST_BE_JSON
    # x-ruby's old `multipart/form-data, boundary=…` (a comma): refused by the real v2 as recorded.
    body = b"--b\r\nContent-Disposition: form-data; name=\"segment_index\"\r\n\r\n0\r\n--b\r\n" \
           b"Content-Disposition: form-data; name=\"media\"; filename=\"m\"\r\n\r\nabc\r\n--b--\r\n"
    response = requests.post(mock.url(path), data=body, headers={"Content-Type": "multipart/form-data, boundary=b"})
    invalid(response, message("Requests with bodies must have content-type of application/json."))
    assert mock.upload(media_id)["received_bytes"] == 0
    assert last_entry(mock)["error"].startswith("the body's Content-Type is 'multipart/form-data, boundary=b'")


@pytest.mark.parametrize("path_id, expected", [
    ("abc", message("The `id` query parameter value [abc] is not valid", id=["abc"])),
    ("12345678901234567890", message("The `id` query parameter value [12345678901234567890] is not valid",
                                     id=["12345678901234567890"])),
    ("1", message("BadRequest: Not found", id=["1"])),
])
def test_append_media_id_in_the_path(mock, path_id, expected):
    invalid(requests.post(mock.url(f"/2/media/upload/{path_id}/append"), json={"media": "YWJj", "segment_index": 0}), expected)


def test_append_domain_rules(start_mock):
    server = start_mock({"limits": {"chunk_bytes": 4}})
    media_id = initialize(server, 6)
    invalid(append_json(server, media_id, 0, b"abcde"),
            message("The media parameter exceeds the 4-byte limit for one APPEND segment."))
    invalid(append_multipart(server, media_id, b"abcde", index=0),
            message("The media parameter exceeds the 4-byte limit for one APPEND segment."))
    assert append_json(server, media_id, 0, b"abcd").status_code == 200
    invalid(append_json(server, media_id, 1, b"abc"),
            message("Segment 1 of 3 bytes would bring this upload to 7 bytes, more than the total_bytes of 6 declared at INIT."))
    assert append_json(server, media_id, 1, b"ef").status_code == 200
    assert finalize(server, media_id).status_code == 200
    invalid(append_json(server, media_id, 2, b"g"),
            message(f"Media id {media_id} is already finalized: APPEND is only accepted between INIT and FINALIZE."))


# ------------------------------------------------------------------ finalize and STATUS


def test_finalize_and_status_walk_the_processing_states(mock):
    data = b"abcdef"
    media_id = initialize(mock, len(data))
    append_json(mock, media_id, 0, data)
    response = finalize(mock, media_id)  # no body and no Content-Type, as xdk sends it
    assert response.status_code == 200 and response.headers["content-type"] == "application/json; charset=utf-8"
    # Every object's keys in alphabetical order, as recorded on the dedicated endpoint (xurl#29).
    assert response.text == ('{"data":{"expires_after_secs":86400,"id":"%s","media_key":"7_%s",'
                             '"processing_info":{"check_after_secs":0,"state":"pending"},"size":6}}' % (media_id, media_id))
    first = status(mock, media_id)
    assert first.status_code == 200 and first.headers["x-rate-limit-limit"] == "1000"
    # STATUS keys come in alphabetical order, as recorded; expires_after_secs counts down.
    data = first.json()["data"]
    assert list(data) == ["expires_after_secs", "id", "media_key", "processing_info", "size"]
    assert list(data["processing_info"]) == ["check_after_secs", "progress_percent", "state"]
    assert data["processing_info"] == {"check_after_secs": 0, "progress_percent": 50, "state": "in_progress"}
    assert (data["id"], data["size"]) == (media_id, 6) and 86390 < data["expires_after_secs"] <= 86400
    second = status(mock, media_id, command=None)  # `command` is optional
    assert second.json()["data"]["processing_info"] == {"progress_percent": 100, "state": "succeeded"}
    assert mock.upload(media_id)["state"] == "succeeded"
    again = finalize(mock, media_id)
    assert again.json()["data"]["processing_info"] == {"state": "succeeded"}


def test_amplify_video_is_kept_fifteen_days_as_recorded(mock):
    """xurl#29 (2025-08): an amplify_video upload's finalize, byte for byte but the id."""
    media_id = initialize(mock, 6, "video/mp4", "amplify_video")
    assert requests.post(mock.url(INITIALIZE), json={"media_type": "video/mp4", "total_bytes": 6,
                                                     "media_category": "amplify_video"}).json()["data"]["expires_after_secs"] == 1296000
    append_json(mock, media_id, 0, b"abcdef")
    response = finalize(mock, media_id)
    assert response.text == ('{"data":{"expires_after_secs":1296000,"id":"%s","media_key":"13_%s",'
                             '"processing_info":{"check_after_secs":0,"state":"pending"},"size":6}}' % (media_id, media_id))
    # The same store behind v1.1: its amplify_video sessions last as long (inferred).
    v1 = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 6, "media_type": "video/mp4",
                                              "media_category": "amplify_video"})
    assert v1.json()["expires_after_secs"] == 1296000


def test_polls_until_done_0_finalizes_as_succeeded_at_once(start_mock):
    server = start_mock({"processing": {"polls_until_done": 0}})
    media_id = initialize(server, 6)
    append_json(server, media_id, 0, b"abcdef")
    assert finalize(server, media_id).json()["data"]["processing_info"] == {"state": "succeeded"}
    assert status(server, media_id).json()["data"]["processing_info"] == {"progress_percent": 100, "state": "succeeded"}
    assert server.upload(media_id)["state"] == "succeeded"
    # v1.1 the same: FINALIZE says succeeded, with the video object the finished media carries.
    v1 = requests.post(server.upload_url, data={"command": "INIT", "total_bytes": 3, "media_type": "video/mp4",
                                                "media_category": "tweet_video"}).json()["media_id_string"]
    requests.post(server.upload_url, data={"command": "APPEND", "media_id": v1, "segment_index": 0}, files={"media": b"abc"})
    answer = requests.post(server.upload_url, data={"command": "FINALIZE", "media_id": v1}).json()
    assert answer["processing_info"] == {"state": "succeeded", "progress_percent": 100}
    assert answer["video"] == {"video_type": "video/mp4"}


def test_finalize_of_an_image_reports_its_pixels_and_status_has_nothing_to_say(mock):
    png = (MEDIA / "pixel.png").read_bytes()
    media_id = initialize(mock, len(png), "image/png", "tweet_image")
    append_multipart(mock, media_id, png, index=0)
    response = finalize(mock, media_id)
    # The real service escapes "/" in its answers.
    assert response.text == ('{"data":{"expires_after_secs":86400,"id":"%s","image":{"h":200,"image_type":"image\\/png","w":300},'
                             '"media_key":"3_%s","size":%d}}' % (media_id, media_id, len(png)))
    invalid(status(mock, media_id), message("BadRequest: Not found"))
    assert "needed no processing" in last_entry(mock)["error"]


def test_finalize_with_a_json_content_type_needs_a_json_object(mock):
    media_id = initialize(mock, 0, "video/mp4", None)
    invalid(finalize(mock, media_id, headers={"Content-Type": "application/json"}),
            message("Request body must be a JSON object."))
    assert finalize(mock, media_id, json={}).status_code == 200


def test_finalize_refusals(mock):
    media_id = initialize(mock, 6)
    append_json(mock, media_id, 1, b"abc")
    invalid(finalize(mock, media_id), message("Segments do not add up to provided total file size."))
    invalid(finalize(mock, "42"), message("BadRequest: Not found", id=["42"]))
    bad = (MEDIA / "not-an-image.png").read_bytes()
    image_id = initialize(mock, len(bad), "image/png", "tweet_image")
    append_json(mock, image_id, 0, bad)
    response = finalize(mock, image_id)
    # Recorded as a plain-text body.
    assert (response.status_code, response.text) == (400, "media type unrecognized")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("params, expected", [
    ({"command": "STATUS"}, message("The `media_id` query parameter can not be empty", media_id=[])),
    ({"command": "status", "media_id": "1"},
     message("The `command` query parameter value [status] is not one of [STATUS]", command=["status"])),
    ({"media_id": "x1"}, message("The `media_id` query parameter value [x1] is not valid", media_id=["x1"])),
    ({"media_id": "1", "expansions": "x"},
     message("The query parameter [expansions] is not one of [media_id,command]", expansions=["x"])),
    ([("media_id", "1"), ("media_id", "2")],
     message("Duplicate parameters are not allowed: the `media_id` query parameter", media_id=["1", "2"])),
    ({"media_id": "1"}, message("BadRequest: Not found", media_id=["1"])),
])
def test_status_parameters(mock, params, expected):
    invalid(requests.get(mock.url(UPLOAD), params=params), expected)


def test_status_before_finalize(mock):
    media_id = initialize(mock, 6)
    invalid(status(mock, media_id), message("BadRequest: Not found"))
    assert last_entry(mock)["error"].startswith(f"Media id {media_id} has not been finalized")


@pytest.mark.parametrize("settings, expected", [
    ({}, {"error": {"code": 1, "message": "Unsupported video format", "name": "InvalidMedia"},
          "progress_percent": 100, "state": "failed"}),
    ({"error_state": "in_progress", "error_progress_percent": 99, "error": {"code": 1, "name": "InvalidMedia"}},
     {"error": {"code": 1, "name": "InvalidMedia"}, "progress_percent": 99, "state": "in_progress"}),
])
def test_failed_processing_keeps_its_error(start_mock, settings, expected):
    server = start_mock({"processing": {"check_after_secs": 0, "polls_until_done": 1, "result": "failed",
                                        "error": {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"},
                                        **settings}})
    media_id = uploaded_video(server)
    info = status(server, media_id).json()["data"]["processing_info"]
    assert info == expected and list(info) == sorted(info)


# ------------------------------------------------------------------ one-shot upload


def test_one_shot_json_and_multipart(mock):
    png = (MEDIA / "pixel.png").read_bytes()
    response = requests.post(mock.url(UPLOAD), json={"media": base64.b64encode(png).decode(), "media_category": "tweet_image"})
    assert response.status_code == 200
    data = response.json()["data"]
    assert list(data) == ["expires_after_secs", "id", "image", "media_key", "size"]
    assert list(data["image"]) == ["h", "image_type", "w"]
    assert data["image"] == {"image_type": "image/png", "w": 300, "h": 200} and data["size"] == len(png)
    gif = (MEDIA / "animated.gif").read_bytes()
    multipart = requests.post(mock.url(UPLOAD), files={"media_category": (None, "tweet_gif"), "media": ("media", gif)})
    assert multipart.status_code == 200
    assert multipart.json()["data"]["media_key"].startswith("16_")
    for media_id, original in ((data["id"], png), (multipart.json()["data"]["id"], gif)):
        assert mock.upload(media_id)["sha256"] == hashlib.sha256(original).hexdigest()
    assert [e["command"] for e in mock.admin("/requests").json()["requests"]] == ["UPLOAD", "UPLOAD"]
    assert mock.admin("/requests").json()["requests"][0]["media_id"] == data["id"]


def test_one_shot_video_is_processed(mock):
    clip = (MEDIA / "clip.mp4").read_bytes()
    response = requests.post(mock.url(UPLOAD), files={"media_category": (None, "tweet_video"), "media": ("media", clip)})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["media_key"] == f"7_{data['id']}" and data["processing_info"] == {"state": "pending", "check_after_secs": 0}
    report = mock.upload(data["id"])
    assert report["media_type"] == "video/mp4" and report["sha256"] == hashlib.sha256(clip).hexdigest()
    assert status(mock, data["id"]).json()["data"]["processing_info"]["state"] == "in_progress"


@pytest.mark.parametrize("body, expected", [
    ({"media": "YWJj"}, message("$.media_category: is missing but it is required", **{"$.media_category": []})),
    ({"media_category": "tweet_image"}, message("$.media: is missing but it is required", **{"$.media": []})),
    ({"media": "YWJj", "media_category": "amplify_video"},
     message("$.media_category: does not have a value in the enumeration [tweet_image, tweet_video, tweet_gif, dm_image, "
             "dm_video, dm_gif, subtitles]", **{"$.media_category": ['"amplify_video"']})),
    ({"media": "YWJj", "media_category": "tweet_image", "media_type": "image/png"},
     message("$.media_type: is not defined in the schema and the schema does not allow additional properties",
             **{"$.media_type": ['"image/png"']})),
])
def test_one_shot_schema(mock, body, expected):
    invalid(requests.post(mock.url(UPLOAD), json=body), expected)


def test_one_shot_refusals(mock):
    response = requests.post(mock.url(UPLOAD), files={"media_category": (None, "tweet_image"),
                                                      "media": ("media", b"not an image at all")})
    assert (response.status_code, response.text) == (400, "media type unrecognized")
    response = requests.post(mock.url(UPLOAD), files={"media_category": (None, "tweet_video"), "media": ("media", b"abc")})
    assert (response.status_code, response.text) == (400, "media type unrecognized")
    response = requests.post(mock.url(UPLOAD), data={"media_category": "tweet_image", "media": "abc"})
    assert response.status_code == 400 and response.json() == BODIES_MUST_BE_JSON
    assert mock.admin("/uploads").json()["uploads"] == []


def test_one_shot_over_the_image_limit(start_mock):
    server = start_mock({"limits": {"image_bytes": 1000}})
    png = (MEDIA / "pixel.png").read_bytes()
    response = requests.post(server.url(UPLOAD), files={"media_category": (None, "tweet_image"), "media": ("media", png)})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    # The title is the status line's reason phrase (RFC 9110's name): the two never disagree.
    assert response.reason == "Content Too Large"
    assert response.json() == {"title": "Content Too Large", "type": "about:blank", "status": 413,
                               "detail": "The media of a one-shot upload exceeds the 1000-byte limit for its kind."}


# ------------------------------------------------------------------ the 2025 command form


def test_command_form_maps_onto_the_same_operations(mock):
    data = b"abcdef"
    # INIT as xurl sent it (query parameters, empty body) and as the quickstart shows it (form fields).
    response = requests.post(mock.url(UPLOAD), params={"command": "INIT", "total_bytes": 6, "media_type": "video/mp4",
                                                       "media_category": "tweet_video"})
    assert response.status_code == 202
    media_id = response.json()["data"]["id"]
    assert list(response.json()["data"]) == ["id", "expires_after_secs", "media_key"]
    form = requests.post(mock.url(UPLOAD), files={"command": (None, "INIT"), "total_bytes": (None, "1"),
                                                  "media_type": (None, "image/png")})
    assert form.status_code == 202
    appended = requests.post(mock.url(UPLOAD), files={"command": (None, "APPEND"), "media_id": (None, media_id),
                                                      "segment_index": (None, "0"), "media": ("m", data)})
    assert (appended.status_code, appended.content) == (204, b"")
    finalized = requests.post(mock.url(UPLOAD), data={"command": "FINALIZE", "media_id": media_id})
    assert finalized.status_code == 201
    # The command form keeps the order recorded for it in 2025-04 (python-twitter's fixture).
    assert finalized.text == ('{"data":{"id":"%s","media_key":"7_%s","size":6,"expires_after_secs":86400,'
                              '"processing_info":{"state":"pending","check_after_secs":0}}}' % (media_id, media_id))
    assert status(mock, media_id).status_code == 200
    assert mock.upload(media_id)["sha256"] == hashlib.sha256(data).hexdigest()
    commands = [(e["command"], e["status"]) for e in mock.admin("/requests").json()["requests"]]
    assert commands == [("INIT", 202), ("INIT", 202), ("APPEND", 204), ("FINALIZE", 201), ("STATUS", 200)]


@pytest.mark.parametrize("params, expected", [
    ({"command": "init"}, message("The `command` query parameter value [init] is not one of [INIT,APPEND,FINALIZE]",
                                  command=["init"])),
    ({"command": "INIT", "media_type": "video/mp4"}, message("The `total_bytes` query parameter can not be empty",
                                                             total_bytes=[])),
    ({"command": "INIT", "total_bytes": "6", "media_type": "video/avi"},
     message("The `media_type` query parameter value [video/avi] is not one of [video/mp4,video/webm,video/mp2t,"
             "video/quicktime,text/srt,text/vtt,image/jpeg,image/gif,image/bmp,image/png,image/webp,image/pjpeg,"
             "image/tiff,model/gltf-binary,model/vnd.usdz+zip]", media_type=["video/avi"])),
    ({"command": "FINALIZE", "media_id": "abc"}, message("The `media_id` query parameter value [abc] is not valid",
                                                          media_id=["abc"])),
    ({"command": "APPEND", "media_id": "1", "segment_index": "0"},
     message("The `media` query parameter can not be empty", media=[])),
    ({"command": "FINALIZE", "media_id": "1", "user": "me"},
     message("The query parameter [user] is not one of [command,media_id,total_bytes,media_type,media_category,"
             "additional_owners,segment_index,shared]", user=["me"])),
])
def test_command_form_refusals(mock, params, expected):
    invalid(requests.post(mock.url(UPLOAD), params=params), expected)


# ------------------------------------------------------------------ metadata and subtitles


def test_metadata_sets_alt_text_and_other_fields(mock):
    media_id = uploaded_video(mock)
    body = {"id": media_id, "metadata": {"alt_text": {"text": "A cat"}, "allow_download_status": {"allow_download": True},
                                         "found_media_origin": {"id": "x1", "provider": "giphy"}}}
    response = requests.post(mock.url(METADATA), json=body)
    assert response.status_code == 200 and response.headers["x-rate-limit-limit"] == "500"
    assert response.json() == {"data": {"id": media_id, "associated_metadata": body["metadata"]}}
    report = mock.upload(media_id)
    assert report["alt_text"] == "A cat"
    assert report["metadata"] == {"allow_download_status": {"allow_download": True},
                                  "found_media_origin": {"id": "x1", "provider": "giphy"}}
    assert last_entry(mock)["command"] == "METADATA"


@pytest.mark.parametrize("body, expected", [
    ({"metadata": {}}, [message("$.id: is missing but it is required", **{"$.id": []})]),
    ({"id": 12}, [message("$.id: integer found, string expected", **{"$.id": ["12"]})]),
    ({"id": "1", "metadata": {"alt_text": {"text": "x" * 1001}}},
     [message("$.metadata.alt_text.text: may only be 1000 characters long",
              **{"$.metadata.alt_text.text": ['"' + "x" * 1001 + '"']})]),
    ({"id": "1", "metadata": {"alt_text": {}, "content_expiration": {"timestamp_sec": "soon"}}},
     [message("$.metadata.alt_text.text: is missing but it is required", **{"$.metadata.alt_text.text": []}),
      message("$.metadata.content_expiration.timestamp_sec: string found, number expected",
              **{"$.metadata.content_expiration.timestamp_sec": ['"soon"']})]),
    ({"id": "1", "metadata": {"alt_text": {"text": "A cat"}}}, [message("BadRequest: Not found", id=["1"])]),
])
def test_metadata_refusals(mock, body, expected):
    invalid(requests.post(mock.url(METADATA), json=body), *expected)


def test_subtitles_attach_and_detach(mock):
    video_id = uploaded_video(mock)
    srt = b"1\n00:00:00,000 --> 00:00:01,000\nHi\n"
    srt_id = initialize(mock, len(srt), "text/srt", "subtitles")
    append_json(mock, srt_id, 0, srt)
    finalize(mock, srt_id)
    body = {"id": video_id, "media_category": "TweetVideo",
            "subtitles": {"id": srt_id, "language_code": "EN", "display_name": "English"}}
    created = requests.post(mock.url(SUBTITLES), json=body)
    assert created.status_code == 200 and created.headers["x-rate-limit-limit"] == "100"
    assert created.json() == {"data": {"id": video_id, "media_category": "TweetVideo", "associated_subtitles": body["subtitles"]}}
    remove = {"id": video_id, "media_category": "TweetVideo", "language_code": "EN"}
    deleted = requests.delete(mock.url(SUBTITLES), json=remove)
    assert deleted.status_code == 200 and deleted.json() == {"data": {"deleted": True}}
    invalid(requests.delete(mock.url(SUBTITLES), json=remove), message(f"Media id {video_id} has no subtitles in language EN."))
    invalid(requests.post(mock.url(SUBTITLES), json={**body, "subtitles": {**body["subtitles"], "id": video_id}}),
            message(f"Media id {video_id} is not a subtitles file (INIT it with media_type text/srt, text/vtt or text/plain "
                    "and media_category subtitles)."))
    invalid(requests.post(mock.url(SUBTITLES), json={"id": video_id, "media_category": "Video",
                                                     "subtitles": {"id": srt_id, "language_code": "en"}}),
            message("$.media_category: does not have a value in the enumeration [AmplifyVideo, TweetVideo]",
                    **{"$.media_category": ['"Video"']}),
            message("$.subtitles.language_code: does not match the regex pattern ^[A-Z]{2}$",
                    **{"$.subtitles.language_code": ['"en"']}))
    invalid(requests.delete(mock.url(SUBTITLES), json={"id": video_id}),
            message("$.media_category: is missing but it is required", **{"$.media_category": []}),
            message("$.language_code: is missing but it is required", **{"$.language_code": []}))
    assert [e["command"] for e in mock.admin("/requests").json()["requests"][-6:]] == [
        "SUBTITLES_CREATE", "SUBTITLES_DELETE", "SUBTITLES_DELETE", "SUBTITLES_CREATE", "SUBTITLES_CREATE", "SUBTITLES_DELETE"]


# ------------------------------------------------------------------ routing, sizes


def test_a_v2_path_with_the_wrong_method_answers_405(mock):
    response = requests.get(mock.url(INITIALIZE))
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json() == {"title": "Method Not Allowed", "type": "about:blank", "status": 405,
                               "detail": "/2/media/upload/initialize does not take GET; it takes POST."}
    assert requests.put(mock.url(UPLOAD)).headers["allow"] == "GET, POST"


def test_a_json_body_over_the_limit_answers_413_before_it_is_read(mock):
    response = raw_request(mock.port, b"POST /2/media/metadata HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                      b"Content-Length: 2000000\r\nExpect: 100-continue\r\n\r\n")
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 Content Too Large\r\n")
    assert json.loads(body)["title"] == "Content Too Large"
    assert json.loads(body)["detail"] == "Request body of 2000000 bytes exceeds the 1048576-byte limit for this endpoint."


def test_v2_uploads_share_the_store_with_v1(mock):
    media_id = uploaded_video(mock, b"shared")
    v1 = requests.get(mock.upload_url, params={"command": "STATUS", "media_id": media_id})
    assert v1.status_code == 200 and v1.json()["media_id_string"] == media_id
    assert mock.admin(f"/uploads/{media_id}/media").content == b"shared"
    assert [e["api"] for e in mock.admin("/requests").json()["requests"]] == ["v2", "v2", "v2", "v1.1"]
