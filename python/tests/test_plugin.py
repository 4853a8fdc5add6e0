"""The pytest fixtures, run in an inner pytest session exactly as a user's suite would use them."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from twitter_upload_mock import MockServer

PLUGIN = ("-p", "twitter_upload_mock.plugin")


def test_per_test_server_marker_and_config_override(pytester):
    pytester.makepyfile(test_inner="""
        import pytest, urllib.request

        def test_fresh_server_per_test(upload_mock, request):
            assert upload_mock.health() == "ok" and upload_mock.uploads() == []
            request.config.cache.set("first_port", upload_mock.port)

        def test_another_fresh_server(upload_mock, request):
            assert upload_mock.port != request.config.cache.get("first_port", None)

        @pytest.mark.upload_mock(config={"real_rate_limits": False}, seed=5)
        def test_marker_config(upload_mock):
            assert upload_mock.rate_limits() == [] and "--seed" in upload_mock.process.args

        @pytest.mark.upload_mock(tls=True)
        def test_marker_tls(upload_mock):
            assert upload_mock.base_url.startswith("https://") and upload_mock.health() == "ok"

        class TestOverride:
            @pytest.fixture
            def upload_mock_config(self):
                return {"real_rate_limits": False, "rate_limits": [{"match": {"command": "INIT"}, "limit": 1}]}

            def test_override(self, upload_mock):
                assert [r.limit for r in upload_mock.rate_limits()] == [1]
        """)
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=5)


def test_session_server_is_shared_and_reset_between_tests(pytester):
    pytester.makeconftest("""
        import pytest

        @pytest.fixture(scope="session")
        def upload_mock_session_config():
            return {"real_rate_limits": False}
        """)
    pytester.makepyfile(test_inner="""
        import urllib.request
        PORTS = set()

        def init(mock):
            request = urllib.request.Request(mock.upload_url, method="POST",
                                             data=b"command=INIT&total_bytes=1&media_type=video/mp4")
            urllib.request.urlopen(request).read()

        def test_first(upload_mock_shared):
            PORTS.add(upload_mock_shared.port)
            init(upload_mock_shared)
            upload_mock_shared.add_fault({"command": "APPEND"}, {"status": 500})
            assert len(upload_mock_shared.uploads()) == 1

        def test_second_sees_a_clean_server(upload_mock_shared):
            PORTS.add(upload_mock_shared.port)
            assert upload_mock_shared.uploads() == [] and upload_mock_shared.requests() == []
            assert upload_mock_shared.faults() == [] and upload_mock_shared.rate_limits() == []
            assert len(PORTS) == 1
        """)
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=2)


def test_scoped_views_of_one_shared_server_stay_apart_across_parallel_workers(pytester):
    """Two "workers" (threads) share the session server; each sees only its own upload and rule."""
    pytester.makepyfile(test_inner="""
        import threading, urllib.request

        def init(mock, token):
            request = urllib.request.Request(mock.base_url + "/2/media/upload/initialize", method="POST",
                                             headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                                             data=b'{"media_type":"video/mp4","total_bytes":1,"media_category":"tweet_video"}')
            urllib.request.urlopen(request).read()

        def test_two_workers(upload_mock_scoped, upload_mock_session):
            other = upload_mock_session.scoped("other-worker")
            threads = [threading.Thread(target=init, args=(upload_mock_scoped, upload_mock_scoped.scope)),
                       threading.Thread(target=init, args=(other, "other-worker"))]
            [t.start() for t in threads]
            [t.join() for t in threads]
            upload_mock_scoped.add_fault({"command": "APPEND"}, {"status": 503})
            assert len(upload_mock_scoped.uploads()) == 1 and len(other.uploads()) == 1
            assert len(upload_mock_session.uploads()) == 2
            assert [r.scope for r in upload_mock_scoped.faults()] == [upload_mock_scoped.scope]
            assert other.faults() == []
            assert [e.scope for e in upload_mock_scoped.requests()] == [upload_mock_scoped.scope]

        def test_the_view_was_forgotten_after_its_test(upload_mock_session):
            assert [u.raw["owner"] for u in upload_mock_session.uploads()] == [None]
            assert upload_mock_session.faults() == []
        """)
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=2)


def test_a_scoped_view_moves_its_own_clock_and_forgets_it_after_the_test(pytester):
    pytester.makepyfile(test_inner="""
        def test_a_day_later(upload_mock_scoped, upload_mock_session, request):
            request.config.cache.set("scope", upload_mock_scoped.scope)
            upload_mock_scoped.clock.advance(86_400)
            assert upload_mock_scoped.clock.reading().offset_secs == 86_400
            assert upload_mock_session.clock.reading().offset_secs == 0

        def test_the_clock_was_forgotten_after_its_test(upload_mock_session, request):
            earlier = upload_mock_session.scoped(request.config.cache.get("scope", None))
            assert earlier.clock.reading().offset_secs == 0
        """)
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=2)


def test_the_readmes_clock_example_as_written(pytester):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    pytester.makepyfile(test_inner=re.search(r"fast-forwards them:\n\n```python\n(.*?)```", readme, re.S)[1])
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1)


def test_a_server_that_dies_during_a_test_fails_it(pytester):
    pytester.makepyfile(test_inner="""
        import os, signal

        def test_kills_its_server(upload_mock):
            os.kill(upload_mock.process.pid, signal.SIGKILL)
            upload_mock.process.wait()
        """)
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*twitter-upload-mock exited with status -9 during the test*"])


def test_marker_is_registered(pytester):
    result = pytester.runpytest(*PLUGIN, "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.upload_mock(config=None, tls=False, args=(), seed=None)*"])


def test_a_failing_test_reports_what_the_mock_saw(pytester):
    """The report of a failing test shows its scope's uploads with segment maps, the last
    requests with statuses and fired faults, and the dashboard's address; a passing one nothing."""
    pytester.makepyfile(test_inner="""
        import urllib.error, urllib.request

        def post(mock, body, token=None):
            headers = {"Authorization": f'OAuth oauth_token="{token}"'} if token else {}
            request = urllib.request.Request(mock.upload_url, method="POST", data=body.encode(), headers=headers)
            try:
                return urllib.request.urlopen(request).read()
            except urllib.error.HTTPError as error:
                return error.code

        def upload_with_a_retry(mock, token=None):
            mock.add_fault({"command": "APPEND", "segment_index": 1}, {"status": 503}, times=1)
            media_id = __import__("json").loads(post(mock, "command=INIT&total_bytes=4&media_type=video/mp4", token))["media_id_string"]
            for index in (0, 1, 1, 3):
                post(mock, f"command=APPEND&media_id={media_id}&segment_index={index}&media_data=YQ==", token)
            return media_id

        def test_per_test_server(upload_mock):
            upload_with_a_retry(upload_mock)
            assert [e.status for e in upload_mock.requests(segment_index=1)] == [204]

        def test_scoped_view(upload_mock_scoped):
            upload_with_a_retry(upload_mock_scoped, token=upload_mock_scoped.scope)
            assert upload_mock_scoped.uploads() == []

        def test_passing(upload_mock_shared):
            upload_with_a_retry(upload_mock_shared)
        """)
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1, failed=2)
    output = result.stdout.str()
    assert output.count(" twitter-upload-mock ---") == 2, output  # the section's title, once per failure
    result.stdout.fnmatch_lines([
        "*- twitter-upload-mock -*",
        "twitter-upload-mock: 1 upload, 5 requests",
        "dashboard: http://127.0.0.1:*/__admin/ui",
        "  upload * v1.1  video/mp4  initialized  3/4 bytes in 3 segments",
        "    segments 0-3 (# arrived, R retried, X refused, . missing):",
        "       0  #R.#",
        "requests:",
        "  *  v1.1  APPEND  media *  segment 1  -> 503  fault: rule 1, status 503  *",
        "(upload_mock's server stops with the test*",
    ])
    result.stdout.fnmatch_lines([
        "twitter-upload-mock: 1 upload, 5 requests with X-Mock-Scope test-*",
        "dashboard: http://127.0.0.1:*/__admin/ui?scope=test-*",
        "       0  #R.#",
    ])

def test_the_readme_lists_every_fixture():
    """python/README.md's fixture table, held to the plugin's fixtures."""
    here = Path(__file__).resolve().parents[1]
    defined = set(re.findall(r"@pytest\.fixture[^\n]*\ndef (\w+)", (here / "src" / "twitter_upload_mock" / "plugin.py").read_text()))
    listed = set(re.findall(r"^\| `(\w+)` \| (?:test|session) \|", (here / "README.md").read_text(), re.M))
    assert defined and listed == defined, (listed, defined)


def _gone(pid):
    """Whether a process has exited (a zombie waiting for its reaper counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_servers_die_with_a_killed_pytest_and_the_next_run_removes_their_directories(pytester, tmp_path, sig):
    """pytest killed outright runs no fixture teardown and no atexit: its servers stop anyway
    (their stdin is a pipe only pytest held), and the next run removes the working directories
    it left behind."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    facts = tmp_path / "servers.json"
    pytester.makepyfile(test_inner=f"""
        import json, time

        def test_waits_to_be_killed(upload_mock, upload_mock_session):
            servers = [upload_mock, upload_mock_session]
            with open({str(facts)!r}, "w") as out:
                json.dump([{{"pid": s.process.pid, "port": s.port, "workdir": str(s._workdir)}} for s in servers], out)
            time.sleep(300)
        """)
    environment = {**os.environ, "TMPDIR": str(temp)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PLUGIN, "test_inner.py"]
    inner = subprocess.Popen(command, cwd=pytester.path, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not facts.exists() or not facts.read_text():
        assert inner.poll() is None and time.monotonic() < deadline, "the inner pytest never started its servers"
        time.sleep(0.05)
    servers = json.loads(facts.read_text())
    assert all(socket.create_connection(("127.0.0.1", s["port"]), timeout=5) for s in servers)
    inner.send_signal(sig)
    inner.wait(timeout=10)
    deadline = time.monotonic() + 10
    while not all(_gone(s["pid"]) for s in servers):
        assert time.monotonic() < deadline, f"servers outlived pytest killed with {sig.name}: {servers}"
        time.sleep(0.05)
    for server in servers:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server["port"]), timeout=5)
    left = sorted(p.name for p in temp.iterdir())
    assert left == sorted(Path(s["workdir"]).name for s in servers), "nothing cleaned up after a killed pytest"

    pytester.makepyfile(test_next="""
        def test_next_run(upload_mock):
            assert upload_mock.health() == "ok"
        """)
    next_run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PLUGIN, "test_next.py"],
                              cwd=pytester.path, env=environment, capture_output=True, text=True, timeout=120)
    assert next_run.returncode == 0, next_run.stdout + next_run.stderr
    assert list(temp.iterdir()) == [], "the next run removes what the killed one left, and its own"


def test_a_live_servers_directory_is_never_swept(tmp_path):
    """Another process's server (here: one of this process, in the same directory) keeps its
    working directory while a sweep runs."""
    from twitter_upload_mock.server import remove_abandoned_workdirs

    with MockServer() as mock:
        remove_abandoned_workdirs(str(Path(mock._workdir).parent))
        assert Path(mock._workdir).is_dir() and mock.health() == "ok"



SCENARIO_TESTS = """
    import json, pytest, urllib.error, urllib.request

    def post(mock, fields, method="POST", token=None):
        '''One request, sent again after a lost answer or a 503 (the retry logic under test).'''
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = "&".join(f"{name}={value}" for name, value in fields.items())
        for _ in range(4):
            request = urllib.request.Request(mock.upload_url + ("?" + body if method == "GET" else ""), method=method,
                                             data=None if method == "GET" else body.encode(), headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    return json.loads(answer.read() or b"null")
            except urllib.error.HTTPError as error:
                if error.code != 503:
                    raise
            except (ConnectionError, urllib.error.URLError):
                pass
        raise AssertionError("gave up after 4 tries")

    def upload(mock, token=None):
        media_id = post(mock, {"command": "INIT", "total_bytes": 3, "media_type": "video/mp4",
                               "media_category": "tweet_video"}, token=token)["media_id_string"]
        post(mock, {"command": "APPEND", "media_id": media_id, "segment_index": 0, "media_data": "YWJj"}, token=token)
        info = post(mock, {"command": "FINALIZE", "media_id": media_id}, token=token)["processing_info"]
        while info["state"] in ("pending", "in_progress"):
            info = post(mock, {"command": "STATUS", "media_id": media_id}, "GET", token=token)["processing_info"]
        assert info["state"] == "succeeded", info

    @pytest.mark.upload_mock(config={"processing": {"check_after_secs": 0}})
    def test_upload(upload_mock):
        upload(upload_mock)

    def test_scoped_upload(upload_mock_scoped, upload_mock_scenario):
        assert {rule.scenario for rule in upload_mock_scoped.faults()} == {upload_mock_scenario}
        assert {rule.scope for rule in upload_mock_scoped.faults()} == {upload_mock_scoped.scope}
        upload(upload_mock_scoped, token=upload_mock_scoped.scope)

    def test_without_the_mock():
        pass

    @pytest.mark.upload_mock_scenarios("over-capacity")
    def test_marked(upload_mock_shared):
        assert [rule.scenario for rule in upload_mock_shared.faults()] == ["over-capacity", "over-capacity"]
"""


def test_scenarios_option_runs_each_mock_test_once_per_scenario_and_sums_up(pytester):
    """--upload-mock-scenarios: ids name the scenario, the scenario is installed on the server or
    in the scope, a failing run's report names it, and the summary says which scenarios each
    test survived (this retry logic survives lost answers, not failed processing)."""
    pytester.makepyfile(test_inner=SCENARIO_TESTS)
    result = pytester.runpytest(*PLUGIN, "-v", "--upload-mock-scenarios=lost-responses, processing-fails")
    result.assert_outcomes(passed=4, failed=2)
    result.stdout.fnmatch_lines_random([
        "*test_upload?lost-responses? PASSED*", "*test_upload?processing-fails? FAILED*",
        "*test_scoped_upload?lost-responses? PASSED*", "*test_scoped_upload?processing-fails? FAILED*",
        "*test_without_the_mock PASSED*", "*test_marked?over-capacity? PASSED*",
    ])
    result.stdout.fnmatch_lines(["*- twitter-upload-mock -*", "scenario: processing-fails"])
    result.stdout.fnmatch_lines([
        "*= twitter-upload-mock scenarios =*",
        "lost-responses    passed  2 passed",
        "processing-fails  FAILED  2 failed: test_inner.py::test_upload, test_inner.py::test_scoped_upload",
        "over-capacity     passed  1 passed",
    ])


def test_the_marker_alone_and_all(pytester):
    pytester.makepyfile(test_inner="""
        import pytest

        @pytest.mark.upload_mock_scenarios("all")
        def test_every_scenario(upload_mock, upload_mock_scenario):
            assert upload_mock_scenario in {scenario.name for scenario in upload_mock.scenarios() if scenario.installed}

        def test_no_scenario(upload_mock, upload_mock_scenario):
            assert upload_mock_scenario is None and upload_mock.faults() == []
        """)
    result = pytester.runpytest(*PLUGIN, "-q")
    result.assert_outcomes(passed=9)
    summary = result.stdout.str().split("twitter-upload-mock scenarios")[1]
    assert len([line for line in summary.splitlines() if "passed  1 passed" in line]) == 8


def test_an_unknown_scenario_stops_the_run_naming_the_known_ones(pytester):
    pytester.makepyfile(test_inner="def test_upload(upload_mock):\n    pass\n")
    result = pytester.runpytest(*PLUGIN, "--upload-mock-scenarios=lost-response")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--upload-mock-scenarios: no scenario 'lost-response': the scenarios are flaky-uplink, lost-responses, *"])
    pytester.makepyfile(test_inner="""
        import pytest

        @pytest.mark.upload_mock_scenarios("slow-uplnk")
        def test_upload(upload_mock):
            pass
        """)
    result = pytester.runpytest(*PLUGIN)
    result.stdout.fnmatch_lines(["*@pytest.mark.upload_mock_scenarios: no scenario 'slow-uplnk': the scenarios are *"])
    assert result.ret != 0


def test_the_readmes_scenario_example_as_written(pytester):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    pytester.makepyfile(test_inner=re.search(r"with or without the option:\n\n```python\n(.*?)```", readme, re.S)[1])
    result = pytester.runpytest(*PLUGIN, "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines_random(["*test_inits_survive_503s?over-capacity? PASSED*",
                                        "*test_inits_survive_503s?rate-limited-appends? PASSED*"])


def test_ones_own_scenarios_join_all(pytester):
    own = pytester.mkdir("scenarios")
    (own / "gateway-timeout.json").write_text(
        '{"name": "gateway-timeout", "description": "One 504.", "faults": [{"action": {"status": 504}, "times": 1}]}\n')
    pytester.makepyfile(test_inner="""
        def test_installed(upload_mock, upload_mock_scenario):
            assert upload_mock_scenario in {scenario.name for scenario in upload_mock.scenarios() if scenario.installed}

        def test_scoped(upload_mock_scoped, upload_mock_scenario):
            assert {rule.scenario for rule in upload_mock_scoped.faults() + upload_mock_scoped.rate_limits()} == {upload_mock_scenario}
        """)
    result = pytester.runpytest(*PLUGIN, "-v", "--upload-mock-scenarios=all", "--upload-mock-scenarios-dir=scenarios")
    result.assert_outcomes(passed=18)
    result.stdout.fnmatch_lines(["*test_installed?gateway-timeout? PASSED*", "gateway-timeout * passed  2 passed"])
    (own / "broken.json").write_text('{"name": "broken", "description": "x", "faults": [{"action": {}}]}\n')
    result = pytester.runpytest(*PLUGIN, "--upload-mock-scenarios=all", "--upload-mock-scenarios-dir=scenarios")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*twitter-upload-mock: scenario file */scenarios/broken.json: faults?0?.action needs at least one of status, *"])
