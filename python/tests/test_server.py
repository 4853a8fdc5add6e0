"""The launcher: where the binary comes from, start, stop, failures."""
import os
import signal
import stat
import subprocess
import sys
import textwrap

import pytest

from twitter_upload_mock import BinaryNotFound, MockServer, ServerError, find_binary, server as launcher

REAL_BINARY = os.environ["TWITTER_UPLOAD_MOCK_BIN"]


def executable(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_binary_comes_from_the_environment_then_the_package_then_path(tmp_path, monkeypatch):
    on_path, wrapper_dir, bundled = tmp_path / "path", tmp_path / "wrapper", tmp_path / "bundled"
    for directory in (on_path, wrapper_dir, bundled):
        directory.mkdir()
    (on_path / "twitter-upload-mock").symlink_to(REAL_BINARY)
    # The console script pip writes for this package: found first on PATH, skipped.
    executable(wrapper_dir / "twitter-upload-mock",
               "#!/usr/bin/python3\nfrom twitter_upload_mock.cli import main\nmain()\n")
    monkeypatch.setenv("PATH", f"{wrapper_dir}{os.pathsep}{on_path}")
    monkeypatch.setattr(launcher, "BUNDLED_BINARY", bundled / "twitter-upload-mock")

    monkeypatch.setenv("TWITTER_UPLOAD_MOCK_BIN", REAL_BINARY)
    assert find_binary() == REAL_BINARY
    monkeypatch.delenv("TWITTER_UPLOAD_MOCK_BIN")
    assert find_binary() == str(on_path / "twitter-upload-mock")
    (bundled / "twitter-upload-mock").symlink_to(REAL_BINARY)
    assert find_binary() == str(bundled / "twitter-upload-mock")


def test_missing_binary_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "BUNDLED_BINARY", tmp_path / "absent")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("TWITTER_UPLOAD_MOCK_BIN", str(tmp_path / "nope"))
    with pytest.raises(BinaryNotFound, match=r"\$TWITTER_UPLOAD_MOCK_BIN is '.*nope', which is not an executable"):
        find_binary()
    monkeypatch.delenv("TWITTER_UPLOAD_MOCK_BIN")
    with pytest.raises(BinaryNotFound, match="set \\$TWITTER_UPLOAD_MOCK_BIN, install a platform wheel"):
        MockServer().start()


def test_start_and_stop():
    with MockServer(seed=7) as mock:
        assert mock.base_url == f"http://127.0.0.1:{mock.port}" and mock.port > 0
        assert mock.health() == "ok"
        assert '"listening"' in mock.stderr or "listening" in mock.stderr
    assert mock.process.returncode == 0
    assert mock.stop() == 0  # stopping twice is fine


def test_tls_serves_https_with_its_own_ca():
    with MockServer(tls=True) as mock:
        assert mock.base_url.startswith("https://127.0.0.1:") and os.path.exists(mock.ca_file)
        assert mock.health() == "ok"


def test_a_bad_config_fails_start_with_the_servers_message():
    with pytest.raises(ServerError, match="exited with 2 before listening: .*unknown key 'limits.chunk_byte'"):
        MockServer({"limits": {"chunk_byte": 1}}).start()


def test_a_server_that_dies_is_reported_as_crashed():
    mock = MockServer().start()
    os.kill(mock.process.pid, signal.SIGKILL)
    mock.process.wait()
    assert mock.crashed
    assert mock.stop() == -signal.SIGKILL


def test_a_server_that_ignores_sigterm_is_killed(tmp_path):
    # A stand-in that becomes ready and ignores SIGTERM: only the launcher's escalation is tested.
    stubborn = executable(tmp_path / "stubborn", textwrap.dedent("""\
        #!/bin/sh
        trap '' TERM
        while [ "$1" != --ready-file ]; do shift; done
        echo http://127.0.0.1:1 > "$2"
        while :; do sleep 0.1; done
        """))
    mock = MockServer(binary=str(stubborn)).start()
    assert mock.stop(timeout=0.5) == -signal.SIGKILL


def test_console_script_runs_the_binary_in_its_place(tmp_path):
    ready = tmp_path / "ready"
    process = subprocess.Popen([sys.executable, "-m", "twitter_upload_mock", "--port", "0", "--ready-file", str(ready)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("listening on http://127.0.0.1:")
        with open(f"/proc/{process.pid}/exe", "rb") as running, open(REAL_BINARY, "rb") as binary:
            assert os.path.samestat(os.fstat(running.fileno()), os.fstat(binary.fileno()))
    finally:
        process.terminate()
    assert process.wait(5) == 0


def test_console_script_without_a_binary(tmp_path):
    environment = {**os.environ, "TWITTER_UPLOAD_MOCK_BIN": "", "PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "twitter_upload_mock", "--help"], env=environment,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 127 and "no twitter-upload-mock binary" in result.stderr
