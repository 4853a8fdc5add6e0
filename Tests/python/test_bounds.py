"""docs/configuration.md, Bounds, and docs/reliability.md: every byte the mock keeps for clients
is counted against limits.max_memory_bytes, per-upload text against limits.upload_text_bytes;
the cap's default comes from the machine; the spool clean-up never follows a link; the admin
API's journal filters and HEAD (issue 18)."""
import base64
import http.client
import json
import os
import socket
import subprocess
import time

import pytest
import requests

from conftest import BINARY, append, init

METADATA = "/2/media/metadata"
SUBTITLES = "/2/media/subtitles"
V1_SUBTITLES = "/1.1/media/subtitles/create.json"
SRT = b"1\n00:00:00,000 --> 00:00:01,000\nHi\n"
MIB = 1024 * 1024
LANGUAGES = [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]


def rss_mib(server):
    with open(f"/proc/{server.process.pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def v2_upload(server, media_type="video/mp4", data=b"abcdef", category="tweet_video"):
    response = requests.post(server.url("/2/media/upload/initialize"),
                             json={"media_type": media_type, "total_bytes": len(data), "media_category": category})
    assert response.status_code == 200, response.text
    media_id = response.json()["data"]["id"]
    appended = requests.post(server.url(f"/2/media/upload/{media_id}/append"),
                             json={"media": base64.b64encode(data).decode(), "segment_index": 0})
    assert appended.status_code == 200, appended.text
    return media_id


def subtitles_file(server):
    return v2_upload(server, "text/srt", SRT, "subtitles")


def last_entry(server):
    return server.admin("/requests").json()["requests"][-1]


def over_capacity(response):
    """The v2 answer of any memory refusal."""
    assert response.status_code == 503, response.text[:500]
    assert response.json()["title"] == "Service Unavailable"


# ------------------------------------------------------------------ item 1: /2/media/metadata


def test_metadata_keeps_and_echoes_only_what_the_spec_defines(mock):
    media_id = v2_upload(mock)
    metadata = {"alt_text": {"text": "A cat"}, "sensitive_media_warning": {"other": True},
                "alt_txt": {"text": "a typo"}, "k" * 100: "x" * 1000}
    response = requests.post(mock.url(METADATA), json={"id": media_id, "metadata": metadata})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"id": media_id, "associated_metadata": {
        "alt_text": {"text": "A cat"}, "sensitive_media_warning": {"other": True}}}}
    report = mock.upload(media_id)
    assert report["alt_text"] == "A cat" and report["metadata"] == {"sensitive_media_warning": {"other": True}}
    note = last_entry(mock)["note"]
    assert "'alt_txt'" in note and "'" + "k" * 64 + "…'" in note and "neither kept nor echoed" in note


def test_metadata_past_upload_text_bytes_is_refused_keeping_what_was_there(start_mock):
    server = start_mock({"limits": {"upload_text_bytes": 4096}})
    media_id = v2_upload(server)
    kept = {"alt_text": {"text": "A cat"}, "audience_policy": {"v": "x" * 1000}}
    assert requests.post(server.url(METADATA), json={"id": media_id, "metadata": kept}).status_code == 200
    response = requests.post(server.url(METADATA), json={"id": media_id, "metadata": {"geo_restrictions": {"v": "y" * 4000}}})
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert message.startswith(f"Media id {media_id} would keep ") and "limits.upload_text_bytes (4096)" in message
    report = server.upload(media_id)
    assert report["alt_text"] == "A cat" and report["metadata"] == {"audience_policy": {"v": "x" * 1000}}
    # Replacing a member with a smaller value always fits.
    smaller = {"audience_policy": {"v": "z"}}
    assert requests.post(server.url(METADATA), json={"id": media_id, "metadata": smaller}).status_code == 200
    assert server.upload(media_id)["metadata"] == smaller


def test_metadata_counts_against_the_memory_cap_with_media(start_mock):
    """Five uploads of 200 KB of metadata fill a 1 MiB cap: the sixth is refused with 503, as is
    media past the cap, nothing earlier is lost, the journal says which bound; a reset frees it."""
    server = start_mock({"real_rate_limits": False, "limits": {"max_memory_bytes": MIB}})
    value = {"audience_policy": {"v": "x" * 200_000}}
    stored = [v2_upload(server) for _ in range(6)]
    for media_id in stored[:5]:
        assert requests.post(server.url(METADATA), json={"id": media_id, "metadata": value}).status_code == 200
    over_capacity(requests.post(server.url(METADATA), json={"id": stored[5], "metadata": value}))
    error = last_entry(server)["error"]
    assert "limits.max_memory_bytes (1048576)" in error and "upload text" in error
    media = init(server, 100_000)
    refused = append(server, media, 0, b"m" * 100_000)
    assert refused.status_code == 503 and refused.json() == {"errors": [{"code": 130, "message": "Over capacity"}]}
    assert all(server.upload(media_id)["metadata"] == value for media_id in stored[:5])
    assert "metadata" not in server.upload(stored[5])
    server.admin("/reset", method="POST")
    assert append(server, init(server, 100_000), 0, b"m" * 100_000).status_code == 204
    fresh = v2_upload(server)
    assert requests.post(server.url(METADATA), json={"id": fresh, "metadata": value}).status_code == 200


def test_a_metadata_flood_pins_no_memory(start_mock):
    """Issue 18's reproduction, scaled: 64 requests of 1 MB of metadata to one upload at a 16 MiB
    cap. Each used to be kept whole (64 MiB and more, past the cap); now members the spec does
    not define are dropped, and a spec member over limits.upload_text_bytes is refused."""
    server = start_mock({"real_rate_limits": False, "limits": {"max_memory_bytes": 16 * MIB}})
    media_id = v2_upload(server)
    before = rss_mib(server)
    session = requests.Session()
    statuses = set()
    for number in range(64):
        member = {f"k{number}": "x" * 1_000_000}
        statuses.add(session.post(server.url(METADATA), json={"id": media_id, "metadata": member}).status_code)
    statuses.add(session.post(server.url(METADATA), json={"id": media_id, "metadata": {
        "audience_policy": {"v": "x" * 1_000_000}}}).status_code)
    assert server.admin(f"/uploads/{media_id}").status_code == 200
    grown = rss_mib(server) - before
    assert grown < 32, f"RSS grew by {grown:.0f} MiB under a 16 MiB cap"
    assert statuses == {200, 400}


# ------------------------------------------------------------------ item 3: subtitle tracks


def test_subtitle_tracks_count_against_upload_text_bytes_and_the_cap(start_mock):
    server = start_mock({"real_rate_limits": False, "limits": {"max_memory_bytes": MIB, "upload_text_bytes": 300_000}})
    captions = subtitles_file(server)
    videos = [v2_upload(server) for _ in range(5)]

    def attach(video, language, name):
        return requests.post(server.url(SUBTITLES), json={"id": video, "media_category": "TweetVideo", "subtitles": {
            "id": captions, "language_code": language, "display_name": name}})

    assert attach(videos[0], "EN", "e" * 250_000).status_code == 200
    refused = attach(videos[0], "NL", "n" * 100_000)  # 350,000 bytes on one upload
    assert refused.status_code == 400 and "limits.upload_text_bytes (300000)" in refused.json()["errors"][0]["message"]
    assert attach(videos[0], "EN", "English").status_code == 200  # a replaced track gives its bytes back
    for video in videos[1:4]:
        assert attach(video, "EN", "e" * 290_000).status_code == 200
    assert attach(videos[4], "EN", "e" * 150_000).status_code == 200  # about 1,020,000 bytes held
    over_capacity(attach(videos[0], "NL", "n" * 100_000))

    def attach_v1(name):  # v1.1 JSON bodies are limited to 64 KiB
        return requests.post(server.url(V1_SUBTITLES), json={"media_id": videos[0], "subtitle_info": {
            "subtitles": [{"media_id": captions, "language_code": "fr", "display_name": name}]}})

    refused = attach_v1("f" * 60_000)
    assert refused.status_code == 503 and refused.json() == {"errors": [{"code": 130, "message": "Over capacity"}]}
    assert [t["display_name"] for t in server.upload(videos[0])["subtitles"]] == ["English"]
    deleted = requests.delete(server.url(SUBTITLES), json={"id": videos[1], "media_category": "TweetVideo", "language_code": "EN"})
    assert deleted.status_code == 200
    assert attach_v1("f" * 60_000).status_code == 200, "a deleted track gives its bytes back"
    assert [t["language_code"] for t in server.upload(videos[0])["subtitles"]] == ["EN", "fr"]


def test_a_subtitles_flood_pins_no_memory(start_mock):
    """Issue 18: 200 tracks of 1 MB added 200 MiB under a 64 MiB cap. Scaled: 64 tracks of 1 MB
    at 16 MiB."""
    server = start_mock({"real_rate_limits": False, "limits": {"max_memory_bytes": 16 * MIB}})
    captions, video = subtitles_file(server), v2_upload(server)
    before = rss_mib(server)
    session = requests.Session()
    statuses = {session.post(server.url(SUBTITLES), json={"id": video, "media_category": "TweetVideo", "subtitles": {
        "id": captions, "language_code": language, "display_name": "x" * 1_000_000}}).status_code
        for language in LANGUAGES[:64]}
    grown = rss_mib(server) - before
    assert grown < 32, f"RSS grew by {grown:.0f} MiB under a 16 MiB cap"
    assert statuses == {400}


# ------------------------------------------------------------------ item 4: the cap's default


def machine_memory_limit():
    """The lowest of physical memory and the cgroup memory limits (v2 memory.max, v1
    memory.limit_in_bytes) of this process and its ancestors, which the server inherits."""
    limits = [os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")]
    mounts = [line.split() for line in open("/proc/self/mountinfo")]
    for line in open("/proc/self/cgroup"):
        number, controllers, path = line.rstrip("\n").split(":", 2)
        unified = number == "0" and controllers == ""
        if not unified and "memory" not in controllers.split(","):
            continue
        for fields in mounts:
            kind = fields[fields.index("-", 6) + 1]
            if (unified and kind == "cgroup2") or (not unified and kind == "cgroup" and "memory" in fields[-1].split(",")):
                root, point = fields[3], fields[4]
                relative = path if root == "/" else path[len(root):]
                directory = (point + relative).rstrip("/")
                name = "memory.max" if unified else "memory.limit_in_bytes"
                while len(directory) >= len(point):
                    try:
                        value = open(f"{directory}/{name}").read().strip()
                    except OSError:
                        value = "max"
                    if value.isdigit() and 0 < int(value) < 1 << 62:
                        limits.append(int(value))
                    directory = directory.rsplit("/", 1)[0]
                break
    return min(limits)


def listening_log(server):
    return next(entry for entry in map(json.loads, server.stderr_text().splitlines()) if entry["message"] == "listening")


def test_the_memory_cap_defaults_from_the_machine_and_says_where_from(start_mock):
    limit = machine_memory_limit()
    expected = min(4 * 1024 * MIB, max(limit // 4, limit // 2 - 32 * MIB))
    logged = listening_log(start_mock())
    assert logged["max_memory_bytes"] == expected, (limit, logged)
    source = logged["max_memory_from"]
    assert ("4 GiB ceiling" in source) == (expected == 4 * 1024 * MIB) and f"({limit // MIB} MiB)" in source
    assert ("physical memory" in source) or ("cgroup" in source)
    configured = listening_log(start_mock({"limits": {"max_memory_bytes": 12345678}}))
    assert (configured["max_memory_bytes"], configured["max_memory_from"]) == (
        12345678, "limits.max_memory_bytes in the configuration")


# ------------------------------------------------------------------ item 5: spool clean-up


def test_the_spool_clean_up_never_follows_a_link(start_mock, tmp_path):
    """Anyone who can write to a shared --storage-dir can plant spool-<dead pid>: a link to
    another directory is left alone (its files too), and a stale spool directory is emptied
    without following the links inside it."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep")
    parent = tmp_path / "shared"
    parent.mkdir()
    (parent / "spool-999999999").symlink_to(victim)
    stale = parent / "spool-999999998"
    stale.mkdir()
    (stale / "1-0-x").write_bytes(b"old segment")
    (stale / "planted").symlink_to(victim / "precious.txt")
    server = start_mock(args=["--storage-dir", str(parent)])
    assert (victim / "precious.txt").read_text() == "keep"
    assert (parent / "spool-999999999").is_symlink(), "a link is not a spool directory: left alone"
    assert not stale.exists(), "a dead server's own directory is still removed"
    spool = parent / f"spool-{server.process.pid}"
    assert spool.is_dir() and not spool.is_symlink()
    server.stop()
    assert not spool.exists() and (victim / "precious.txt").read_text() == "keep"


@pytest.mark.parametrize("planted", ["link", "directory"])
def test_a_leftover_with_the_servers_own_pid_is_never_followed(tmp_path, planted):
    """`exec` keeps the shell's pid, so the shell plants spool-$$ for the very server it becomes."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep")
    parent = tmp_path / "shared"
    parent.mkdir()
    plant = f'ln -s "{victim}" "{parent}/spool-$$"' if planted == "link" else \
        f'mkdir "{parent}/spool-$$" && echo old > "{parent}/spool-$$/1-0-x" && ln -s "{victim}/precious.txt" "{parent}/spool-$$/x"'
    ready = tmp_path / "ready"
    script = f'{plant} && exec "{BINARY}" --port 0 --ready-file "{ready}" --storage-dir "{parent}" --log-level error'
    process = subprocess.Popen(["sh", "-c", script], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not ready.exists():
            assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        spool = parent / f"spool-{process.pid}"
        assert spool.is_dir() and not spool.is_symlink() and list(spool.iterdir()) == []
        assert (victim / "precious.txt").read_text() == "keep" and list(victim.iterdir()) == [victim / "precious.txt"]
        base = ready.read_text()
        media_id = requests.post(base + "/1.1/media/upload.json", data={
            "command": "INIT", "total_bytes": 3, "media_type": "video/mp4"}).json()["media_id_string"]
        appended = requests.post(base + "/1.1/media/upload.json", data={"command": "APPEND", "media_id": media_id, "segment_index": 0},
                                 files={"media": ("blob", b"abc")})
        assert appended.status_code == 204 and len(list(spool.iterdir())) == 1
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0
    assert not (parent / f"spool-{process.pid}").exists() and (victim / "precious.txt").read_text() == "keep"


# ------------------------------------------------------------------ item 7: journal filters, HEAD


@pytest.mark.parametrize("query, name", [
    ("status=200&status=503", "status"), ("status=none&status=204", "status"), ("fault=true&fault=rule-1", "fault"),
    ("command=INIT&media_id=1&command=APPEND", "command"),
])
def test_a_journal_filter_given_twice_is_refused_naming_it(mock, query, name):
    for path in ("/requests", "/requests/count"):
        response = mock.admin(f"{path}?{query}")
        assert response.status_code == 400
        assert response.json()["error"].startswith(f"query parameter {name} is given twice ({name}=")


def test_head_on_admin_get_routes_answers_as_get_without_a_body(mock):
    media_id = init(mock, 5)
    append(mock, media_id, 0, b"hello")
    connection = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    for path in ["/__admin/health", "/__admin/uploads", f"/__admin/uploads/{media_id}", f"/__admin/uploads/{media_id}/media",
                 "/__admin/requests?command=APPEND", "/__admin/faults", "/__admin/openapi.json", "/__admin/uploads/1"]:
        connection.request("GET", path)
        got = connection.getresponse()
        body = got.read()
        # The same connection: a body sent after the HEAD answer would be read as the next answer.
        connection.request("HEAD", path)
        head = connection.getresponse()
        assert head.read() == b""
        assert (head.status, head.getheader("content-type"), head.getheader("content-length")) == (
            got.status, got.getheader("content-type"), str(len(body))), path
    connection.request("HEAD", "/__admin/reset")
    refused = connection.getresponse()
    assert refused.read() == b"" and (refused.status, refused.getheader("allow")) == (405, "POST")
    connection.close()


# ------------------------------------------------------------------ item 2: bodies still arriving


def nearly_sent(server, path, content_type, body):
    """A connection that sent its head and all of `body` but its last byte."""
    connection = socket.create_connection(("127.0.0.1", server.port))
    connection.sendall(f"POST {path} HTTP/1.1\r\nHost: mock\r\nContent-Type: {content_type}\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:-1])
    return connection


def finish(connection, body):
    """Sends the last byte and reads the answer's status."""
    connection.sendall(body[-1:])
    response = http.client.HTTPResponse(connection)
    response.begin()
    response.read()
    connection.close()
    return response.status


def settled_rss_mib(server, seconds=20):
    """RSS once the server has read what it was sent: it stopped growing for a second."""
    deadline, samples = time.monotonic() + seconds, [rss_mib(server)]
    while time.monotonic() < deadline:
        time.sleep(0.5)
        samples.append(rss_mib(server))
        if len(samples) > 2 and samples[-1] - samples[-3] < 0.5:
            break
    return samples[-1]


@pytest.mark.parametrize("form", ["v2 JSON", "v1.1 urlencoded media_data"])
def test_bodies_still_arriving_count_against_the_cap(start_mock, form):
    """The issue's flood, smaller: unfinished appends each held their buffer outside the cap (120
    of 13 MiB took RSS from 19 to 1,634 MiB). Now what they buffer is counted as it arrives: past
    the cap the request is refused (503, the rest of its bytes dropped as they come), nothing
    stored is lost, and the journal says why."""
    server = start_mock({"real_rate_limits": False, "limits": {"max_memory_bytes": 16 * MIB}})
    chunk = bytes(range(256)) * (3 * MIB // 256)  # 3 MiB of media, 4 MiB as base64
    kept = v2_upload(server, data=b"kept before the flood")
    media_id = requests.post(server.url("/2/media/upload/initialize"),
                             json={"media_type": "video/mp4", "total_bytes": 30 * len(chunk), "media_category": "tweet_video"}
                             ).json()["data"]["id"]
    encoded = base64.b64encode(chunk).decode()
    bodies = []
    for index in range(30):
        if form == "v2 JSON":
            bodies.append((f"/2/media/upload/{media_id}/append", "application/json",
                           json.dumps({"media": encoded, "segment_index": index}).encode()))
        else:
            bodies.append(("/1.1/media/upload.json", "application/x-www-form-urlencoded",
                           f"command=APPEND&media_id={media_id}&segment_index={index}&media_data=".encode()
                           + encoded.replace("+", "%2B").replace("/", "%2F").encode()))
    before = rss_mib(server)
    connections = [nearly_sent(server, *body) for body in bodies]
    held = settled_rss_mib(server) - before
    # 30 such bodies buffer 120 MiB as JSON, 90 MiB decoded from media_data, outside any cap.
    # Beside the 16 MiB counted, libmicrohttpd's buffers (256 KiB a connection) and malloc's free
    # lists take some more.
    assert held < 16 + 32, f"RSS grew {held:.0f} MiB with 30 unfinished appends against a 16 MiB cap"
    statuses = [finish(connection, body[2]) for connection, body in zip(connections, bodies)]
    assert 503 in statuses and (200 in statuses or 204 in statuses), statuses
    refused = server.admin("/requests", params={"status": 503}).json()["requests"]
    assert refused and all("limits.max_memory_bytes" in entry["error"] for entry in refused), refused[:1]
    stored = server.upload(media_id)["segments"]
    assert len(stored) == statuses.count(200) + statuses.count(204)
    assert all(segment["bytes"] == len(chunk) for segment in stored)
    assert server.upload(kept)["received_bytes"] == len(b"kept before the flood")  # nothing stored is lost
