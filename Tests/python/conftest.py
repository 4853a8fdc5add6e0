"""Starts the built twitter-upload-mock on port 0 and talks real HTTP to it."""
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("TWITTER_UPLOAD_MOCK_BIN", str(REPO / ".build" / "debug" / "twitter-upload-mock"))
FIXTURES = REPO / "Fixtures"
UPLOAD_PATH = "/1.1/media/upload.json"


class MockServer:
    """One running mock; `url(path)` builds URLs, `admin(path)` reads the admin API."""

    def __init__(self, tmp_path, config=None, args=(), env=None):
        self.ready_file = tmp_path / f"ready-{time.monotonic_ns()}"
        command = [BINARY, "--port", "0", "--ready-file", str(self.ready_file), "--seed", "1", *args]
        if config is not None:
            config_file = tmp_path / f"config-{time.monotonic_ns()}.json"
            config_file.write_text(json.dumps(config))
            command += ["--config", str(config_file)]
        self.stderr_path = tmp_path / f"stderr-{time.monotonic_ns()}.log"
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=open(self.stderr_path, "wb"),
                                        env=None if env is None else {**os.environ, **env})
        deadline = time.monotonic() + 10
        while not self.ready_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"mock did not start: {self.stderr_text()}")
            time.sleep(0.01)
        self.base_url = self.ready_file.read_text()
        self.stdout_line = self.process.stdout.readline().decode().rstrip("\n")
        self.port = int(self.base_url.rsplit(":", 1)[1])
        self.upload_url = self.base_url + UPLOAD_PATH

    def stderr_text(self):
        return self.stderr_path.read_text(errors="replace")

    def url(self, path):
        return self.base_url + path

    def admin(self, path, method="GET", **kwargs):
        response = requests.request(method, self.base_url + "/__admin" + path, **kwargs)
        return response

    def upload(self, media_id):
        response = self.admin(f"/uploads/{media_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise AssertionError("mock did not exit within 2 s of a signal")
        return self.process.returncode


@pytest.fixture
def start_mock(tmp_path):
    """Factory: start_mock(config=dict, args=[...], env={...}) -> MockServer, stopped after the test."""
    servers = []

    def start(config=None, args=(), env=None):
        server = MockServer(tmp_path, config, args, env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        assert server.stop() == 0, server.stderr_text()


@pytest.fixture(scope="session")
def shared_mock(tmp_path_factory):
    """One mock for the tests that need no special configuration; reset before each use."""
    server = MockServer(tmp_path_factory.mktemp("shared"), {"processing": {"check_after_secs": 0}})
    yield server
    assert server.stop() == 0, server.stderr_text()


@pytest.fixture
def mock(shared_mock):
    assert shared_mock.admin("/reset", method="POST").status_code == 200
    return shared_mock


def init(server, total_bytes, media_type="video/mp4", **extra):
    response = requests.post(server.upload_url, data={"command": "INIT", "total_bytes": total_bytes,
                                                      "media_type": media_type, **extra})
    assert response.status_code == 202, response.text
    return response.json()["media_id_string"]


def append(server, media_id, index, chunk, **extra):
    return requests.post(server.upload_url, data={"command": "APPEND", "media_id": media_id,
                                                  "segment_index": index, **extra},
                         files={"media": ("blob", chunk, "application/octet-stream")})


def finalize(server, media_id):
    return requests.post(server.upload_url, data={"command": "FINALIZE", "media_id": media_id})


def raw_request(port, data, read_timeout=5.0):
    """Sends raw bytes and returns whatever the server answers before it closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as connection:
        connection.sendall(data)
        try:
            connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        try:
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (socket.timeout, ConnectionResetError):
            pass
        return b"".join(chunks)


def request_error(response):
    """The message of a {"request","error"} body, asserting the shape."""
    body = response.json()
    assert body["request"] == UPLOAD_PATH, body
    return body["error"]
