"""scripts/soak (docs/reliability.md): the server's fault decisions repeat for a seed, and the
soak's own checks fail when they should. The soak itself runs at the end of scripts/test."""
import json
import os
import signal
import subprocess
import sys
import time

from conftest import BINARY, REPO

SOAK = REPO / "bench" / "soak.py"
# One client, many faults, small media and a small keep budget: a few seconds, several resets.
SMALL_RUN = ["--clients", "1", "--fault-rate", "0.3", "--delay-rate", "0.02", "--max-media-mb", "0.1", "--keep-mb", "0.1",
             "--timeout", "2", "--seconds", "90"]


def run_soak(tmp_path, *args):
    """The soak keeps its temporary directory when it fails: keep it in the test's own."""
    command = [sys.executable, str(SOAK), "--mock", BINARY, *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=110,
                          env={**os.environ, "TMPDIR": str(tmp_path)})


def test_one_client_meets_the_same_faults_for_the_same_seed(tmp_path):
    runs = []
    for seed in (5, 5, 6):
        trace, summary = tmp_path / f"trace-{len(runs)}", tmp_path / f"summary-{len(runs)}.json"
        # One client on one connection: the server sees the same requests in the same order.
        result = run_soak(tmp_path, *SMALL_RUN, "--parallel-appends", 1, "--uploads", 20, "--seed", seed,
                          "--trace", trace, "--json", summary)
        assert result.returncode == 0, result.stdout + result.stderr
        runs.append((trace.read_text(), json.loads(summary.read_text())))
    (trace, first), (repeat_trace, repeat), (other_trace, _) = runs
    assert first["uploads"] == first["verified"] == 20
    assert first["epochs"] > 1, "a reset restarts the fault generator: runs must cross one"
    assert len(first["faults_fired"]) >= 6, first["faults_fired"]
    assert repeat_trace == trace and repeat["faults_fired"] == first["faults_fired"]
    assert other_trace != trace


def test_a_peak_rss_over_the_bound_fails_the_run(tmp_path):
    result = run_soak(tmp_path, *SMALL_RUN, "--uploads", 2, "--max-rss-mb", 1)
    assert result.returncode == 1
    assert "exceeds the bound 1.0 MiB" in result.stdout, result.stdout


def test_a_server_that_dies_fails_the_run_promptly(tmp_path):
    soak = subprocess.Popen([sys.executable, str(SOAK), "--mock", BINARY, "--clients", "4", "--seconds", "60"],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(tmp_path)})
    children = f"/proc/{soak.pid}/task/{soak.pid}/children"
    deadline = time.monotonic() + 15
    while not open(children).read().split() and time.monotonic() < deadline:
        time.sleep(0.05)
    mock_pid = int(open(children).read().split()[0])
    time.sleep(1.5)  # the clients are uploading
    os.kill(mock_pid, signal.SIGKILL)
    started = time.monotonic()
    output, _ = soak.communicate(timeout=60)
    assert soak.returncode == 1
    assert "the server died (exit status -9)" in output, output
    assert time.monotonic() - started < 15, "the soak must stop soon after the server dies"


def ctrl_c_as_at_a_terminal():
    # A script run in the background (`cmd &` without job control, as some CI runners start
    # their steps) passes SIGINT on ignored, and Python then never turns it into
    # KeyboardInterrupt; give the soak the disposition it has at a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_an_interrupted_soak_leaves_no_server_running(tmp_path):
    soak = subprocess.Popen([sys.executable, str(SOAK), "--mock", BINARY, "--clients", "2", "--seconds", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp_path)}, preexec_fn=ctrl_c_as_at_a_terminal)
    children = f"/proc/{soak.pid}/task/{soak.pid}/children"
    deadline = time.monotonic() + 15
    while not open(children).read().split() and time.monotonic() < deadline:
        time.sleep(0.05)
    mock_pid = int(open(children).read().split()[0])
    time.sleep(1)
    soak.send_signal(signal.SIGINT)
    _, errors = soak.communicate(timeout=30)
    assert soak.returncode == 130, errors
    assert not os.path.exists(f"/proc/{mock_pid}"), "the mock outlived the soak"
    assert list(tmp_path.iterdir()) == []
