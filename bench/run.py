"""Drives scripts/bench: starts each target on 127.0.0.1, loads it with wrk, prints the table.

Targets: `sink` (plain-socket C server: the loopback ceiling), `mhd` (libmicrohttpd with the
mock's settings and a handler that drops the body), `mock` (twitter-upload-mock), `moto`
(moto's server doing S3 UploadPart) and `werkzeug` (a Flask APPEND mock). Ratios are taken
within one run, so a busy machine slows every row alike. Every process started here runs in
its own process group and is killed on exit, failure, Ctrl-C, SIGTERM or SIGHUP.

Exit status: 0 when everything ran, whatever the ratios; 1 when a target failed to start or a
target that must not fail (sink, mhd, mock) answered with errors or unexpected statuses.
"""
import argparse
import base64
import ctypes
import json
import os
import platform
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIB = 1024 * 1024
TICKS = os.sysconf("SC_CLK_TCK")
UPLOAD = "/1.1/media/upload.json"
STRICT_TARGETS = {"sink", "mhd", "mock"}  # errors here fail the run; peers only warn
# The delimiter scan must not care about the boundary (issue 20): requests' 32 hex characters
# (bench/load.lua's default), a short one, and curl's 24 dashes and 16 hex digits.
SHORT_BOUNDARY = "x7Kq2Pzw"
CURL_BOUNDARY = "------------------------3f9a1c7e5b2d8046"


class Broken(Exception):
    """Something that makes the run invalid (exit 1)."""


# ---------------------------------------------------------------- processes

processes = []
_libc = ctypes.CDLL(None, use_errno=True)


def _child_setup():
    # Die with the benchmark even if it is SIGKILLed (PR_SET_PDEATHSIG = 1).
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def spawn(command, **kwargs):
    kwargs.setdefault("stdout", subprocess.DEVNULL)
    kwargs.setdefault("stderr", subprocess.DEVNULL)
    process = subprocess.Popen([str(part) for part in command], start_new_session=True,
                               preexec_fn=_child_setup, **kwargs)
    processes.append(process)
    return process


def spawn_tied(command):
    """A process that stops when the benchmark does through `--exit-with-parent` (its stdin a
    pipe only the benchmark holds) rather than a preexec_fn: Python forks the whole interpreter
    to run one (about 2 ms here, where a plain spawn takes vfork's path), time the startup
    figure would count as the mock's."""
    process = subprocess.Popen([str(part) for part in command], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    processes.append(process)
    return process


def stop(process, grace=2.0):
    """SIGTERM to the process group, SIGKILL after `grace` seconds."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=grace)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group
    except ProcessLookupError:
        pass
    if process.poll() is None:
        process.wait()
    if process in processes:
        processes.remove(process)


def stop_all():
    for process in list(processes):
        stop(process, grace=0.5)


class Interrupted(BaseException):
    def __init__(self, number):
        super().__init__(f"signal {number}")
        self.number = number


def _on_signal(number, _frame):
    raise Interrupted(number)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready_file(path, process, name, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Broken(f"{name} exited with status {process.returncode} during startup")
        try:
            text = Path(path).read_text().strip()
            if text:
                return text
        except FileNotFoundError:
            pass
        time.sleep(0.005)
    raise Broken(f"{name} did not become ready within {timeout} s")


def wait_port(port, process, name, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Broken(f"{name} exited with status {process.returncode} during startup")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.02)
    raise Broken(f"{name} did not listen within {timeout} s")


def cpu_seconds(pid):
    """user and system CPU seconds of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def proc_status_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


# ---------------------------------------------------------------- HTTP helpers


def http(base, method, path, body=b"", headers=None, timeout=30):
    """One request on a fresh connection; returns (status, body)."""
    import http.client
    host, port = base.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def form(base, fields, expect):
    body = "&".join(f"{key}={value}" for key, value in fields.items()).encode()
    status, reply = http(base, "POST", UPLOAD, body, {"Content-Type": "application/x-www-form-urlencoded"})
    if status != expect:
        raise Broken(f"{fields.get('command')} answered {status}, expected {expect}: {reply[:300]!r}")
    return reply


def mock_init(base, total_bytes, category="tweet_video"):
    reply = form(base, {"command": "INIT", "total_bytes": total_bytes, "media_type": "video%2Fmp4",
                        "media_category": category}, 202)
    return json.loads(reply)["media_id_string"]


def mock_v2_initialize(base, total_bytes):
    body = json.dumps({"media_type": "video/mp4", "total_bytes": total_bytes, "media_category": "tweet_video"}).encode()
    status, reply = http(base, "POST", "/2/media/upload/initialize", body, {"Content-Type": "application/json"})
    if status != 200:
        raise Broken(f"v2 initialize answered {status}: {reply[:300]!r}")
    return json.loads(reply)["data"]["id"]


def multipart_append(base, media_id, index, payload):
    boundary = "memoryboundary1234"
    head = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                   for name, value in (("command", "APPEND"), ("media_id", media_id), ("segment_index", index)))
    body = (head + f"--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"m\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    status, reply = http(base, "POST", UPLOAD, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    if status != 204:
        raise Broken(f"APPEND answered {status}: {reply[:300]!r}")


# ---------------------------------------------------------------- load


class Bench:
    def __init__(self, options, work):
        self.options = options
        self.work = work
        self.rows = []
        self.failures = []
        self.warnings = []
        self.seconds = 1 if options.quick else options.seconds
        self.payloads = {}

    def payload(self, size, encoding="bin"):
        """Path of a file of `size` random bytes (or their base64 text)."""
        key = (size, encoding)
        if key not in self.payloads:
            raw_path = self.work / f"payload-{size}.bin"
            if not raw_path.exists():
                raw_path.write_bytes(os.urandom(size))
            path = raw_path
            if encoding == "b64":
                path = self.work / f"payload-{size}.b64"
                path.write_bytes(base64.b64encode(raw_path.read_bytes()))
            self.payloads[key] = path
        return self.payloads[key]

    def wrk(self, url, mode, payload, ident, expect, concurrency, seconds, check, server_pid, boundary=None):
        command = ["wrk", "-t", concurrency, "-c", concurrency, "-d", f"{seconds}s", "--timeout", "10s",
                   "-s", HERE / "load.lua", url, "--", mode, payload, ident or "-", expect, "1" if check else "0"]
        if boundary:
            command.append(boundary)
        before = cpu_seconds(server_pid)
        client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        process = spawn(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            output, _ = process.communicate(timeout=seconds + 60)  # reaps wrk: its CPU time joins RUSAGE_CHILDREN
        except subprocess.TimeoutExpired:
            raise Broken(f"wrk did not finish: {' '.join(map(str, command))}")
        finally:
            stop(process, grace=0)
        after = cpu_seconds(server_pid)
        client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        text = output.decode(errors="replace")
        match = re.search(r"^RESULT (.*)$", text, re.M)
        if not match:
            raise Broken(f"wrk gave no result for {url} {mode}:\n{text}")
        result = {key: int(value) for key, value in (pair.split("=") for pair in match.group(1).split())}
        elapsed = result["duration_us"] / 1e6
        unexpected_body = re.search(r"^UNEXPECTED_BODY (.*)$", text, re.M)
        return {
            "rps": result["requests"] / elapsed,
            "mbps": result["requests"] * result["body_bytes"] / elapsed / 1e6,
            "body": result["body_bytes"],
            "p50": result["p50_us"] / 1000, "p90": result["p90_us"] / 1000, "p99": result["p99_us"] / 1000,
            # A checked run sees every status; otherwise wrk counts statuses >= 400.
            "errors": result["socket_errors"] + (result["unexpected"] if check else result["status_errors"]),
            "unexpected": result["unexpected"], "checked": result["checked"],
            "unexpected_status": result["unexpected_status"],
            "unexpected_body": unexpected_body.group(1) if unexpected_body else "",
            "server_user": (after[0] - before[0]) / elapsed * 100,
            "server_sys": (after[1] - before[1]) / elapsed * 100,
            "client": (client_after.ru_utime + client_after.ru_stime - client_before.ru_utime
                       - client_before.ru_stime) / elapsed * 100,
        }

    def measure(self, target, server, base, path, mode, size, concurrency, ident, expect, label=None, boundary=None):
        encoding = "b64" if mode.startswith(("b64", "v2json")) else "bin"
        payload = self.payload(size, encoding) if size else "-"
        url = base + path
        problem = None
        # A short checked run first: warms the server up and proves every answer is `expect`.
        check = self.wrk(url, mode, payload, ident, expect, concurrency, 1, True, server.pid, boundary)
        if check["errors"]:
            problem = (f"{check['unexpected']} of {check['checked']} answers were not {expect}"
                       + (f" (last {check['unexpected_status']}: {check['unexpected_body'][:160]})"
                          if check["unexpected"] else "")
                       + f", {check['errors'] - check['unexpected']} socket errors")
        result = check
        if not self.options.quick:
            result = self.wrk(url, mode, payload, ident, expect, concurrency, self.seconds, False, server.pid, boundary)
            if result["errors"] and not problem:
                problem = f"{result['errors']} errors (status >= 400 or socket) in the measured run"
        if server.poll() is not None:
            problem = f"the server exited (status {server.returncode})"
        row = {"target": target, "mode": mode, "size": size, "c": concurrency, "label": label,
               "boundary": len(boundary) if boundary else None, **result}
        self.rows.append(row)
        if problem:
            message = f"{target} {describe(row)} c={concurrency}: {problem}"
            (self.failures if target in STRICT_TARGETS else self.warnings).append(message)
        print(f"  {target:9} {describe(row):>10} c={concurrency}: {result['rps']:9.0f} req/s {result['mbps']:8.1f} MB/s"
              f"  p50 {result['p50']:.2f} ms  p99 {result['p99']:.2f} ms" + (f"  !! {problem}" if problem else ""),
              file=sys.stderr, flush=True)
        if server.poll() is not None:
            raise Broken(f"{target} exited during the load")


def describe(row):
    if row.get("label"):
        return row["label"]
    size = row["size"]
    text = f"{size // MIB} MiB" if size >= MIB else f"{size // 1024} KiB"
    text += {"b64form": " b64", "b64mp": " b64mp", "v2append": " v2", "v2json": " v2json",
             "v2jsonesc": " v2json\\/"}.get(row["mode"], "")
    return text + (f" bnd{row['boundary']}" if row.get("boundary") else "")


# ---------------------------------------------------------------- startup and memory


def start_mock(options, work, name, config, extra=()):
    config_path = work / f"{name}.json"
    config_path.write_text(json.dumps(config))
    ready = work / f"{name}.ready"
    process = spawn([options.mock, "--port", "0", "--ready-file", ready, "--config", config_path, *extra])
    return process, wait_ready_file(ready, process, "the mock")


def health_ok(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return connection.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def startup_ms(options, runs, warnings):
    """Spawn -> first 200 on /__admin/health, polled every 0.5 ms; median of `runs`."""
    samples, exits = [], []
    for _ in range(runs):
        port = free_port()
        begun = time.monotonic()
        process = spawn_tied([options.mock, "--port", port, "--exit-with-parent"])
        while not health_ok(port):
            if process.poll() is not None:
                raise Broken(f"the mock exited with status {process.returncode} during startup")
            if time.monotonic() - begun > 30:
                raise Broken("the mock did not answer /__admin/health within 30 s")
            time.sleep(0.0005)
        samples.append((time.monotonic() - begun) * 1000)
        stop(process)
        exits.append(process.returncode)
    bad = [code for code in exits if code != 0]
    if bad:
        warnings.append(f"{len(bad)} of {runs} mocks stopped right after their first 200 did not exit 0 on SIGTERM "
                        f"(statuses {bad}; -15: killed by the signal, -9: still running after 2 s)")
    return samples


def memory(options, work, rounds, storage_dir=None):
    """RSS idle, then after each round of 16 concurrent 5 MiB APPENDs of distinct segments."""
    extra = ["--storage-dir", storage_dir] if storage_dir else []
    name = "memory-spool" if storage_dir else "memory"
    process, base = start_mock(options, work, name, {"real_rate_limits": False}, extra)
    time.sleep(0.3)
    idle = {"rss": proc_status_kib(process.pid, "VmRSS"), "anon": proc_status_kib(process.pid, "RssAnon"),
            "stored": 0}
    readings = [idle]
    media_id = mock_init(base, 512 * MIB)
    payload = os.urandom(5 * MIB)
    with ThreadPoolExecutor(max_workers=16) as pool:
        for round_number in range(rounds):
            first = round_number * 16
            list(pool.map(lambda index: multipart_append(base, media_id, index, payload), range(first, first + 16)))
            status, reply = http(base, "GET", f"/__admin/uploads/{media_id}")
            stored = json.loads(reply).get("received_bytes", 0) if status == 200 else 0
            readings.append({"rss": proc_status_kib(process.pid, "VmRSS"),
                             "hwm": proc_status_kib(process.pid, "VmHWM"), "stored": stored})
    stop(process)
    return readings


# ---------------------------------------------------------------- report


_machine = None


def machine():
    global _machine
    if _machine:
        return _machine
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    memory_kib = proc_status_kib_file("/proc/meminfo", "MemTotal")

    def version(command, pattern=r"(\d+\.\d+(\.\d+)?)"):
        try:
            output = subprocess.run(command, capture_output=True, text=True, timeout=20)
            found = re.search(pattern, output.stdout + output.stderr)
            return found.group(1) if found else "?"
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    swift = version(["swift", "--version"], r"Swift version (\S+)")
    distribution = next((line.split("=", 1)[1].strip().strip('"') for line in Path("/etc/os-release").read_text()
                         .splitlines() if line.startswith("PRETTY_NAME=")), platform.system())
    _machine = (f"{os.cpu_count()} cores ({model}), {memory_kib / 1024 / 1024:.0f} GiB, {distribution}, "
                f"kernel {platform.release()}, "
            f"Swift {swift}, "
            f"libmicrohttpd {version(['pkg-config', '--modversion', 'libmicrohttpd'])}, "
            f"wrk {version(['wrk', '-v'])}, Python {platform.python_version()}, "
            f"moto {package_version('moto')}, werkzeug {package_version('werkzeug')}, "
            f"Flask {package_version('flask')}")
    return _machine


def proc_status_kib_file(path, field):
    for line in Path(path).read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def package_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return "-"


def load_average():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def print_table(rows):
    sink = {(row["size"], row["c"]): row for row in rows if row["target"] == "sink" and row["mode"] in ("raw", "empty")}
    header = (f"{'target':9} {'payload':>10} {'conc':>4} {'req/s':>8} {'MB/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'errors':>6} {'x sink':>6} {'srv usr%':>8} {'srv sys%':>8} {'wrk%':>5}")
    print(header)
    order = {"sink": 0, "mhd": 1, "mock": 2}
    for row in sorted(rows, key=lambda row: order.get(row["target"], 3)):  # stable: by target, then as run
        base = sink.get((row["size"], row["c"]))
        if base and row["size"]:
            ratio = f"{row['mbps'] / base['mbps']:.2f}"
        elif base:  # small requests: requests per second against the sink's empty GET
            ratio = f"{row['rps'] / base['rps']:.2f}r"
        else:
            ratio = "-"
        print(f"{row['target']:9} {describe(row):>10} {row['c']:>4} {row['rps']:>8.0f} {row['mbps']:>8.1f} "
              f"{row['p50']:>8.2f} {row['p99']:>8.2f} {row['errors']:>6} {ratio:>6} {row['server_user']:>8.0f} "
              f"{row['server_sys']:>8.0f} {row['client']:>5.0f}")


def find(rows, target, mode, size, concurrency, boundary=None):
    return next((row for row in rows if row["target"] == target and row["mode"] == mode
                 and row["size"] == size and row["c"] == concurrency and row.get("boundary") == boundary), None)


def verdict(ok):
    return "PASS" if ok else "MISS"


# ---------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mock", required=True, help="twitter-upload-mock binary (release build)")
    parser.add_argument("--tools", required=True, help="directory with the compiled sink, mhd_sink and memcpy")
    parser.add_argument("--quick", action="store_true", help="1-second checked runs, fewer rows, no peers (CI smoke)")
    parser.add_argument("--seconds", type=int, default=4, help="length of each measured run (default 4)")
    parser.add_argument("--only", default="", help="comma-separated targets to run (sink,mhd,mock,moto,werkzeug)")
    options = parser.parse_args()
    tools = Path(options.tools)
    wanted = set(filter(None, options.only.split(","))) or {"sink", "mhd", "mock", "moto", "werkzeug"}
    if options.quick:
        wanted -= {"mhd", "moto", "werkzeug"}

    with tempfile.TemporaryDirectory(prefix="bench-") as directory:
        work = Path(directory)
        bench = Bench(options, work)
        begun = time.monotonic()
        print(f"machine: {machine()}", file=sys.stderr)
        print(f"load average at start: {load_average()}", file=sys.stderr)

        loads = [(5 * MIB, 1), (5 * MIB, 4), (64 * 1024, 1), (64 * 1024, 4), (1 * MIB, 1)]
        small = [1, 4]  # concurrency of the small-request rows
        if options.quick:
            loads = [(5 * MIB, 1), (64 * 1024, 1)]
            small = [1]

        # The sink, mhd and the mock run side by side, and each payload's rows follow one another:
        # a ratio compares rows measured seconds apart, not minutes (this machine's other work
        # moves a row by up to a fifth from one minute to the next).
        sink = mhd = mock = None
        if "sink" in wanted:
            ready = work / "sink.ready"
            server = spawn([tools / "sink", 0, ready])
            sink = (server, wait_ready_file(ready, server, "sink"))
        if "mhd" in wanted:
            ready = work / "mhd.ready"
            server = spawn([tools / "mhd_sink", ready])
            mhd = (server, wait_ready_file(ready, server, "mhd_sink"))
        if "mock" in wanted:
            # Every INIT row creates an upload per request: lift the session bound past what they make.
            server, base = start_mock(options, work, "mock", {
                "real_rate_limits": False, "limits": {"max_sessions": 10_000_000},
                "processing": {"check_after_secs": 0, "polls_until_done": 1_000_000_000}})
            media_id = mock_init(base, 512 * MIB)
            v2_id = mock_v2_initialize(base, 512 * MIB)
            # A finalized video whose processing never ends: STATUS answers 200 (in_progress).
            status_id = mock_init(base, 3)
            form(base, {"command": "APPEND", "media_id": status_id, "segment_index": 0, "media_data": "YWJj"}, 204)
            form(base, {"command": "FINALIZE", "media_id": status_id}, 200)  # processing starts: 200 (docs/api.md)
            mock = (server, base)
            v2_path = f"/2/media/upload/{v2_id}/append"

        def base64_rows():
            # base64 media, 1 MiB of it: v1.1 media_data urlencoded and multipart, v2 JSON as xdk
            # sends it and with every '/' escaped; compared with the 1 MiB multipart row just before.
            server, base = mock
            bench.measure("mock", server, base, UPLOAD, "b64form", 1 * MIB, 1, media_id, 204)
            bench.measure("mock", server, base, v2_path, "v2json", 1 * MIB, 1, v2_id, 200)
            if not options.quick:
                bench.measure("mock", server, base, UPLOAD, "b64mp", 1 * MIB, 1, media_id, 204)
                bench.measure("mock", server, base, v2_path, "v2jsonesc", 1 * MIB, 1, v2_id, 200)

        for size, concurrency in loads:
            for name, target in (("sink", sink), ("mhd", mhd)):
                if target:
                    bench.measure(name, target[0], target[1], "/", "raw", size, concurrency, "-", 204)
            if mock:
                server, base = mock
                bench.measure("mock", server, base, UPLOAD, "append", size, concurrency, media_id, 204)
                for boundary in (SHORT_BOUNDARY, CURL_BOUNDARY):
                    bench.measure("mock", server, base, UPLOAD, "append", size, concurrency, media_id, 204, boundary=boundary)
                if (size, concurrency) == loads[0]:
                    # X API v2: the same payload appended over multipart, right after the v1.1 row it
                    # is compared with, so both see the same machine.
                    bench.measure("mock", server, base, v2_path, "v2append", size, concurrency, v2_id, 200)
                if (size, concurrency) == (1 * MIB, 1):
                    base64_rows()
        if mock and options.quick:
            bench.measure("mock", mock[0], mock[1], UPLOAD, "append", 1 * MIB, 1, media_id, 204)
            base64_rows()
        for concurrency in small:
            for name, target in (("sink", sink), ("mhd", mhd)):
                if target:
                    bench.measure(name, target[0], target[1], "/", "empty", 0, concurrency, "-", 204, label="empty")
            if mock:
                server, base = mock
                bench.measure("mock", server, base, UPLOAD, "init", 0, concurrency, "-", 202, label="INIT")
                bench.measure("mock", server, base, UPLOAD, "status", 0, concurrency, status_id, 200, label="STATUS")
        for target in (sink, mhd, mock):
            if target:
                stop(target[0])

        if "moto" in wanted:
            port = free_port()
            server = spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", port])
            base = wait_port(port, server, "moto")
            status, _ = http(base, "PUT", "/bench")
            created = http(base, "POST", "/bench/object?uploads")[1].decode()
            upload_id = re.search(r"<UploadId>(.*?)</UploadId>", created)
            if status != 200 or not upload_id:
                raise Broken(f"moto: CreateBucket {status}, CreateMultipartUpload {created[:300]}")
            for size, concurrency in loads:
                bench.measure("moto", server, base, "/bench/object", "s3part", size, concurrency, upload_id.group(1), 200)
            stop(server)

        if "werkzeug" in wanted:
            ready = work / "werkzeug.ready"
            server = spawn([sys.executable, HERE / "werkzeug_mock.py", ready])
            base = wait_ready_file(ready, server, "werkzeug mock")
            for size, concurrency in loads:
                bench.measure("werkzeug", server, base, UPLOAD, "append", size, concurrency, "1", 204)
            bench.measure("werkzeug", server, base, UPLOAD, "b64form", 1 * MIB, 1, "1", 204)
            stop(server)

        startup = memory_in = memory_spooled = None
        if "mock" in wanted:
            startup = startup_ms(options, 3 if options.quick else 7, bench.warnings)
            memory_in = memory(options, work, 1 if options.quick else 2)
            if not options.quick and "--storage-dir" in subprocess.run([options.mock, "--help"], capture_output=True,
                                                                       text=True).stdout:
                with tempfile.TemporaryDirectory(prefix="bench-spool-") as spool:
                    memory_spooled = memory(options, work, 2, spool)
        copy = [line.split() for line in subprocess.run([tools / "memcpy"], capture_output=True,
                                                        text=True).stdout.splitlines()]
        elapsed = time.monotonic() - begun

    # ------------------------------------------------------------ the report
    print()
    print(f"machine: {machine()}")
    print(f"load average at end: {load_average()}; benchmark took {elapsed:.0f} s"
          + ("; quick mode: 1 s checked runs" if options.quick else f"; {options.seconds} s per row after a 1 s warm-up"))
    print("MB/s: request body bytes per second (multipart framing included). errors: status >= 400, socket errors\n"
          "and answers other than the expected status. x sink: MB/s over the sink's for the same payload size and\n"
          "concurrency; for small requests (marked r) req/s over the sink's req/s for an empty GET. srv usr%/sys%:\n"
          "the server's CPU time, % of one core. wrk%: the load generator's CPU time, % of one core.\n")
    print_table(bench.rows)
    print()
    for size, rate in copy:
        print(f"memcpy bandwidth, {int(size) // MIB} MiB buffers, one core: {float(rate):.0f} MB/s")
    sink_5m = find(bench.rows, "sink", "raw", 5 * MIB, 1)
    if sink_5m:
        print(f"loopback ceiling (sink, 5 MiB, c=1): {sink_5m['mbps']:.0f} MB/s")

    goals = []
    if startup:
        median = statistics.median(startup)
        print(f"startup, spawn to first 200 on /__admin/health: median {median:.1f} ms "
              f"(min {min(startup):.1f}, max {max(startup):.1f}, {len(startup)} runs)")
        goals.append((f"startup {median:.1f} ms <= 50 ms", median <= 50))
        goals.append((f"startup {median:.1f} ms <= 10 ms (issue 20)", median <= 10))
    if memory_in:
        idle = memory_in[0]
        print(f"idle RSS: {idle['rss'] / 1024:.1f} MB (anonymous {idle['anon'] / 1024:.1f} MB, the rest is shared "
              "code pages)")
        goals.append((f"idle RSS {idle['rss'] / 1024:.1f} MB <= 15 MB", idle["rss"] <= 15 * 1024))
        for reading in memory_in[1:]:
            extra = reading["rss"] / 1024 - idle["rss"] / 1024 - reading["stored"] / MIB
            print(f"after 16 concurrent 5 MiB APPENDs: RSS {reading['rss'] / 1024:.1f} MB (peak {reading['hwm'] / 1024:.1f})"
                  f" holding {reading['stored'] / MIB:.0f} MiB of media: {extra:+.1f} MB beyond idle + media")
        last = memory_in[-1]
        extra = last["rss"] / 1024 - idle["rss"] / 1024 - last["stored"] / MIB
        goals.append((f"in memory: RSS beyond idle + stored media {extra:+.1f} MB <= 8 MB", extra <= 8))
    if memory_spooled:
        idle = memory_spooled[0]
        print("with --storage-dir: RSS " + ", ".join(
            f"{reading['rss'] / 1024:.1f} MB at {reading['stored'] / MIB:.0f} MiB spooled" for reading in memory_spooled)
            + f" (peak {memory_spooled[-1]['hwm'] / 1024:.1f} MB)")
        growth = (memory_spooled[-1]["rss"] - idle["rss"]) / 1024
        goals.append((f"--storage-dir: RSS growth {growth:+.1f} MB for {memory_spooled[-1]['stored'] / MIB:.0f} MiB "
                      "spooled <= 8 MB", growth <= 8))

    rows = bench.rows
    for concurrency in (1, 4):
        mock = find(rows, "mock", "append", 5 * MIB, concurrency)
        for peer, mode, goal in (("sink", "raw", 0.6), ("moto", "s3part", 5), ("werkzeug", "append", 3)):
            other = find(rows, peer, mode, 5 * MIB, concurrency)
            if mock and other and other["mbps"]:
                ratio = mock["mbps"] / other["mbps"]
                goals.append((f"5 MiB c={concurrency}: mock/{peer} MB/s {ratio:.2f}x >= {goal}x", ratio >= goal))
    v1_append = find(rows, "mock", "append", 5 * MIB, 1)
    v2_append = find(rows, "mock", "v2append", 5 * MIB, 1)
    if v1_append and v2_append and v1_append["mbps"]:
        ratio = v2_append["mbps"] / v1_append["mbps"]
        goals.append((f"5 MiB c=1: v2 append/v1.1 APPEND MB/s {ratio:.2f}x >= 0.9x", ratio >= 0.9))
    mock = find(rows, "mock", "append", 64 * 1024, 1)
    for peer, mode, goal in (("moto", "s3part", 10), ("werkzeug", "append", 5)):
        other = find(rows, peer, mode, 64 * 1024, 1)
        if mock and other and other["rps"]:
            ratio = mock["rps"] / other["rps"]
            goals.append((f"64 KiB c=1: mock/{peer} req/s {ratio:.1f}x >= {goal}x", ratio >= goal))
    # Issue 20: multipart APPEND against the sink for every boundary, base64 against multipart.
    for size, concurrency, goal in ((5 * MIB, 1, 0.9), (5 * MIB, 4, 0.9), (1 * MIB, 1, 0.8), (64 * 1024, 1, 0.8),
                                    (64 * 1024, 4, 0.5)):
        sink = find(rows, "sink", "raw", size, concurrency)
        for boundary in (None, len(SHORT_BOUNDARY), len(CURL_BOUNDARY)):
            mock = find(rows, "mock", "append", size, concurrency, boundary)
            if mock and sink and sink["mbps"]:
                ratio = mock["mbps"] / sink["mbps"]
                goals.append((f"{describe(mock)} c={concurrency}: mock/sink MB/s {ratio:.2f}x >= {goal}x", ratio >= goal))
    multipart_1m = find(rows, "mock", "append", 1 * MIB, 1)
    for mode, goal in (("v2json", 0.5), ("v2jsonesc", 0.4), ("b64form", 0.4), ("b64mp", 0.4)):
        row = find(rows, "mock", mode, 1 * MIB, 1)
        if row and multipart_1m and multipart_1m["rps"]:
            # Both carry 1 MiB of media per request: media MB/s is requests per second.
            ratio = row["rps"] / multipart_1m["rps"]
            goals.append((f"1 MiB c=1: {describe(row)} media MB/s over multipart {ratio:.2f}x >= {goal}x", ratio >= goal))
    if goals:
        print("\nissue targets (information only; a miss does not fail the run):")
        for text, ok in goals:
            print(f"  {verdict(ok)}  {text}")
    if bench.warnings:
        print("\nwarnings:\n  " + "\n  ".join(bench.warnings))
    if bench.failures:
        raise Broken("errors from targets that must not fail:\n  " + "\n  ".join(bench.failures))


if __name__ == "__main__":
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _on_signal)
    status = 0
    try:
        main()
    except Broken as problem:
        print(f"\nbench: FAILED: {problem}", file=sys.stderr)
        status = 1
    except Interrupted as signalled:
        print(f"\nbench: interrupted by signal {signalled.number}; stopping every server", file=sys.stderr)
        status = 128 + signalled.number
    finally:
        stop_all()
    sys.exit(status)
