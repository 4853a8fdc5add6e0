"""The Dockerfile's runtime stage without Docker (no daemon here): its ENTRYPOINT, as a user
without rights, on the tarball it copies, answers its HEALTHCHECK and stops on SIGTERM."""
import json
import os
import re
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DIST = Path(os.environ["TWITTER_UPLOAD_MOCK_DIST"])
DOCKERFILE = (REPO / "Dockerfile").read_text()
INSTALL_DIR = "/opt/twitter-upload-mock"


def instruction(name):
    """The arguments of the last instruction `name` of the runtime stage, continuation lines joined."""
    runtime = DOCKERFILE.split("\nFROM ")[-1].replace("\\\n", " ")
    return re.findall(rf"^{name} +(.*)$", runtime, re.M)[-1]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_runtime_stage_runs_the_tarball_as_a_user_without_rights():
    assert instruction("USER") == "mock" and "useradd --system" in DOCKERFILE
    assert re.search(rf"^COPY --from=build /out/ {INSTALL_DIR}/$", DOCKERFILE, re.M)
    entrypoint = json.loads(instruction("ENTRYPOINT"))
    assert entrypoint[0] == f"{INSTALL_DIR}/twitter-upload-mock"
    assert entrypoint[1:] == ["--host", "0.0.0.0", "--port", "8080"]
    health = instruction("HEALTHCHECK").split(" CMD ", 1)[1]
    assert "http://127.0.0.1:8080/__admin/health" in health

    # /out is the tarball without its top directory (the build stage's tar --strip-components=1).
    root = Path(tempfile.mkdtemp(prefix="image-root-"))
    try:
        root.chmod(0o755)
        [tarball] = DIST.glob("twitter-upload-mock-*-linux-x86_64.tar.gz")
        with tarfile.open(tarball) as archive:
            archive.extractall(root)
        [unpacked] = [p for p in root.iterdir() if p.is_dir()]
        installed = root / "opt" / "twitter-upload-mock"
        installed.parent.mkdir(parents=True)
        unpacked.rename(installed)

        port = str(free_port())
        command = [str(root) + entrypoint[0], *[port if a == "8080" else a for a in entrypoint[1:]]]
        server = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                   "env", "-i", *command], cwd="/", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        try:
            assert server.stdout.readline() == f"listening on http://0.0.0.0:{port}\n"
            check = subprocess.run(["sh", "-c", health.replace("8080", port)], capture_output=True, text=True,
                                   timeout=10)
            assert check.returncode == 0, check.stderr
            assert json.loads(check.stdout) == {"status": "ok"}
            started = time.monotonic()
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=5) == 0 and time.monotonic() - started < 2
        finally:
            server.kill()
            server.wait()
        refused = subprocess.run(["sh", "-c", health.replace("8080", port)], capture_output=True, timeout=10)
        assert refused.returncode != 0, "the health check must fail once the server is gone"
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=True)
