"""Measures whether a flood of bad or abandoned connections locks other clients out.

Starts the mock (or uses --url), opens N connections of one kind, then times what a fresh
client gets: `GET /__admin/health`, an INIT upload, and (for the delay scenario)
`DELETE /__admin/faults`. Scenarios:

  idle       N sockets that connect and send nothing
  slowloris  N sockets that send a request line, then one header line every second, forever
  delayed    N complete INIT requests hit a 60 s delay fault; each client closes at once

    python3 bench/lockout.py --mock .build/debug/twitter-upload-mock --connections 1100
    python3 bench/lockout.py --mock BIN --scenario slowloris --config my.json

Each probe prints its latency, or `timeout` after --probe-timeout seconds. Figures go into
docs/configuration.md (Bounds) when the connection handling changes.
"""
import argparse
import json
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

UPLOAD = "/1.1/media/upload.json"


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, needed), hard))


def start_mock(binary, config):
    directory = Path(tempfile.mkdtemp(prefix="lockout-"))
    ready = directory / "ready"
    if not config:
        # Rate limits off, so that every flooding INIT reaches the delay fault.
        config = directory / "config.json"
        config.write_text(json.dumps({"real_rate_limits": False}))
    command = [binary, "--port", "0", "--ready-file", str(ready), "--log-level", "error", "--config", str(config)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=open(directory / "stderr", "wb"))
    deadline = time.monotonic() + 20
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            sys.exit(f"mock did not start: {(directory / 'stderr').read_text()}")
        time.sleep(0.02)
    return process, ready.read_text().strip()


def request(base, method, path, body=b"", content_type=None, timeout=10.0):
    """One request on a fresh connection; returns (status, seconds) or ('timeout', seconds)."""
    host, port = base.split("//", 1)[1].rsplit(":", 1)
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    started = time.monotonic()
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as connection:
            connection.settimeout(max(0.01, timeout - (time.monotonic() - started)))
            connection.sendall(head.encode() + b"\r\n" + body)
            answer = b""
            while b"\r\n" not in answer:
                piece = connection.recv(4096)
                if not piece:
                    return "closed", time.monotonic() - started
                answer += piece
            return int(answer.split(b" ", 2)[1]), time.monotonic() - started
    except (socket.timeout, TimeoutError):
        return "timeout", time.monotonic() - started
    except OSError as error:
        return f"error {error.errno}", time.monotonic() - started


def open_sockets(base, count):
    host, port = base.split("//", 1)[1].rsplit(":", 1)
    sockets = []
    for _ in range(count):
        connection = socket.socket()
        connection.setblocking(False)
        connection.connect_ex((host, int(port)))  # completes in the kernel's backlog
        sockets.append(connection)
    time.sleep(0.5)
    return sockets


def slowloris(base, count, stop):
    sockets = open_sockets(base, count)
    for connection in sockets:
        try:
            connection.send(b"POST " + UPLOAD.encode() + b" HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            pass

    def trickle():
        line = 0
        while not stop.is_set():
            line += 1
            for connection in sockets:
                try:
                    connection.send(f"X-Trickle-{line}: a\r\n".encode())
                except OSError:
                    pass
            stop.wait(1.0)

    threading.Thread(target=trickle, daemon=True).start()
    return sockets


def delayed(base, count):
    status, _ = request(base, "POST", "/__admin/faults",
                        json.dumps({"match": {"command": "INIT"}, "action": {"delay_ms": 60000}}).encode())
    assert status == 201, status
    body = b"command=INIT&total_bytes=10&media_type=video%2Fmp4"
    host, port = base.split("//", 1)[1].rsplit(":", 1)
    head = (f"POST {UPLOAD} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    sockets = open_sockets(base, count)
    for connection in sockets:
        connection.setblocking(True)
        connection.settimeout(5)
        try:
            connection.sendall(head + body)
        except OSError:
            pass
    time.sleep(1.0)  # every request reaches the server and is parked
    for connection in sockets:
        connection.close()  # the clients give up
    return []


def probe(base, timeout, with_faults):
    results = [("GET /__admin/health", request(base, "GET", "/__admin/health", timeout=timeout))]
    if with_faults:
        results.append(("DELETE /__admin/faults", request(base, "DELETE", "/__admin/faults", timeout=timeout)))
    results.append(("POST INIT (fresh upload)", request(
        base, "POST", UPLOAD, b"command=INIT&total_bytes=10&media_type=video%2Fmp4",
        "application/x-www-form-urlencoded", timeout=timeout)))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mock", help="twitter-upload-mock binary (started per scenario)")
    parser.add_argument("--config", help="config file for the started mock (default: rate limits off)")
    parser.add_argument("--url", help="an already running mock instead of --mock")
    parser.add_argument("--connections", type=int, default=1100)
    parser.add_argument("--scenario", action="append", choices=["idle", "slowloris", "delayed"])
    parser.add_argument("--probe-timeout", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds between the flood and the probes")
    arguments = parser.parse_args()
    if not arguments.mock and not arguments.url:
        parser.error("--mock or --url")
    raise_fd_limit(arguments.connections + 256)
    for scenario in arguments.scenario or ["idle", "slowloris", "delayed"]:
        process = None
        base = arguments.url
        if arguments.mock:
            process, base = start_mock(arguments.mock, arguments.config)
        stop = threading.Event()
        sockets = {"idle": lambda: open_sockets(base, arguments.connections),
                   "slowloris": lambda: slowloris(base, arguments.connections, stop),
                   "delayed": lambda: delayed(base, arguments.connections)}[scenario]()
        time.sleep(arguments.settle)
        print(f"{scenario}: {arguments.connections} connections")
        for name, (outcome, seconds) in probe(base, arguments.probe_timeout, scenario == "delayed"):
            shown = f"{outcome} after {seconds:.3f} s"
            print(f"  {name:28} {shown}")
        stop.set()
        for connection in sockets:
            connection.close()
        if process:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                print("  (mock did not stop within 5 s of SIGTERM)")


if __name__ == "__main__":
    main()
