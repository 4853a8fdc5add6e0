"""docs/admin-openapi.json: valid OpenAPI 3.1, served byte for byte at /__admin/openapi.json, and
true of the live server, both for real uploads and for what schemathesis throws at it."""
import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import schemathesis
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from conftest import BINARY, FIXTURES, REPO, append, finalize, init

HERE = Path(__file__).resolve().parent
DOCUMENT = REPO / "docs" / "admin-openapi.json"
METADATA = "/1.1/media/metadata/create.json"
SUBTITLES_CREATE = "/1.1/media/subtitles/create.json"
SRT = b"1\n00:00:00,000 --> 00:00:01,000\nHello\n"
# Cases per operation in the fuzzing and stateful phases (examples and coverage come from the
# document itself): the whole schemathesis part stays well under a minute on 2 shared cores.
SCHEMATHESIS_EXAMPLES = 25


@pytest.fixture(scope="module")
def document():
    return json.loads(DOCUMENT.read_text())


def documented_answers(document):
    """Every (path, METHOD, status) the document promises."""
    return {(path, method.upper(), status)
            for path, item in document["paths"].items()
            for method, operation in item.items() if method != "parameters"
            for status in operation["responses"]}


def test_document_is_valid_openapi_3_1(document):
    validate(document, cls=OpenAPIV31SpecValidator)
    operation_ids = [operation["operationId"] for item in document["paths"].values()
                     for method, operation in item.items() if method != "parameters"]
    assert len(set(operation_ids)) == len(operation_ids) and all(i.isidentifier() for i in operation_ids)  # code generators need both
    broken = copy.deepcopy(document)  # the validator does look deep: a path parameter must be required
    broken["components"]["parameters"]["RuleID"]["required"] = False
    with pytest.raises(OpenAPIValidationError):
        validate(broken, cls=OpenAPIV31SpecValidator)


def test_served_byte_for_byte_as_json(mock):
    response = requests.get(mock.url("/__admin/openapi.json"))
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert response.content == DOCUMENT.read_bytes(), "the server is stale: run scripts/sync-openapi, then build"


def test_version_is_the_servers(document):
    printed = subprocess.run([BINARY, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert printed == document["info"]["version"]


def test_unknown_method_is_405_with_allow(mock):
    response = requests.put(mock.url("/__admin/faults"), data="{}")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST, DELETE"
    assert set(response.json()) == {"error"}


def bounded_rules(start_mock):
    """A server where one fault rule is all admin.max_rules allows, and it is in force."""
    server = start_mock({"admin": {"max_rules": 1}, "faults": [{"action": {"delay_ms": 0}}]})
    return server


def test_every_documented_answer_matches_a_real_one(mock, start_mock, document, tmp_path):
    """Real uploads, faults that fired, alt text, subtitles, the clock, compatibility switches,
    scenarios, every refusal: each answer is validated against the document, and every answer the
    document lists is seen at least once."""
    schema = schemathesis.openapi.from_dict(document)
    seen = set()

    def admin(method, path, template=None, status=200, declared_length=None, server=mock, **kwargs):
        if declared_length is None:
            response = requests.request(method, server.url(path), **kwargs)
        else:  # a length over the limit is refused before any body is sent, so send none
            request = requests.Request(method, server.url(path), headers={"Expect": "100-continue"}).prepare()
            request.headers["Content-Length"] = str(declared_length)
            with requests.Session() as session:
                response = session.send(request)
        assert response.status_code == status, response.text
        template = template or path
        schema[template][method].validate_response(response)
        seen.add((template, method, str(status)))
        return response

    # Rules: one, then several at once, each delay kind, a rate limit beside the defaults.
    retry = admin("POST", "/__admin/faults", status=201, json={
        "match": {"command": "APPEND", "segment_index": 1}, "action": {"status": 503}, "times": 1}).json()
    dropped = admin("POST", "/__admin/faults", status=201, json={
        "match": {"command": "APPEND", "segment_index": 2, "media_id": None}, "action": {"fault": "close"},
        "after_commit": True, "times": 1}).json()
    several = admin("POST", "/__admin/faults", status=201, json=[
        {"match": {"command": "SUBTITLES_DELETE", "probability": 0.5, "skip": 3},
         "action": {"delay": {"distribution": "uniform", "min_ms": 0, "max_ms": 1}, "fault": "slow", "bytes_per_sec": 10}},
        {"match": {"api": "v2", "media_id": "1612442591349108011"},
         "action": {"delay": {"distribution": "lognormal", "median_ms": 1}, "fault": "truncate", "truncate_bytes": 3,
                    "status": 500, "error": "boom"}},
        {"match": {"method": "delete", "path": "/nowhere"}, "action": {"delay_ms": 1.5}}]).json()
    assert [r["id"] for r in several["faults"]] == ["3", "4", "5"]
    # The fields scenarios use: an APPEND's attempt, a rule's own seed, a clock advance, a processing result.
    scenario_fields = admin("POST", "/__admin/faults", status=201, json=[
        {"match": {"command": "APPEND", "attempt": 3, "probability": 0.5}, "action": {"advance_clock_secs": 1.5}, "seed": 5},
        {"match": {"command": "FINALIZE", "media_id": "1"}, "action": {"processing": "succeeded", "delay_ms": 1}}]).json()
    assert [r["seed"] for r in scenario_fields["faults"]] == [5, None]
    limit = admin("POST", "/__admin/rate-limits", status=201,
                  json={"match": {"command": "APPEND", "api": "v1.1"}, "limit": 1000, "window_secs": 60, "per": "global"}).json()
    pair = admin("POST", "/__admin/rate-limits", status=201,
                 json=[{"match": {"segment_index": 7, "media_id": 5}, "limit": 0}, {"limit": 1}]).json()
    # One request per 15 minutes for everything would stop the uploads below.
    admin("DELETE", f"/__admin/rate-limits/{pair['rate_limits'][1]['id']}", "/__admin/rate-limits/{id}", status=204)
    admin("GET", "/__admin/faults")
    admin("GET", "/__admin/rate-limits")

    # A video whose segment 1 answers 503 once and whose segment 2 is stored, then its
    # connection closes; an image with alt text; subtitles attached to the video.
    chunks = [b"a" * 1000, b"b" * 1000, b"c" * 500]
    video = init(mock, 2500, media_category="tweet_video")
    assert append(mock, video, 0, chunks[0]).status_code == 204
    assert append(mock, video, 1, chunks[1]).status_code == 503
    assert append(mock, video, 1, chunks[1]).status_code == 204
    with pytest.raises(requests.ConnectionError):
        append(mock, video, 2, chunks[2])
    assert finalize(mock, video).status_code == 200
    image = requests.post(mock.upload_url, files={"media": ("pixel.png", (FIXTURES / "media" / "pixel.png").read_bytes())})
    image = image.json()["media_id_string"]
    assert requests.post(mock.url(METADATA), json={"media_id": image, "alt_text": {"text": "A pixel"}}).status_code == 200
    captions = init(mock, len(SRT), "text/srt", media_category="subtitles")
    assert append(mock, captions, 0, SRT).status_code == 204
    assert finalize(mock, captions).status_code in (200, 201)
    attached = requests.post(mock.url(SUBTITLES_CREATE), json={"media_id": video, "media_category": "TweetVideo",
                             "subtitle_info": {"subtitles": [{"media_id": captions, "language_code": "EN", "display_name": "English"}]}})
    assert attached.status_code == 200, attached.text
    unfinished = init(mock, 10, "image/png")
    assert append(mock, unfinished, 0, b"12345").status_code == 204

    report = admin("GET", f"/__admin/uploads/{video}", "/__admin/uploads/{id}").json()
    assert [a["status"] for a in report["attempts"]] == [204, 503, 204, None]
    assert report["subtitles"][0]["media_id"] == captions and report["sha256"]
    assert admin("GET", f"/__admin/uploads/{image}", "/__admin/uploads/{id}").json()["alt_text"] == "A pixel"
    assert "sha256" not in admin("GET", f"/__admin/uploads/{unfinished}", "/__admin/uploads/{id}").json()
    assert admin("GET", f"/__admin/uploads/{video}/media", "/__admin/uploads/{id}/media").content == b"".join(chunks)
    assert len(admin("GET", "/__admin/uploads").json()["uploads"]) == 4
    entries = admin("GET", "/__admin/requests").json()["requests"]
    assert {e["fault_rule"] for e in entries} == {None, retry["id"], dropped["id"]}
    assert [e["segment_index"] for e in admin("GET", "/__admin/requests?status=none&fault=true&api=v1.1",
                                              "/__admin/requests").json()["requests"]] == [2]
    assert admin("GET", f"/__admin/requests/count?command=APPEND&media_id={video}&segment_index=1&since=0",
                 "/__admin/requests/count").json() == {"count": 2}
    for since, count in (("2000-01-01t00:00:00.5+05:30", 2), ("9999-01-01T00:00:00z", 0)):  # RFC 3339, as documented
        assert admin("GET", f"/__admin/requests/count?segment_index=1&since={since.replace('+', '%2B')}",
                     "/__admin/requests/count").json() == {"count": count}
    admin("GET", "/__admin/health")
    admin("GET", "/__admin/openapi.json")
    admin("GET", "/__admin")
    admin("GET", "/__admin", headers={"Accept": "text/html"})
    newest = admin("GET", "/__admin/requests?order=newest&limit=2&after=1", "/__admin/requests").json()["requests"]
    assert [e["id"] for e in admin("GET", f"/__admin/requests?before={newest[0]['id']}&order=newest&limit=1",
                                   "/__admin/requests").json()["requests"]] == [newest[1]["id"]]
    har = admin("GET", f"/__admin/requests.har?media_id={video}&fault=true", "/__admin/requests.har").json()
    assert [e["response"]["status"] for e in har["log"]["entries"]] == [503, 0]
    assert f"upload {video}" in admin("GET", "/__admin/timeline?uploads=4&requests=3", "/__admin/timeline").text

    # The clock: moved, frozen, set, read within a scope, refused, back to real time.
    admin("POST", "/__admin/clock", json={"advance_secs": 86_400})
    admin("POST", "/__admin/clock", json={"freeze": True})
    admin("POST", "/__admin/clock", headers={"X-Mock-Scope": "worker-7"}, json={"set": 1_893_456_000})
    assert admin("GET", "/__admin/clock", headers={"X-Mock-Scope": "worker-7"}).json()["now"] == 1_893_456_000
    assert admin("GET", f"/__admin/uploads/{video}", "/__admin/uploads/{id}").json()["state"] == "expired"
    clocked = init(mock, 1)
    assert append(mock, clocked, 0, b"x").status_code == 204
    assert admin("GET", f"/__admin/uploads/{clocked}", "/__admin/uploads/{id}").json()["attempts"][0]["clock_time"]
    assert admin("GET", f"/__admin/requests?media_id={clocked}", "/__admin/requests").json()["requests"][0]["clock_time"]
    admin("POST", "/__admin/clock", status=400, json={"set": 0})
    admin("DELETE", "/__admin/clock", headers={"X-Mock-Scope": "worker-7"})
    admin("DELETE", "/__admin/clock")
    bounded = start_mock({"admin": {"max_scoped_clocks": 1}})
    admin("POST", "/__admin/clock", server=bounded, headers={"X-Mock-Scope": "a"}, json={"freeze": True})
    admin("POST", "/__admin/clock", server=bounded, status=409, headers={"X-Mock-Scope": "b"}, json={"freeze": True})
    assert admin("GET", "/__admin/compatibility").json() == {"infer_v2_segment_index": False}
    assert admin("PATCH", "/__admin/compatibility", json={"infer_v2_segment_index": True}).json() == {
        "infer_v2_segment_index": True}

    # Scenarios: listed, installed for everyone and for one scope, removed; refused.
    assert len(admin("GET", "/__admin/scenarios").json()["scenarios"]) == 8
    installed = admin("POST", "/__admin/scenarios/processing-fails", "/__admin/scenarios/{name}", status=201).json()
    assert installed["faults"][0]["scenario"] == "processing-fails"
    admin("POST", "/__admin/scenarios/rate-limited-appends", "/__admin/scenarios/{name}", status=201,
          headers={"X-Mock-Scope": "worker-7"})
    assert admin("GET", "/__admin/scenarios", headers={"X-Mock-Scope": "worker-7"}).json()["scenarios"][4]["installed"]
    admin("GET", "/__admin/faults")
    admin("GET", "/__admin/rate-limits")
    admin("DELETE", "/__admin/scenarios/processing-fails", "/__admin/scenarios/{name}", status=204)
    admin("POST", "/__admin/scenarios/lost-response", "/__admin/scenarios/{name}", status=404)
    admin("DELETE", "/__admin/scenarios/lost-response", "/__admin/scenarios/{name}", status=404)
    own = tmp_path / "scenarios"
    own.mkdir()
    (own / "late-reset.json").write_text(json.dumps({"name": "late-reset", "description": "Reset 1 MB in.", "faults": [
        {"match": {"command": "APPEND"}, "action": {"fault": "reset", "after_request_bytes": 1_000_000}}]}))
    small = start_mock({"limits": {"chunk_bytes": 1000, "image_bytes": 1000, "gif_bytes": 1000}}, args=["--scenarios-dir", str(own)])
    admin("POST", "/__admin/scenarios/late-reset", "/__admin/scenarios/{name}", status=400, server=small)
    admin("POST", "/__admin/scenarios/over-capacity", "/__admin/scenarios/{name}", status=409, server=bounded_rules(start_mock))

    # Refusals.
    admin("GET", "/__admin/uploads/1", "/__admin/uploads/{id}", status=404)
    admin("GET", "/__admin/uploads/x/media", "/__admin/uploads/{id}/media", status=404)
    for path in ("/__admin/requests", "/__admin/requests/count", "/__admin/requests.har"):
        admin("GET", path + "?stauts=503", path, status=400)
    admin("GET", "/__admin/timeline?uploads=-1", "/__admin/timeline", status=400)
    admin("POST", "/__admin/faults", status=400, json={"action": {"status": 503, "statuss": 1}})
    admin("POST", "/__admin/rate-limits", status=400, json={"match": {"skip": 1}, "limit": 1})
    inverted = [{"action": {"delay": {"distribution": "uniform", "min_ms": 2, "max_ms": 1}}}]  # the rule JSON Schema cannot state
    assert admin("POST", "/__admin/faults", status=400, json=inverted).json() == {
        "error": "rules[0].action.delay: uniform needs min_ms <= max_ms"}
    admin("DELETE", "/__admin/faults/99", "/__admin/faults/{id}", status=404)
    admin("DELETE", "/__admin/rate-limits/99", "/__admin/rate-limits/{id}", status=404)
    admin("PATCH", "/__admin/compatibility", status=400, json={"infer_v2_segment_index": 1})
    one_scope = start_mock({"admin": {"max_rules": 1}})
    for scope, status in (("worker-1", 200), ("worker-1", 200), ("worker-2", 409)):
        admin("PATCH", "/__admin/compatibility", status=status, server=one_scope, headers={"X-Mock-Scope": scope},
              json={"infer_v2_segment_index": True})
    for path, item in document["paths"].items():
        concrete = path.replace("{id}", "1")
        for method in (m for m in item if m != "parameters"):
            admin(method.upper(), concrete, path, status=413, declared_length=1024 * 1024 + 1)

    # At most 10,000 rules of each kind: filling up to it works, one more is 409 and adds nothing.
    for path, rule in (("/__admin/faults", {"match": {"path": "/nowhere"}, "action": {"delay_ms": 0}}),
                       ("/__admin/rate-limits", {"match": {"path": "/nowhere"}, "limit": 1})):
        key = path.rsplit("/", 1)[1].replace("-", "_")
        in_force = len(requests.get(mock.url(path)).json()[key])
        assert len(admin("POST", path, status=201, json=[rule] * (10_000 - in_force)).json()[key]) == 10_000 - in_force
        refused = admin("POST", path, status=409, json=rule).json()["error"]
        assert refused.endswith("may be in force (admin.max_rules): 10000 are, and this request adds 1"), refused
        assert len(requests.get(mock.url(path)).json()[key]) == 10_000

    admin("DELETE", f"/__admin/faults/{several['faults'][2]['id']}", "/__admin/faults/{id}", status=204)  # rule 1 retired
    admin("DELETE", f"/__admin/rate-limits/{limit['id']}", "/__admin/rate-limits/{id}", status=204)
    admin("DELETE", "/__admin/faults", status=204)
    admin("DELETE", "/__admin/rate-limits", status=204)
    admin("POST", "/__admin/reset")
    assert admin("GET", "/__admin/compatibility").json() == {"infer_v2_segment_index": False}
    assert documented_answers(document) - seen == set()


def run_schemathesis(server, tmp_path, name, config, phases, *selection):
    """One schemathesis CLI run against `server`; its JSON report."""
    config_file = tmp_path / f"{name}.toml"
    config_file.write_text(config)
    report = tmp_path / f"{name}.json"
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config_file),
               "run", server.url("/__admin/openapi.json"), "--url", server.base_url,
               "--checks", "all", "--phases", phases,
               "--max-examples", str(SCHEMATHESIS_EXAMPLES), "--seed", "12", "--generation-database", "none",
               "--workers", "2", "--request-timeout", "10", "--no-color",
               "--report", "json", "--report-json-path", str(report), *selection]
    environment = {**os.environ, "SCHEMATHESIS_HOOKS": "schemathesis_hooks", "UPLOAD_MOCK_URL": server.base_url,
                   "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(command, capture_output=True, text=True, timeout=110, cwd=tmp_path, env=environment)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert server.process.poll() is None, server.stderr_text()
    return json.loads(report.read_text())


def test_schemathesis_finds_nothing(start_mock, tmp_path):
    """Every phase (examples, coverage, fuzzing, stateful) against a throwaway server, with a
    fixed seed and budget: no 5xx, every answer's status, headers, content type and body as
    documented, valid input accepted, invalid input refused, and no warning (an operation
    schemathesis could not reach counts as a failure)."""
    server = start_mock()
    upload = init(server, 6, media_category="tweet_video")
    assert append(server, upload, 0, b"abc").status_code == 204
    assert append(server, upload, 1, b"def").status_code == 204
    assert finalize(server, upload).status_code == 200
    # Half the generated ids are this upload, so its report and bytes are checked too. Reset
    # would forget it: it runs alone, afterwards.
    config = (f'[warnings]\nfail-on = true\n[dictionaries.uploaded]\nvalues = ["{upload}"]\n'
              '[[operations]]\ninclude-path-regex = "^/__admin/uploads/"\n'
              'parameters = { "path.id" = { dictionary = "uploaded", probability = 0.5 } }\n')
    started = time.monotonic()
    reports = [run_schemathesis(server, tmp_path, "all-but-reset", config, "examples,coverage,fuzzing,stateful",
                                "--exclude-operation-id", "reset"),
               # Alone, reset links to nothing: no stateful phase.
               run_schemathesis(server, tmp_path, "reset", "[warnings]\nfail-on = true\n", "coverage,fuzzing",
                                "--include-operation-id", "reset")]
    elapsed = time.monotonic() - started
    for report in reports:
        assert report["failures"] == [] and report["errors"] == [], report
        assert not any(report["warnings"].values()), report["warnings"]
    tested = sum(r["operations"]["tested"] for r in reports)
    # Schemathesis leaves out the operation that serves the document it tests.
    assert tested == len({(path, method) for path, method, _ in documented_answers(json.loads(DOCUMENT.read_text()))}) - 1
    print(f"schemathesis: {tested} operations, {sum(r['test_cases']['generated'] for r in reports)} test cases, "
          f"{elapsed:.1f} s, no failures")
