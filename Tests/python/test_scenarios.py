"""docs/faults.md, Scenarios: every shipped scenario met by a real client (tweepy over HTTPS and
requests with urllib3's retries for v1.1, xdk for v2), with what the client saw and what the
journal says; installing per scope, from the config, the command line and a directory of one's
own; and every bad input refused with a precise message and nothing changed."""
import base64
import hashlib
import io
import json
import re
import subprocess
import time
from datetime import datetime

import pytest
import requests
import tweepy
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry
from xdk import Client
from xdk.media.models import AppendUploadRequest, InitializeUploadRequest

from conftest import BINARY, FIXTURES, REPO, MockServer, append, init

TLS = FIXTURES / "tls"
CA = str(TLS / "ca.pem")
SHIPPED = ["flaky-uplink", "lost-responses", "over-capacity", "processing-fails", "rate-limited-appends",
           "session-expires-mid-upload", "slow-uplink", "stalled-proxy"]
TOKEN = "tweepy-user"  # the oauth_token tweepy signs with: its requests' scope


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    """One HTTPS server for tweepy (it speaks only https://), reset before each test."""
    server = MockServer(tmp_path_factory.mktemp("scenarios"), {"processing": {"check_after_secs": 0}},
                        args=["--tls-cert", str(TLS / "server.pem"), "--tls-key", str(TLS / "server-key.pem")])
    yield server
    assert server.stop() == 0, server.stderr_text()


@pytest.fixture
def https(https_server):
    assert admin(https_server, "/reset", "POST").status_code == 200
    return https_server


def admin(server, path, method="GET", scope=None, **kwargs):
    headers = {"X-Mock-Scope": scope} if scope else {}
    return requests.request(method, server.url("/__admin" + path), headers=headers, verify=CA, **kwargs)


def install(server, name, scope=None):
    response = admin(server, f"/scenarios/{name}", "POST", scope=scope)
    assert response.status_code == 201, response.text
    return response.json()


def journal(server, scope=None, **filters):
    return admin(server, "/requests", scope=scope, params=filters).json()["requests"]


def tweepy_api(server, **options):
    api = tweepy.API(tweepy.OAuth1UserHandler("ck", "cs", TOKEN, "ts"), upload_host=f"localhost:{server.port}", **options)
    api.session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
    api.session.verify = CA
    return api


def retrying_session(timeout=None):
    """requests with urllib3's retries, as a careful client configures them: any method, after a
    connection error, a lost answer (read error or read timeout) or a 503, at once."""
    session = requests.Session()
    retry = Retry(total=4, connect=4, read=4, status=4, allowed_methods=None, status_forcelist=[503], backoff_factor=0,
                  raise_on_status=False)
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
    session.verify = CA
    session.request = _with_timeout(session.request, timeout)
    return session


def _with_timeout(request, timeout):
    return lambda *args, **kwargs: request(*args, **{"timeout": timeout, **kwargs})


def upload_v1(session, server, media, chunk):
    """INIT, the APPENDs, FINALIZE with one requests session; the media id."""
    url = server.upload_url
    started = session.post(url, data={"command": "INIT", "total_bytes": len(media), "media_type": "video/mp4"})
    assert started.status_code == 202, started.text
    media_id = started.json()["media_id_string"]
    for index in range(0, len(media), chunk):
        answer = session.post(url, data={"command": "APPEND", "media_id": media_id, "segment_index": index // chunk},
                              files={"media": ("blob", media[index:index + chunk], "application/octet-stream")})
        assert answer.status_code == 204, answer.text
    assert session.post(url, data={"command": "FINALIZE", "media_id": media_id}).status_code in (200, 201)
    return media_id


def pattern(size, seed=0):
    return bytes((index * 31 + seed) % 251 for index in range(size))


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def seconds(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# ---- What the server ships ------------------------------------------------------------------


def test_the_shipped_scenarios_are_listed_with_the_rules_their_files_hold(mock):
    listed = mock.admin("/scenarios").json()["scenarios"]
    assert [scenario["name"] for scenario in listed] == SHIPPED
    for scenario in listed:
        source = json.loads((FIXTURES / "scenarios" / f"{scenario['name']}.json").read_text())
        assert scenario["description"] == source["description"] and scenario["installed"] is False
        # The rules as the admin API writes them: every field the file gave, and the defaults.
        for written, given in zip(scenario["faults"], source.get("faults", [])):
            assert {key: written["match"][key] for key in given.get("match", {})} == given.get("match", {})
            assert written["action"] == given["action"] and written["seed"] == given.get("seed")
        assert len(scenario["faults"]) == len(source.get("faults", []))
        assert [rule["limit"] for rule in scenario["rate_limits"]] == [rule["limit"] for rule in source.get("rate_limits", [])]
        # Each listed rule is one POST /__admin/faults takes as it stands.
        for rule in scenario["faults"]:
            added = mock.admin("/faults", "POST", json=rule)
            assert added.status_code == 201, added.text
    listed_by_cli = subprocess.run([BINARY, "--list-scenarios"], capture_output=True, text=True, timeout=10, check=True)
    assert [line.split("\t") for line in listed_by_cli.stdout.splitlines()] == [[s["name"], s["description"]] for s in listed]


# ---- Each scenario, met by a real client ----------------------------------------------------------


def test_lost_responses_tweepy_gives_up_a_client_with_retries_gets_through(https):
    install(https, "lost-responses")
    media = pattern(30_000)
    with pytest.raises(tweepy.TweepyException, match="Failed to send request"):
        tweepy_api(https).chunked_upload("clip.mp4", file=io.BytesIO(media), file_type="video/mp4", chunk_size=10_000)
    [lost] = journal(https, command="APPEND")
    assert lost["status"] is None and lost["segment_index"] == 0 and lost["fault"].endswith("reset, after commit")
    assert admin(https, f"/uploads/{lost['media_id']}").json()["received_bytes"] == 10_000, "stored before the answer was lost"

    media_id = upload_v1(retrying_session(), https, media, 10_000)
    report = admin(https, f"/uploads/{media_id}").json()
    assert report["sha256"] == sha256(media)
    assert [(a["segment_index"], a["status"]) for a in report["attempts"]] == [
        (0, None), (0, 204), (1, None), (1, 204), (2, None), (2, 204)]


def test_flaky_uplink_xdk_retrying_sees_the_same_resets_in_every_run(start_mock):
    server = start_mock({"scenarios": ["flaky-uplink"]})
    media = pattern(240_000, seed=1)
    chunk = 20_000  # base64 in JSON: about 27 KB per APPEND body, past the 8 KiB reset point

    def run():
        client = Client(base_url=server.base_url, access_token="xdk-user")
        media_id = client.media.initialize_upload(body=InitializeUploadRequest(
            media_type="video/mp4", total_bytes=len(media), media_category="tweet_video")).data.id
        resets = 0
        for index in range(0, len(media), chunk):
            body = AppendUploadRequest(media=base64.b64encode(media[index:index + chunk]).decode(), segment_index=index // chunk)
            for _ in range(10):
                try:
                    client.media.append_upload(id=media_id, body=body)
                    break
                except requests.exceptions.ConnectionError:
                    resets += 1
        client.media.finalize_upload(id=media_id)
        assert server.upload(media_id)["sha256"] == sha256(media)
        return media_id, resets

    media_id, resets = run()
    appends = journal(server, media_id=media_id, command="APPEND")
    cut = [entry for entry in appends if entry["status"] is None]
    assert len(cut) == resets >= 1 and len(appends) == 12 + resets
    assert all(entry["bytes_received"] == 8192 and entry["fault"].endswith("reset after 8192 request bytes") for entry in cut)
    assert server.upload(media_id)["segments"][0]["bytes"] == chunk, "nothing of a cut APPEND was stored"
    pattern_of = lambda entries: [entry["status"] for entry in entries]
    assert server.admin("/reset", "POST").status_code == 200  # the configured scenario is installed again, its draws anew
    again, _ = run()
    assert pattern_of(journal(server, media_id=again, command="APPEND")) == pattern_of(appends)


def test_slow_uplink_tweepy_takes_its_time_and_everything_is_stored(https):
    install(https, "slow-uplink")
    media = pattern(150_000, seed=2)
    started = time.monotonic()
    uploaded = tweepy_api(https).chunked_upload("clip.mp4", file=io.BytesIO(media), file_type="video/mp4",
                                                 chunk_size=75_000)
    elapsed = time.monotonic() - started
    assert admin(https, f"/uploads/{uploaded.media_id_string}").json()["sha256"] == sha256(media)
    assert elapsed >= 1.4, "150 kB at 100 kB/s cannot arrive sooner"
    entries = journal(https, media_id=uploaded.media_id_string)
    appends = [entry for entry in entries if entry["command"] == "APPEND"]
    assert [entry["status"] for entry in appends] == [204, 204]
    assert all(entry["fault"].endswith("request body at 100000 bytes/s") and entry["duration_ms"] >= 650 for entry in appends)
    others = [entry for entry in entries if entry["command"] != "APPEND"]
    assert others and all(re.search(r"delay \d+ ms$", entry["fault"]) for entry in others)


def test_stalled_proxy_a_client_with_a_read_timeout_sends_again(https):
    install(https, "stalled-proxy")
    media = pattern(60_000, seed=3)
    started = time.monotonic()
    media_id = upload_v1(retrying_session(timeout=(5, 1)), https, media, 30_000)
    assert time.monotonic() - started >= 1, "the stalled APPEND was waited out"
    report = admin(https, f"/uploads/{media_id}").json()
    assert report["sha256"] == sha256(media)
    assert [(a["segment_index"], a["status"]) for a in report["attempts"]] == [(0, None), (0, 204), (1, 204)]
    [stalled] = journal(https, media_id=media_id, status="none")
    assert stalled["bytes_received"] == 8192 and stalled["fault"].endswith("stall after 8192 request bytes")
    assert admin(https, "/faults").json()["faults"] == [], "once: the rule retired"


def test_over_capacity_tweepy_retries_through_the_bursts(https):
    burst, scattered = (rule["id"] for rule in install(https, "over-capacity")["faults"])
    media = pattern(8_000, seed=4)
    api = tweepy_api(https, retry_count=3, retry_delay=0, retry_errors={503})
    uploaded = api.chunked_upload("clip.mp4", file=io.BytesIO(media), file_type="video/mp4", chunk_size=1_000)
    assert admin(https, f"/uploads/{uploaded.media_id_string}").json()["sha256"] == sha256(media)
    entries = journal(https)
    assert [entry["status"] for entry in entries[:5]] == [202, 503, 503, 503, 204], "the second to fourth requests: a burst"
    assert {entry["fault_rule"] for entry in entries[1:4]} == {burst}
    assert entries[1]["command"] == entries[4]["command"] == "APPEND" and entries[1]["error"] == "Over capacity"
    later = [entry for entry in entries[4:] if entry["status"] == 503]
    assert later and {entry["fault_rule"] for entry in later} == {scattered}, "then the seeded one in ten"
    # Every refused request was sent again and went through.
    for index, entry in enumerate(entries):
        if entry["status"] == 503:
            retried = next(e for e in entries[index + 1:] if e["status"] != 503)
            assert (retried["command"], retried["segment_index"]) == (entry["command"], entry["segment_index"])


def test_rate_limited_appends_tweepy_waits_for_the_window(https):
    install(https, "rate-limited-appends")
    media = pattern(6_000, seed=5)
    api = tweepy_api(https, wait_on_rate_limit=True)
    started = time.monotonic()
    uploaded = api.chunked_upload("clip.mp4", file=io.BytesIO(media), file_type="video/mp4", chunk_size=1_000)
    elapsed = time.monotonic() - started
    assert admin(https, f"/uploads/{uploaded.media_id_string}").json()["sha256"] == sha256(media)
    [limited] = journal(https, status=429)
    assert limited["command"] == "APPEND" and limited["segment_index"] == 4 and limited["rate_limit"].endswith(": 4 per window")
    assert elapsed < 8, "a 3-second window, waited out once"
    # The 429 as a client sees it: code 88 and the window's end.
    for _ in range(5):
        refused = append_as(https, uploaded.media_id_string)
        if refused.status_code == 429:
            break
    assert refused.status_code == 429 and refused.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    assert refused.headers["x-rate-limit-limit"] == "4" and refused.headers["x-rate-limit-remaining"] == "0"
    assert 0 < int(refused.headers["x-rate-limit-reset"]) - time.time() <= 4


def append_as(server, media_id):
    """An APPEND carrying tweepy's token as a bearer token: the same scope, so the same window."""
    return requests.post(server.upload_url, verify=CA, headers={"Authorization": f"Bearer {TOKEN}"},
                         data={"command": "APPEND", "media_id": media_id, "segment_index": 0, "media_data": "YQ=="})


def test_processing_fails_tweepy_stops_polling_at_the_error(https):
    install(https, "processing-fails")
    media = pattern(3_000, seed=6)
    uploaded = tweepy_api(https).media_upload("clip.mp4", file=io.BytesIO(media), chunked=True,
                                              media_category="tweet_video")
    assert uploaded.processing_info == {"state": "failed", "progress_percent": 100,
                                        "error": {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"}}
    assert admin(https, f"/uploads/{uploaded.media_id_string}").json()["state"] == "failed"
    [finalized] = journal(https, command="FINALIZE")
    assert finalized["status"] == 200 and finalized["fault"].endswith("processing failed")
    statuses = journal(https, command="STATUS")
    assert statuses and all(entry["fault"] is None for entry in statuses)
    # An image needs no processing: the rule fires, and nothing else changes.
    pixel = (FIXTURES / "media" / "pixel.png").read_bytes()
    image = tweepy_api(https).chunked_upload("pixel.png", file=io.BytesIO(pixel), file_type="image/png")
    assert not hasattr(image, "processing_info")
    assert admin(https, f"/uploads/{image.media_id_string}").json()["state"] == "finalized"


def test_session_expires_mid_upload_xdk_starts_over(mock):
    install(mock, "session-expires-mid-upload")
    client = Client(base_url=mock.base_url, access_token="xdk-user")
    media = pattern(2_000, seed=7)
    halves = [base64.b64encode(media[:1000]).decode(), base64.b64encode(media[1000:]).decode()]

    def initialize():
        return client.media.initialize_upload(body=InitializeUploadRequest(
            media_type="video/mp4", total_bytes=len(media), media_category="tweet_video")).data.id

    first = initialize()
    client.media.append_upload(id=first, body=AppendUploadRequest(media=halves[0], segment_index=0))
    with pytest.raises(requests.exceptions.HTTPError) as refused:
        client.media.append_upload(id=first, body=AppendUploadRequest(media=halves[1], segment_index=1))
    assert refused.value.response.status_code == 400
    message = refused.value.response.json()["errors"][0]["message"]
    assert message.startswith(f"Media id {first} expired: it was valid for 86400 seconds after INIT")
    [expired] = journal(mock, command="APPEND", status=400)
    assert expired["fault"].endswith("clock advanced 86400 s")
    assert seconds(expired["clock_time"]) - seconds(expired["time"]) == pytest.approx(86_400, abs=2), "performed a day later"
    assert mock.admin("/clock", headers={"X-Mock-Scope": "xdk-user"}).json()["offset_secs"] == pytest.approx(86_400, abs=2)
    assert mock.admin("/clock").json()["offset_secs"] == pytest.approx(0, abs=2), "only the uploader's clock moved"
    # Starting over works: the rule fired once.
    second = initialize()
    for index, half in enumerate(halves):
        client.media.append_upload(id=second, body=AppendUploadRequest(media=half, segment_index=index))
    client.media.finalize_upload(id=second)
    assert mock.upload(second)["sha256"] == sha256(media) and mock.upload(first)["state"] == "expired"


# ---- Installing, scoping and removing ------------------------------------------------------------


def test_a_scope_installs_for_its_own_requests_and_its_draws_ignore_other_traffic(mock):
    """flaky-uplink for two workers: each sees the same resets, however their requests interleave."""
    media = pattern(12_000 * 10, seed=8)

    def upload(token, media_id):
        statuses = []
        for index in range(10):
            while True:
                try:
                    answer = requests.post(mock.upload_url, headers={"Authorization": f"Bearer {token}"},
                                           data={"command": "APPEND", "media_id": media_id, "segment_index": index},
                                           files={"media": ("blob", media[index * 12_000:(index + 1) * 12_000])})
                    statuses.append(answer.status_code)
                    break
                except requests.exceptions.ConnectionError:
                    statuses.append(None)
        return statuses

    def start(token):
        return requests.post(mock.upload_url, headers={"Authorization": f"Bearer {token}"},
                             data={"command": "INIT", "total_bytes": len(media), "media_type": "video/mp4"}).json()["media_id_string"]

    installed = install(mock, "flaky-uplink", scope="worker-1")
    assert installed["scope"] == "worker-1" and installed["faults"][0]["scenario"] == "flaky-uplink"
    assert installed["faults"][0]["scope"] == "worker-1" and installed["rate_limits"] == []
    alone = upload("worker-1", start("worker-1"))
    assert None in alone
    assert upload("worker-9", start("worker-9")) == [204] * 10, "another credential is never faulted"

    install(mock, "flaky-uplink", scope="worker-1")  # in place of the first: its draws start over
    install(mock, "flaky-uplink", scope="worker-2")
    assert [rule["scope"] for rule in mock.admin("/faults").json()["faults"]] == ["worker-1", "worker-2"]
    ones, twos = start("worker-1"), start("worker-2")
    assert upload("worker-2", twos) == alone, "worker-2's draws are its own"
    assert upload("worker-1", ones) == alone, "and worker-1's are untouched by worker-2's traffic"

    listed = {s["name"]: s["installed"] for s in mock.admin("/scenarios", headers={"X-Mock-Scope": "worker-2"}).json()["scenarios"]}
    assert listed["flaky-uplink"] is True and listed["lost-responses"] is False
    assert admin(mock, "/scenarios/flaky-uplink", "DELETE", scope="worker-2").status_code == 204
    assert [rule["scope"] for rule in mock.admin("/faults").json()["faults"]] == ["worker-1"]
    assert admin(mock, "/scenarios/flaky-uplink", "DELETE").status_code == 204  # unscoped: every scope's
    assert mock.admin("/faults").json()["faults"] == []
    assert admin(mock, "/scenarios/flaky-uplink", "DELETE").status_code == 204, "nothing installed is no error"


def test_installed_rules_are_ordinary_rules(mock):
    install(mock, "over-capacity")
    install(mock, "rate-limited-appends")
    faults = mock.admin("/faults").json()["faults"]
    assert [rule["scenario"] for rule in faults] == ["over-capacity", "over-capacity"]
    assert mock.admin(f"/faults/{faults[0]['id']}", "DELETE").status_code == 204
    assert mock.admin("/faults", "DELETE").status_code == 204
    assert mock.admin("/faults").json()["faults"] == []
    limits = mock.admin("/rate-limits").json()["rate_limits"]
    assert [rule["scenario"] for rule in limits if rule["scenario"]] == ["rate-limited-appends"]
    assert mock.admin("/scenarios/rate-limited-appends", "DELETE").status_code == 204
    assert all(rule["scenario"] is None for rule in mock.admin("/rate-limits").json()["rate_limits"]), "the defaults stay"
    install(mock, "processing-fails")
    assert mock.admin("/reset", "POST").status_code == 200
    assert mock.admin("/faults").json()["faults"] == [], "a reset forgets scenarios installed at run time"


def test_config_and_command_line_install_at_start_and_after_every_reset(start_mock):
    server = start_mock({"scenarios": ["processing-fails"]}, args=["--scenario", "over-capacity", "--scenario", "rate-limited-appends"])

    def installed():
        return ([rule["scenario"] for rule in server.admin("/faults").json()["faults"]],
                [rule["scenario"] for rule in server.admin("/rate-limits").json()["rate_limits"] if rule["scenario"]])

    at_start = installed()
    assert at_start == (["processing-fails", "over-capacity", "over-capacity"], ["rate-limited-appends"])
    assert server.admin("/faults", "DELETE").status_code == 204
    assert server.admin("/reset", "POST").status_code == 200
    assert installed() == at_start


def test_a_directory_of_ones_own_scenarios(start_mock, tmp_path):
    own = tmp_path / "config" / "scenarios"
    own.mkdir(parents=True)
    (own / "gateway-timeouts.json").write_text(json.dumps({
        "name": "gateway-timeouts", "description": "Every FINALIZE answers 504 once.",
        "faults": [{"match": {"command": "FINALIZE"}, "action": {"status": 504}, "times": 1}]}))
    (own / "notes.txt").write_text("not a scenario")
    config = tmp_path / "config" / "mock.json"
    config.write_text(json.dumps({"scenarios_dir": "scenarios", "scenarios": ["gateway-timeouts"]}))
    server = start_mock(args=["--config", str(config)])
    assert [s["name"] for s in server.admin("/scenarios").json()["scenarios"]] == SHIPPED + ["gateway-timeouts"]
    media_id = init(server, 3)
    assert append(server, media_id, 0, b"abc").status_code == 204
    refused = requests.post(server.upload_url, data={"command": "FINALIZE", "media_id": media_id})
    assert refused.status_code == 504 and journal(server)[-1]["fault"] == "rule 1, status 504"
    listed = subprocess.run([BINARY, "--scenarios-dir", str(own), "--list-scenarios"], capture_output=True, text=True, check=True)
    assert listed.stdout.splitlines()[-1] == "gateway-timeouts\tEvery FINALIZE answers 504 once."


# ---- Bad input --------------------------------------------------------------------------------


def startup_error(tmp_path, *args, config=None):
    command = [BINARY, "--port", "0", *args]
    if config is not None:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        command += ["--config", str(path)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=10)
    assert run.returncode == 2 and run.stdout == "", run.stdout + run.stderr
    [line] = run.stderr.splitlines()
    return line.removeprefix("twitter-upload-mock: ")


def test_unknown_names_are_refused_naming_the_known_ones(mock, tmp_path):
    known = ", ".join(SHIPPED)
    for method in ("POST", "DELETE"):
        answer = mock.admin("/scenarios/lost-response", method)
        assert answer.status_code == 404 and answer.json() == {"error": f"no scenario 'lost-response': the scenarios are {known}"}
    assert mock.admin("/faults").json()["faults"] == []
    unknown = f"scenario 'lost-response' (config scenarios, --scenario) is unknown: the scenarios are {known}"
    assert startup_error(tmp_path, "--scenario", "lost-response") == unknown
    assert startup_error(tmp_path, config={"scenarios": ["lost-response"]}) == unknown
    assert startup_error(tmp_path, config={"scenarios": "lost-responses"}).endswith("scenarios must be an array")
    assert startup_error(tmp_path, config={"scenarios": [7]}).endswith("scenarios[0] must be a scenario's name, a string")


def test_bad_scenario_files_stop_the_start_naming_file_and_rule(tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    bad = own / "typo.json"
    bad.write_text(json.dumps({"name": "typo", "description": "x", "faults": [
        {"action": {"status": 503}}, {"match": {"command": "APPEND"}, "action": {"fault": "rest"}}]}))
    assert startup_error(tmp_path, "--scenarios-dir", str(own)) == (
        f"scenario file {bad}: faults[1].action.fault must be one of reset, close, hang, truncate, slow, stall, not 'rest'")
    bad.write_text('{"name": "typo", "description": "x",}')
    assert startup_error(tmp_path, "--scenarios-dir", str(own)).startswith(f"scenario file {bad}: not valid JSON at line 1")
    bad.unlink()
    (own / "lost-responses.json").write_text(json.dumps({"name": "lost-responses", "description": "mine",
                                                          "faults": [{"action": {"status": 503}}]}))
    assert startup_error(tmp_path, "--scenarios-dir", str(own)) == (
        f"scenario file {own}/lost-responses.json: lost-responses is a scenario the mock ships; "
        "give yours another name (the file's and its \"name\")")
    (own / "lost-responses.json").unlink()
    large = own / "large.json"
    large.write_text(json.dumps({"name": "large", "description": "x" * 2000, "faults": [{"action": {"status": 503}}]}))
    assert startup_error(tmp_path, "--scenarios-dir", str(own), config={"admin": {"max_body_bytes": 1024}}) == (
        f"scenario file {large} is {large.stat().st_size} bytes; at most 1024 are read (admin.max_body_bytes)")
    assert startup_error(tmp_path, "--scenarios-dir", str(tmp_path / "nowhere")) == (
        f"scenarios directory {tmp_path}/nowhere (--scenarios-dir, scenarios_dir) cannot be read: No such file or directory")


def test_a_rule_these_limits_cannot_reach_and_too_many_rules_install_nothing(start_mock, tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    (own / "late-reset.json").write_text(json.dumps({"name": "late-reset", "description": "Reset 1 MB in.", "faults": [
        {"match": {"command": "APPEND"}, "action": {"fault": "reset", "after_request_bytes": 1_000_000}}]}))
    limits = {"chunk_bytes": 1000, "image_bytes": 1000, "gif_bytes": 1000}
    server = start_mock({"limits": limits, "admin": {"max_rules": 2}}, args=["--scenarios-dir", str(own)])
    answer = server.admin("/scenarios/late-reset", "POST")
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("scenario late-reset: faults[0].action.after_request_bytes 1000000 is more than "
                                             "the longest request body the mock reads")
    assert server.admin("/faults", "POST", json={"action": {"delay_ms": 1}}).status_code == 201
    crowded = server.admin("/scenarios/over-capacity", "POST")
    assert crowded.status_code == 409 and crowded.json() == {
        "error": "at most 2 fault rules may be in force (admin.max_rules): 1 are, and scenario over-capacity adds 2"}
    assert len(server.admin("/faults").json()["faults"]) == 1
    assert startup_error(tmp_path, "--scenarios-dir", str(own), "--scenario", "late-reset",
                         config={"limits": limits}).endswith("could never fire (config scenarios, --scenario)")


@pytest.mark.parametrize("rule, complaint", [
    ({"match": {"attempt": 0}, "action": {"status": 503}}, "rule.match.attempt must be an integer from 1 to 2147483647"),
    ({"match": {"command": "FINALIZE", "attempt": 2}, "action": {"status": 503}},
     "rule.match.attempt counts APPENDs of one segment, so it needs command APPEND (or none), not FINALIZE"),
    ({"action": {"status": 503}, "seed": "seven"}, "rule.seed must be a non-negative integer or a decimal string"),
    ({"action": {"advance_clock_secs": -60}}, "rule.action.advance_clock_secs must be a number from 0 to 2966371200"),
    ({"action": {"processing": "done"}}, "rule.action.processing must be one of succeeded, failed, not 'done'"),
    ({"action": {"processing": "failed", "fault": "reset"}},
     "rule.action.processing decides how the FINALIZE it fires on ends processing, so that FINALIZE must be performed: "
     "it takes no status or fault"),
    ({"action": {"fault": "stall", "advance_clock_secs": 1}},
     "rule.action: advance_clock_secs and processing act when the request is performed, which a request cut off while "
     "its body arrives never is; drop after_request_bytes or stall"),
    ({"action": {"status": 503}, "scenario": "mine"}, "unknown key 'rule.scenario'"),
])
def test_bad_rule_fields_are_400_naming_the_field(mock, rule, complaint):
    answer = mock.admin("/faults", "POST", json=rule)
    assert answer.status_code == 400 and answer.json() == {"error": complaint}
    assert mock.admin("/faults").json()["faults"] == []


def test_the_docs_examples_work_as_written(start_mock, tmp_path):
    """docs/faults.md's Scenarios shell block, only the port changed."""
    server = start_mock()
    text = (REPO / "docs" / "faults.md").read_text()
    block = re.search(r"## Scenarios\n.*?```sh\n(.*?)```", text, re.S).group(1)
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", block.replace("8080", str(server.port))], cwd=tmp_path,
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert '"name":"lost-responses"' in run.stdout and '"scenario":"flaky-uplink"' in run.stdout
    assert server.admin("/faults").json()["faults"] == []


def test_the_swift_example_is_compiled():
    """docs/faults.md's Scenarios Swift block is the body of a test in ScenarioLiveTests.swift."""
    text = (REPO / "docs" / "faults.md").read_text()
    swift = re.search(r"## Scenarios\n.*?```swift\n(.*?)```", text, re.S).group(1)
    compiled = (REPO / "Tests/TwitterUploadMockTests/Server/ScenarioLiveTests.swift").read_text()
    between = compiled.split("// docs/faults.md scenarios example begins\n", 1)[1].split(
        "            // docs/faults.md scenarios example ends", 1)[0]
    assert swift == "\n".join(line[12:] for line in between.splitlines()) + "\n"
