"""docs/clock.md's examples run as written (only the port changes): the curl blocks against the
built server, the config against a fresh one, the Python one with the package from source, and
the Swift one is the compiled body of a test in ClockLiveTests.swift."""
import json
import os
import re
import subprocess
import sys

from conftest import BINARY, REPO, MockServer

TEXT = (REPO / "docs" / "clock.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", TEXT, re.S)


def code(kind):
    return [body for found, body in BLOCKS if found == kind]


def run(command, **environment):
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60,
                            env={**os.environ, **environment})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def answers(output):
    """The admin API's answers, which curl prints one after another without newlines."""
    return json.loads("[" + output.replace("}{", "},{") + "]")


def test_the_page_has_the_examples_this_test_runs():
    assert [kind for kind, _ in BLOCKS] == ["sh", "sh", "sh", "json", "python", "swift"]
    assert "(docs/clock.md)" in (REPO / "README.md").read_text() and "(clock.md)" in (REPO / "docs" / "faults.md").read_text()


def test_the_curl_examples(mock):
    moved, expiring, scoped = (block.replace("127.0.0.1:8080", f"127.0.0.1:{mock.port}") for block in code("sh"))
    readings = answers(run(["bash", "-euo", "pipefail", "-c", moved]))
    assert [(r["frozen"], round(r["offset_secs"])) for r in readings[:2]] == [(False, 0), (False, 86_400)]
    assert [r["frozen"] for r in readings[2:]] == [True, True, False, False]
    assert readings[3]["now"] == 1_893_456_000 and readings[5]["offset_secs"] == 0
    output = run(["bash", "-euo", "pipefail", "-c", expiring])
    assert "expired: it was valid for 86400 seconds after INIT. Start a new upload with INIT." in output
    [finalize] = [e for e in mock.admin("/requests").json()["requests"] if e["command"] == "FINALIZE"]
    assert finalize["status"] == 400 and finalize["clock_time"] is not None
    readings = answers(run(["bash", "-euo", "pipefail", "-c", scoped]))
    assert [r["offset_secs"] for r in readings] == [3_600, 0, 0]


def test_the_config_and_python_examples(tmp_path):
    [config] = code("json")
    server = MockServer(tmp_path, json.loads(config))
    try:
        assert server.admin("/health").status_code == 200
    finally:
        assert server.stop() == 0, server.stderr_text()
    [python] = code("python")
    output = run([sys.executable, "-c", python], PYTHONPATH=str(REPO / "python" / "src"), TWITTER_UPLOAD_MOCK_BIN=BINARY)
    assert output.splitlines() == ["in_progress 0", "in_progress 50", "succeeded 100"]


def test_the_swift_example_is_compiled():
    [swift] = code("swift")
    compiled = (REPO / "Tests/TwitterUploadMockTests/Server/ClockLiveTests.swift").read_text()
    between = compiled.split("// docs/clock.md example begins\n", 1)[1].split("            // docs/clock.md example ends", 1)[0]
    assert swift == "\n".join(line[12:] for line in between.splitlines()) + "\n"
