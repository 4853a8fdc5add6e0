"""Finds the server binary, starts it on a free port and stops it."""
from __future__ import annotations

import atexit
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any, Mapping, Optional, Sequence, Type

from .client import AdminClient

BINARY_NAME = "twitter-upload-mock"
BINARY_ENV = "TWITTER_UPLOAD_MOCK_BIN"
BUNDLED_BINARY = Path(__file__).resolve().parent / "bin" / BINARY_NAME
WORKDIR_PREFIX = "twitter-upload-mock-"
# Held locked by the process that made the working directory for as long as it lives.
LOCK_NAME = "owner.lock"


class BinaryNotFound(FileNotFoundError):
    """No server binary: not in $TWITTER_UPLOAD_MOCK_BIN, not bundled, not on PATH."""


class ServerError(RuntimeError):
    """The server did not start, or did not stop cleanly; the message ends with its stderr."""


def find_binary() -> str:
    """The server binary: ``$TWITTER_UPLOAD_MOCK_BIN``, else the one bundled in this package
    (platform wheels carry it), else ``twitter-upload-mock`` on PATH."""
    configured = os.environ.get(BINARY_ENV)
    if configured:
        if not os.access(configured, os.X_OK) or os.path.isdir(configured):
            raise BinaryNotFound(f"${BINARY_ENV} is {configured!r}, which is not an executable file")
        return configured
    if os.access(BUNDLED_BINARY, os.X_OK):
        return str(BUNDLED_BINARY)
    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(directory or ".", BINARY_NAME)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate) and not _is_python_wrapper(candidate):
            return candidate
    raise BinaryNotFound(
        f"no {BINARY_NAME} binary: set ${BINARY_ENV}, install a platform wheel (it bundles the binary), "
        f"or put the binary on PATH")


def _is_python_wrapper(path: str) -> bool:
    """Whether ``path`` is this package's own console script (running it would look again)."""
    try:
        with open(path, "rb") as file:
            head = file.read(1024)
    except OSError:
        return False
    return head.startswith(b"#!") and b"twitter_upload_mock" in head


def remove_abandoned_workdirs(parent: Optional[str] = None) -> None:
    """Removes the working directories of servers whose Python process is gone (killed with
    SIGKILL or SIGTERM, say, so nothing cleaned up): the ones in ``parent`` (the temporary
    directory) that are this user's and whose lock file no live process holds. A directory
    without a lock file is still being made, or is not ours: it is left alone."""
    parent = parent or tempfile.gettempdir()
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(WORKDIR_PREFIX):
            continue
        path = os.path.join(parent, name)
        try:
            status = os.lstat(path)
            if not (status.st_mode & 0o170000 == 0o040000 and status.st_uid == os.getuid()):
                continue
            lock = os.open(os.path.join(path, LOCK_NAME), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its owner is alive
        else:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(lock)


def _make_workdir() -> "tuple[Path, int]":
    """A fresh working directory and the descriptor of its lock file, locked: the lock is
    taken before the file gets its name, so no sweep can see the name unlocked."""
    workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
    lock = os.open(workdir / f"{LOCK_NAME}.new", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    os.rename(workdir / f"{LOCK_NAME}.new", workdir / LOCK_NAME)
    return workdir, lock


_running: "weakref.WeakSet[MockServer]" = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_running):
        server.stop()


class MockServer(AdminClient):
    """One server process on a free port of 127.0.0.1, with the admin client's methods.

    ``config`` is the JSON configuration as a dict (docs/configuration.md); ``tls=True``
    serves HTTPS with a generated certificate whose CA is ``ca_file``; ``args`` are extra
    command-line flags; ``seed`` fixes media ids and probabilistic faults. Use it as a context
    manager, or call :meth:`start` and :meth:`stop`. The server stops with this process
    however it ends (``--exit-with-parent``: its stdin is a pipe only this process holds), and
    a working directory a killed process left behind is removed by the next start::

        with MockServer({"processing": {"check_after_secs": 0}}) as mock:
            ...  # point the client under test at mock.upload_url
            assert mock.upload(media_id).sha256 == expected
    """

    def __init__(self, config: Optional[Mapping[str, Any]] = None, *, tls: bool = False, args: Sequence[str] = (),
                 seed: Optional[int] = None, binary: Optional[str] = None, startup_timeout: float = 30.0) -> None:
        super().__init__("http://127.0.0.1:0")
        self.config = dict(config) if config is not None else None
        self.tls = tls
        self.args = list(args)
        self.seed = seed
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.process: Optional["subprocess.Popen[bytes]"] = None
        self._workdir: Optional[Path] = None
        self._workdir_lock: Optional[int] = None
        self._lifeline: Optional[int] = None
        self._stderr_after_stop = ""
        self._stop_requested = False

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def crashed(self) -> bool:
        """Whether the server exited without :meth:`stop` being called."""
        return self.process is not None and not self._stop_requested and self.process.poll() is not None

    @property
    def stderr(self) -> str:
        """What the server logged so far (JSON lines)."""
        return self._read_log("stderr.log")

    def start(self) -> "MockServer":
        """Starts the server and returns once it listens; :class:`ServerError` if it does not."""
        if self.process is not None:
            raise ServerError("already started")
        binary = self.binary or find_binary()
        remove_abandoned_workdirs()
        workdir, self._workdir_lock = _make_workdir()
        self._workdir = workdir
        ready_file = workdir / "ready"
        command = [binary, "--host", "127.0.0.1", "--port", "0", "--ready-file", str(ready_file), "--exit-with-parent"]
        if self.config is not None:
            (workdir / "config.json").write_text(json.dumps(self.config))
            command += ["--config", str(workdir / "config.json")]
        if self.tls:
            command += ["--tls-self-signed", str(workdir / "tls")]
        if self.seed is not None:
            command += ["--seed", str(self.seed)]
        command += self.args
        # The server's stdin: when this process ends, however it ends, the kernel closes the
        # write end and the server stops. The write end is not inheritable, so no other child
        # keeps it open.
        lifeline_read, self._lifeline = os.pipe()
        try:
            with open(workdir / "stdout.log", "wb") as stdout, open(workdir / "stderr.log", "wb") as stderr:
                self.process = subprocess.Popen(command, stdin=lifeline_read, stdout=stdout, stderr=stderr)
        finally:
            os.close(lifeline_read)
        _running.add(self)
        deadline = time.monotonic() + self.startup_timeout
        while not ready_file.exists():
            if self.process.poll() is not None:
                self._cleanup()
                raise ServerError(f"{binary} exited with {self.process.returncode} before listening: "
                                  f"{self._last_log}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"{binary} did not listen within {self.startup_timeout} s: {self._last_log}")
            time.sleep(0.005)
        self.base_url = ready_file.read_text().strip()
        if self.tls:
            self.ca_file = str(workdir / "tls" / "ca.pem")
        return self

    def stop(self, timeout: float = 5.0) -> int:
        """Stops the server (SIGTERM, then SIGKILL after ``timeout`` s) and returns its exit status.

        0 is a clean stop; a negative number is the signal that ended it. Stopping twice is fine.
        """
        if self.process is None:
            raise ServerError("never started")
        self._stop_requested = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._cleanup()
        return self.process.returncode

    def __enter__(self) -> "MockServer":
        return self.start()

    def __exit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self.stop()

    @property
    def _last_log(self) -> str:
        return self.stderr.strip().splitlines()[-1:][0] if self.stderr.strip() else "(nothing on stderr)"

    def _read_log(self, name: str) -> str:
        if self._workdir is None:
            return self._stderr_after_stop if name == "stderr.log" else ""
        try:
            return (self._workdir / name).read_text(errors="replace")
        except OSError:
            return ""

    def _cleanup(self) -> None:
        """Removes the temporary directory (config, ready file, generated certificate), keeping stderr."""
        _running.discard(self)
        if self._lifeline is not None:
            os.close(self._lifeline)
            self._lifeline = None
        if self._workdir is not None:
            self._stderr_after_stop = self._read_log("stderr.log")
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        if self._workdir_lock is not None:
            os.close(self._workdir_lock)
            self._workdir_lock = None
