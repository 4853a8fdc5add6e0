"""README's first examples, run (or compiled) exactly as written, only the port changed: the
v1.1 walkthrough with its ready-file wait, the verification, isolation and failure commands,
tweepy over HTTPS, and the Swift embedding example (which is a compiled test file)."""
import os
import re
import socket
import subprocess
import sys

from conftest import BINARY, REPO

README = (REPO / "README.md").read_text()


def section(heading):
    """The text under one `## ` or `### ` heading, up to the next heading."""
    text = README.split(heading + "\n", 1)[1]
    return re.split(r"\n#{2,3} ", text, 1)[0]


def blocks(heading, kind):
    return re.findall(rf"```{kind}\n(.*?)```", section(heading), re.S)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def localized(code, port, tmp_path):
    return (code.replace("scripts/run", str(BINARY)).replace("8080", str(port)).replace("/tmp/a", str(tmp_path / "a"))
            .replace("/tmp/b", str(tmp_path / "b")))


def run(command, timeout=60, tmp_path=None):
    env = {**os.environ, "TMPDIR": str(tmp_path)} if tmp_path else None  # mktemp writes there
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_walkthrough_verification_isolation_and_faults_as_written(tmp_path):
    port = free_port()
    [walkthrough] = blocks("## Upload something", "sh")
    [verify] = blocks("## Verify what arrived", "sh")
    [verify_python] = blocks("## Verify what arrived", "python")
    [isolation] = blocks("## Isolation: many test workers, one server", "sh")
    [faults] = blocks("## Rehearse failures", "sh")
    [clock] = blocks("## Fast-forward time", "sh")
    faults = "\n".join(line for line in faults.splitlines() if not line.startswith("scripts/run"))
    assert 'READY=$(mktemp -d)/url' in walkthrough and 'until [ -s "$READY" ]' in walkthrough, \
        "the walkthrough waits for the server on a fresh ready file"
    script = "trap 'kill %1' EXIT\n" + localized(walkthrough, port, tmp_path)
    script += "python3 - <<'PYTHON'\n" + localized(verify_python, port, tmp_path) + "PYTHON\n"
    script += localized(verify, port, tmp_path) + localized(isolation, port, tmp_path) + localized(faults, port, tmp_path)
    script += localized(clock, port, tmp_path)
    output = run(["bash", "-euo", "pipefail", "-c", script], tmp_path=tmp_path)
    assert '"processing_info":{"state":"pending","check_after_secs":1}' in output
    assert '"state":"in_progress"' in output
    assert '{"count":5}' in output
    assert '"openapi":"3.1' in output.replace(" ", "")
    assert '"offset_secs":86400.0' in output and "expired: it was valid for 86400 seconds after INIT." in output
    assert output.rstrip().endswith('"offset_secs":0.0}'), "the clock is back on real time"


def test_tweepy_over_https_as_written(tmp_path):
    port = free_port()
    [start] = blocks("## HTTPS, for clients that hard-code `https://`", "sh")
    [client] = blocks("## HTTPS, for clients that hard-code `https://`", "python")
    server = subprocess.Popen(localized(start, port, tmp_path).split() + ["--port", str(port)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout.readline().startswith("listening on https://")
        output = run([sys.executable, "-c", localized(client, port, tmp_path)])
        media_id, processing = output.split(" ", 1)
        assert media_id.isdigit() and "succeeded" in processing  # tweepy polls STATUS until done
    finally:
        server.terminate()
        server.wait(timeout=5)


def test_the_swift_embedding_example_is_the_compiled_test_file():
    [dependency, example] = blocks("## Embed it in Swift tests", "swift")
    compiled = (REPO / "Tests/TwitterUploadMockTests/Readme/ReadmeExampleTests.swift").read_text()
    between = compiled.split("// README example begins\n", 1)[1].split("// README example ends", 1)[0]
    assert example == between
    assert '.package(path: "../twitter-upload-mock")' in dependency and "OWNER" not in README


def test_the_scenario_run_as_written(tmp_path):
    """README, Every production failure in one pytest run: the test file and the pytest command
    as written (the plugin loaded from source, as the wheel registers it), and the verdicts shown."""
    heading = "### Every production failure in one pytest run"
    [test_file] = blocks(heading, "python")
    [commands] = blocks(heading, "sh")
    [summary] = blocks(heading, "text")
    (tmp_path / "test_upload.py").write_text(test_file)
    command = next(line for line in commands.splitlines() if line.startswith("pytest ")).split("#")[0].split()
    environment = {**os.environ, "PYTHONPATH": str(REPO / "python" / "src"), "TWITTER_UPLOAD_MOCK_BIN": str(BINARY),
                   "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run([sys.executable, "-m", *command[:1], "-p", "twitter_upload_mock.plugin", "-p", "no:cacheprovider",
                             *command[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=environment)
    assert result.returncode == 1, result.stdout[-5000:] + result.stderr  # five scenarios fail, as the README says
    shown = result.stdout.split(" twitter-upload-mock scenarios ", 1)[1].split("\n", 1)[1].split("\n====", 1)[0]
    assert shown.splitlines() == summary.splitlines()[1:]
    assert "FAILED test_upload.py::test_video_upload[stalled-proxy]" in result.stdout
