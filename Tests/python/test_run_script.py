"""scripts/run (README, Two commands): an unchanged checkout starts its release binary at once,
without `swift build`; a changed one (a source edited, added or deleted, the manifest, the pins)
is built first. Run in a scratch checkout whose `swift` and `scripts/ensure-deps` only record
that they were called, so the script's own decisions are what is tested."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import REPO

FAKE_SWIFT = """#!/bin/sh
echo "swift $*" >> "$CALLS"
mkdir -p .build/release
[ -x .build/release/twitter-upload-mock ] || { printf '#!/bin/sh\\necho "mock $*"\\n' > .build/release/twitter-upload-mock; chmod +x .build/release/twitter-upload-mock; }
"""


@pytest.fixture
def checkout(tmp_path):
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "run", root / "scripts" / "run")
    (root / "scripts" / "ensure-deps").write_text('#!/bin/sh\necho ensure-deps >> "$CALLS"\n')
    (root / "scripts" / "ensure-deps").chmod(0o755)
    (root / "Package.swift").write_text("// swift-tools-version:6.0\n")
    (root / "Package.resolved").write_text("{}\n")
    (root / "Sources" / "mock").mkdir(parents=True)
    (root / "Sources" / "mock" / "main.swift").write_text("print(1)\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "swift").write_text(FAKE_SWIFT)
    (tmp_path / "bin" / "swift").chmod(0o755)
    return root


def run(checkout, *args):
    calls = checkout.parent / "calls"
    calls.write_text("")
    env = {**os.environ, "CALLS": str(calls), "PATH": f"{checkout.parent / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([str(checkout / "scripts" / "run"), *args], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip(), calls.read_text().splitlines()


def later(checkout, path):
    """An edit of `path` after the last build: its time between the binary's and now."""
    now = time.time()
    os.utime(checkout / ".build" / "release" / "twitter-upload-mock", (now - 10, now - 10))
    os.utime(checkout / path, (now - 5, now - 5))


def test_builds_only_what_changed_and_passes_arguments_on(checkout):
    build = ["ensure-deps", "swift build -c release --static-swift-stdlib --product twitter-upload-mock"]
    assert run(checkout, "--port", "0") == ("mock --port 0", build)  # no binary yet
    assert run(checkout, "--version") == ("mock --version", [])       # unchanged: no build
    later(checkout, "Sources/mock/main.swift")
    assert run(checkout)[1] == build
    # The fake build changed nothing, as a null build would: the binary is marked current anyway.
    assert run(checkout)[1] == []
    for changed in ("Package.swift", "Package.resolved"):
        later(checkout, changed)
        assert run(checkout)[1] == build and run(checkout)[1] == []
    (checkout / "Sources" / "mock" / "main.swift").unlink()
    later(checkout, "Sources/mock")  # a deletion changes the directory
    assert run(checkout)[1] == build
