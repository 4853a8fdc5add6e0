"""The command line as a user runs it (README, Command line)."""
import base64
import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import time

import pytest
import requests

from conftest import BINARY, REPO, UPLOAD_PATH, append, init


def test_listening_line_and_ready_file(start_mock):
    server = start_mock()
    assert server.stdout_line == f"listening on {server.base_url}"
    assert server.base_url.startswith("http://127.0.0.1:") and server.port > 0
    logs = [json.loads(line) for line in server.stderr_text().splitlines()]
    assert logs[0]["message"] == "listening"


def test_log_lines_name_the_command_media_segment_status_fault_and_latency_to_the_millisecond(start_mock):
    """docs/dashboard.md, Log lines."""
    server = start_mock(config={"faults": [{"match": {"command": "APPEND", "segment_index": 1}, "action": {"status": 503}, "times": 1}]},
                        args=["--log-level", "debug"])
    media_id = init(server, 6)
    assert append(server, media_id, 0, b"abc").status_code == 204
    assert append(server, media_id, 1, b"def").status_code == 503
    logs = [json.loads(line) for line in server.stderr_text().splitlines()]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"]) for line in logs), logs
    requests_logged = [line for line in logs if line["message"] in ("request", "request refused")]
    assert [(line["level"], line["command"], line.get("segment_index"), line["status"]) for line in requests_logged] == [
        ("debug", "INIT", None, 202), ("debug", "APPEND", 0, 204), ("info", "APPEND", 1, 503)]
    refused = requests_logged[-1]
    assert refused["api"] == "v1.1" and refused["media_id"] == media_id and refused["fault"] == "rule 1, status 503"
    assert all(isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0 for line in requests_logged)


def test_help_shows_defaults_and_choices_and_version_prints_one_line():
    help_text = subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=10).stdout
    for expected in ["(default: 127.0.0.1)", "(default: 8080)", "(default: info)",
                     "values: trace, debug, info, notice, warning, error", "values: none, verify, oauth1"]:
        assert expected in " ".join(help_text.split()), expected
    version = subprocess.run([BINARY, "--version"], capture_output=True, text=True, timeout=10)
    assert version.returncode == 0 and version.stdout.strip().count(".") == 2


def test_ready_file_is_not_written_through_a_planted_link(tmp_path):
    """Links planted at the ready file's place and at the temporary name the first version used
    (PATH.tmp-PID, predictable: the shell's PID survives exec) are never followed."""
    victim = tmp_path / "victim"
    victim.write_text("keep")
    ready = tmp_path / "ready"
    ready.symlink_to(victim)
    script = f'ln -s {victim} {ready}.tmp-$$ && exec {BINARY} --port 0 --ready-file {ready}'
    process = subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        deadline = time.time() + 5
        while (ready.is_symlink() or not ready.exists()) and time.time() < deadline:
            time.sleep(0.01)
        assert not ready.is_symlink() and ready.read_text() == line.split()[-1]
        assert victim.read_text() == "keep"
    finally:
        process.terminate()
        process.wait(timeout=5)


def wait_for(path, process, timeout=10):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)


def test_ready_file_exists_only_while_the_server_listens(tmp_path):
    ready = tmp_path / "ready"
    ready.write_text("http://127.0.0.1:1")  # left by an earlier run that was killed
    process = subprocess.Popen([BINARY, "--port", "0", "--ready-file", str(ready)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = process.stdout.readline().split()[-1]
        wait_for(ready, process)
        assert ready.read_text() == url
    finally:
        process.terminate()
    assert process.wait(timeout=5) == 0
    assert not ready.exists()


def test_ready_file_another_server_has_since_written_is_kept(tmp_path):
    ready = tmp_path / "ready"
    process = subprocess.Popen([BINARY, "--port", "0", "--ready-file", str(ready)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(ready, process)
        ready.write_text("http://127.0.0.1:2")  # a later server reusing the name
    finally:
        process.terminate()
    assert process.wait(timeout=5) == 0
    assert ready.read_text() == "http://127.0.0.1:2"


@pytest.mark.parametrize("problem", ["port in use", "bad config"])
def test_a_server_that_fails_to_start_leaves_no_ready_file(start_mock, tmp_path, problem):
    ready = tmp_path / "ready"
    ready.write_text("http://127.0.0.1:1")  # stale: a script waiting on it must not go ahead
    if problem == "port in use":
        args = ["--port", str(start_mock().port)]
    else:
        (tmp_path / "config.json").write_text('{"port": 80,')
        args = ["--config", str(tmp_path / "config.json")]
    result = subprocess.run([BINARY, *args, "--ready-file", str(ready)], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert not ready.exists()


@pytest.mark.parametrize("args, message", [
    (["--port", "abc"], "port"),
    (["--bogus"], "bogus"),
    (["--log-level", "loud"], "The value 'loud' is invalid for '--log-level <log-level>'. Please provide one of the "
                              "following: trace, debug, info, notice, warning, error, critical, off"),
    (["--tls-cert", "/nowhere/cert.pem", "--tls-key", "/nowhere/key.pem"], "TLS certificate /nowhere/cert.pem does not exist"),
    (["--tls-cert", str(REPO / "README.md"), "--tls-key", str(REPO / "README.md")],
     f"TLS certificate {REPO / 'README.md'} is not a PEM file"),
    (["--config", "/nowhere/mock.json"], "config file /nowhere/mock.json does not exist"),
    (["--tls-cert", "x.pem"], "--tls-key"),
    (["--auth", "oauth1"], "auth.users"),
    (["--auth", "kerberos"], "--auth"),
    (["--tls-self-signed", "/tmp/x", "--tls-cert", "a", "--tls-key", "b"], "exclude each other"),
])
def test_bad_flags_exit_2_with_one_line(args, message):
    result = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("config, message", [
    ('{"limits": {"chunk_byte": 5}}', "unknown key 'limits.chunk_byte'"),
    ('{"port": 80,', "not valid JSON"),
    ('{"faults": [{"action": {"fault": "explode"}}]}', "faults[0].action.fault"),
    ('{"rate_limits": []}', 'rate_limits: [] adds nothing: its rules count beside the real limits. '
                            'To turn the real limits off, set "real_rate_limits": false'),
])
def test_bad_config_exits_2_naming_the_problem(tmp_path, config, message):
    path = tmp_path / "config.json"
    path.write_text(config)
    result = subprocess.run([BINARY, "--config", str(path)], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_port_in_use_exits_2(start_mock):
    server = start_mock()
    result = subprocess.run([BINARY, "--port", str(server.port)], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert "cannot listen" in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_within_two_seconds_with_requests_in_flight(start_mock, sig):
    server = start_mock({"faults": [{"match": {"command": "INIT"}, "action": {"fault": "hang"}}]})
    stuck = socket.create_connection(("127.0.0.1", server.port))
    body = b"command=INIT&total_bytes=1&media_type=video%2Fmp4"
    stuck.sendall(b"POST " + UPLOAD_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    slow = socket.create_connection(("127.0.0.1", server.port))
    slow.sendall(b"POST " + UPLOAD_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\ncommand=")
    time.sleep(0.2)
    started = time.monotonic()
    assert server.stop(sig) == 0
    assert time.monotonic() - started < 2
    stuck.close()
    slow.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_at_the_moment_of_readiness_exits_0(tmp_path, sig):
    # Launchers stop a server as soon as its ready file appears; the signal must never kill it
    # (exit -15) nor be lost (a hung stop), however early it comes.
    for attempt in range(15):
        ready = tmp_path / f"ready-{attempt}"
        process = subprocess.Popen([BINARY, "--port", "0", "--ready-file", str(ready)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.0005)
        process.send_signal(sig)
        try:
            assert process.wait(timeout=5) == 0
        finally:
            process.kill()


def test_all_interfaces_host(start_mock):
    # What the Docker image runs: --host 0.0.0.0, reachable on loopback.
    server = start_mock(args=["--host", "0.0.0.0"])
    assert server.base_url.startswith("http://0.0.0.0:")
    import requests
    assert requests.get(f"http://127.0.0.1:{server.port}/__admin/health").json() == {"status": "ok"}


def test_ipv6_host(start_mock):
    server = start_mock(args=["--host", "::1"])
    assert server.base_url.startswith("http://[::1]:")
    import requests
    assert requests.get(server.url("/__admin/health")).json() == {"status": "ok"}


def test_unresolvable_host_exits_2():
    result = subprocess.run([BINARY, "--host", "nowhere"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert "--host must be an IPv4 or IPv6 address" in result.stderr


# ------------------------------------------------- TWITTER_UPLOAD_MOCK_VECTOR_KERNEL (docs/configuration.md)

KERNEL_LEVELS = ["scalar", "ssse3", "avx2", "avx512"]


def cpu_kernel_level():
    """The best level this CPU runs, from the kernel's CPU flags (the mock asks CPUID itself)."""
    try:
        flags = set(next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split(":")[1].split())
    except (OSError, StopIteration):
        return "scalar"
    if {"avx512bw", "avx512_vbmi2"} <= flags:
        return "avx512"
    return "avx2" if "avx2" in flags else "ssse3" if "ssse3" in flags else "scalar"


def media_bytes(size, seed):
    """Random bytes, as media are, with a delimiter's start ("\\r\\n--" and a boundary's first
    characters) planted here and there for the multipart scan to reject."""
    data = bytearray(random.Random(seed).randbytes(size))
    for offset in range(1000, size - 100, 7919):
        data[offset:offset + 12] = b"\r\n--kernelte"
    return bytes(data)


@pytest.mark.parametrize("cap", KERNEL_LEVELS)
def test_the_vector_kernel_cap_is_in_the_listening_line_and_every_level_stores_the_same_bytes(start_mock, cap):
    """A cap at `cap` runs the lower of it and the CPU's best; whichever kernels run, the
    multipart scan, percent-decoding, base64 and JSON unescaping store the exact bytes sent."""
    server = start_mock(env={"TWITTER_UPLOAD_MOCK_VECTOR_KERNEL": cap})
    logged = next(entry for entry in map(json.loads, server.stderr_text().splitlines()) if entry["message"] == "listening")
    assert logged["vector_kernel"] == min(cap, cpu_kernel_level(), key=KERNEL_LEVELS.index), logged

    multipart_media, urlencoded_media, json_media = (media_bytes(300_000, seed) for seed in (1, 2, 3))
    media_id = init(server, 3 * 300_000)
    boundary = "kerneltest7Kq2Pzw"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="command"\r\n\r\nAPPEND\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="media_id"\r\n\r\n{media_id}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="segment_index"\r\n\r\n0\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="media"; filename="blob"\r\n\r\n').encode()
    body += multipart_media + f"\r\n--{boundary}--\r\n".encode()
    response = requests.post(server.upload_url, data=body,
                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 204, response.text
    # requests percent-encodes the base64 text: `+`, `/` and `=` arrive as %2B, %2F, %3D.
    response = requests.post(server.upload_url, data={"command": "APPEND", "media_id": media_id, "segment_index": 1,
                                                      "media_data": base64.b64encode(urlencoded_media).decode()})
    assert response.status_code == 204, response.text

    v2_response = requests.post(server.url("/2/media/upload/initialize"),
                                json={"media_type": "video/mp4", "total_bytes": 300_000, "media_category": "tweet_video"})
    assert v2_response.status_code == 200, v2_response.text
    v2_id = v2_response.json()["data"]["id"]
    # Every '/' escaped, as PHP's json_encode writes it.
    escaped = base64.b64encode(json_media).decode().replace("/", "\\/")
    response = requests.post(server.url(f"/2/media/upload/{v2_id}/append"),
                             data=f'{{"media": "{escaped}", "segment_index": 0}}',
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text

    def sha256s(media):
        return [(segment["bytes"], segment["sha256"]) for segment in server.upload(media)["segments"]]

    assert sha256s(media_id) == [(len(data), hashlib.sha256(data).hexdigest()) for data in (multipart_media, urlencoded_media)]
    assert sha256s(v2_id) == [(len(json_media), hashlib.sha256(json_media).hexdigest())]


@pytest.mark.parametrize("value", ["avx3", "AVX2", "none", " scalar"])
def test_an_unknown_vector_kernel_stops_the_start_with_one_line(tmp_path, value):
    ready = tmp_path / "ready"
    result = subprocess.run([BINARY, "--port", "0", "--ready-file", str(ready)], capture_output=True, text=True,
                            timeout=10, env={**os.environ, "TWITTER_UPLOAD_MOCK_VECTOR_KERNEL": value})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"twitter-upload-mock: TWITTER_UPLOAD_MOCK_VECTOR_KERNEL={value} is not a kernel level: "
                             "use one of scalar, ssse3, avx2, avx512 (docs/configuration.md)\n")
    assert not ready.exists()
