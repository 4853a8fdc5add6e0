"""Drives scripts/bench: starts each target on 127.0.0.1, loads it with wrk, prints the table.

Targets: the sink (loopback ceiling), twitter-upload-mock, moto's S3 UploadPart, and a plain
Flask/werkzeug APPEND mock. Ratios are taken within this one run, so a noisy machine slows
every row alike.
"""
import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIB = 1024 * 1024
processes = []


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command, port, ready_path="/", **kwargs):
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True, **kwargs)
    processes.append(process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"{command[0]} exited during startup")
            time.sleep(0.05)
    raise SystemExit(f"{command[0]} did not start listening")


def stop_all():
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    processes.clear()


def http(method, url, body=None, headers=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


def wrk(url, mode, size, concurrency, seconds, ident=""):
    command = ["wrk", "-t", str(concurrency), "-c", str(concurrency), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", str(HERE / "load.lua"), url, "--", mode, str(size), ident]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    match = re.search(r"RESULT (.*)", output)
    if not match:
        raise SystemExit(f"wrk gave no result for {url} {mode}:\n{output}")
    result = {key: int(value) for key, value in (pair.split("=") for pair in match.group(1).split())}
    seconds = result["duration_us"] / 1e6
    request_bytes = len(body_for(mode, size, ident))
    return {
        "rps": result["requests"] / seconds,
        "mbps": result["requests"] * request_bytes / seconds / 1e6,
        "p50": result["p50_us"] / 1000, "p99": result["p99_us"] / 1000,
        "errors": result["status_errors"] + result["socket_errors"],
    }


def body_for(mode, size, ident):
    # Request body sizes as load.lua builds them (what MB/s counts).
    if mode == "append":
        return b"x" * (size + 420 + len(ident))
    if mode == "base64":
        return b"x" * (size * 4 // 3 // 4 * 4 + 60 + len(ident))
    if mode in ("init",):
        return b"x" * 55
    if mode == "status":
        return b""
    return b"x" * size


def rss_kib(pid, field="VmRSS"):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def start_mock(binary, config, extra=()):
    port = free_port()
    config_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(config, config_file)
    config_file.close()
    process = start([binary, "--port", str(port), "--log-level", "error", "--config", config_file.name, *extra], port)
    return process, f"http://127.0.0.1:{port}"


def mock_init(base, total=536_870_912, category="tweet_video"):
    status, body = http("POST", base + "/1.1/media/upload.json",
                        f"command=INIT&total_bytes={total}&media_type=video%2Fmp4&media_category={category}".encode(),
                        {"Content-Type": "application/x-www-form-urlencoded"})
    return json.loads(body)["media_id_string"]


def startup_ms(binary):
    samples = []
    for _ in range(5):
        port = free_port()
        begun = time.monotonic()
        process = subprocess.Popen([binary, "--port", str(port), "--log-level", "off"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        processes.append(process)
        while True:
            try:
                if http("GET", f"http://127.0.0.1:{port}/__admin/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.001)
        samples.append((time.monotonic() - begun) * 1000)
        stop_all()
    return statistics.median(samples)


def append_once(base, media_id, index, payload):
    boundary = "memoryboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"command\"\r\n\r\nAPPEND\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"media_id\"\r\n\r\n{media_id}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"segment_index\"\r\n\r\n{index}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"m\"\r\n\r\n").encode() \
        + payload + f"\r\n--{boundary}--\r\n".encode()
    status, _ = http("POST", base + "/1.1/media/upload.json", body,
                     {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 204, status


def memory(binary, storage_dir=None):
    """RSS idle, then after two rounds of 16 concurrent 5 MiB APPENDs of distinct segments."""
    from concurrent.futures import ThreadPoolExecutor
    extra = ["--storage-dir", storage_dir] if storage_dir else []
    process, base = start_mock(binary, {"rate_limits": []}, extra)
    time.sleep(0.3)
    readings = [(rss_kib(process.pid), rss_kib(process.pid, "RssAnon"))]
    media_id = mock_init(base)
    payload = os.urandom(5 * MIB)
    with ThreadPoolExecutor(max_workers=16) as pool:
        for round_start in (0, 16):
            list(pool.map(lambda index: append_once(base, media_id, index, payload), range(round_start, round_start + 16)))
            stored = json.loads(http("GET", f"{base}/__admin/uploads/{media_id}")[1])["received_bytes"]
            readings.append((rss_kib(process.pid), stored))
    stop_all()
    return readings


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mock", required=True, help="twitter-upload-mock binary (release)")
    parser.add_argument("--sink", required=True, help="compiled sink binary")
    parser.add_argument("--memcpy", required=True, help="compiled memcpy bandwidth probe")
    parser.add_argument("--quick", action="store_true", help="1-second runs, mock and sink only (CI smoke)")
    options = parser.parse_args()
    seconds = 1 if options.quick else 4
    rows = []
    failures = []

    def measure(target, url, mode, size, concurrency, ident="", expect_errors=False):
        result = wrk(url, mode, size, concurrency, seconds, ident)
        rows.append({"target": target, "mode": mode, "size": size, "c": concurrency, **result})
        if result["errors"] and not expect_errors:
            failures.append(f"{target} {mode} {size} c={concurrency}: {result['errors']} errors")
        print(f"  measured {target:9} {mode:7} {size:>8} c={concurrency}: {result['mbps']:8.1f} MB/s "
              f"{result['rps']:9.0f} req/s", file=sys.stderr, flush=True)

    loads = [(5 * MIB, 1), (5 * MIB, 4), (64 * 1024, 1), (1 * MIB, 1)]
    if options.quick:
        loads = [(5 * MIB, 1), (64 * 1024, 1)]

    port = free_port()
    start([options.sink, str(port)], port)
    for size, concurrency in loads:
        measure("sink", f"http://127.0.0.1:{port}/", "raw", size, concurrency)
    stop_all()

    _, base = start_mock(options.mock, {"rate_limits": [],
                                        "processing": {"check_after_secs": 0, "polls_until_done": 1_000_000_000}})
    media_id = mock_init(base)
    upload = base + "/1.1/media/upload.json"
    for size, concurrency in loads:
        measure("mock", upload, "append", size, concurrency, media_id)
    measure("mock", upload, "base64", 1 * MIB, 1, media_id)
    measure("mock", upload, "init", 0, 1)
    status_id = mock_init(base, total=3)
    http("POST", upload, f"command=APPEND&media_id={status_id}&segment_index=0&media_data=YWJj".encode(),
         {"Content-Type": "application/x-www-form-urlencoded"})
    http("POST", upload, f"command=FINALIZE&media_id={status_id}".encode(),
         {"Content-Type": "application/x-www-form-urlencoded"})
    measure("mock", upload, "status", 0, 1, status_id)
    stop_all()

    if not options.quick:
        port = free_port()
        start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port)
        moto = f"http://127.0.0.1:{port}"
        http("PUT", moto + "/bench")
        created = http("POST", moto + "/bench/object?uploads")[1].decode()
        upload_id = re.search(r"<UploadId>(.*?)</UploadId>", created).group(1)
        for size, concurrency in loads[:3]:
            measure("moto", f"{moto}/bench/object", "s3part", size, concurrency, upload_id)
        stop_all()

        port = free_port()
        start([sys.executable, str(HERE / "werkzeug_mock.py"), str(port)], port)
        for size, concurrency in loads[:3]:
            measure("werkzeug", f"http://127.0.0.1:{port}/1.1/media/upload.json", "append", size, concurrency, "1")
        stop_all()

    started_ms = startup_ms(options.mock)
    readings = memory(options.mock)
    spooled = None
    if not options.quick and "--storage-dir" in subprocess.run([options.mock, "--help"], capture_output=True, text=True).stdout:
        with tempfile.TemporaryDirectory() as directory:
            spooled = memory(options.mock, directory)

    sink = {(r["size"], r["c"]): r for r in rows if r["target"] == "sink"}
    print(f"\n{'target':9} {'payload':>8} {'conc':>4} {'req/s':>9} {'MB/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'x sink':>7}")
    for row in rows:
        label = {"raw": "", "append": "", "s3part": "", "base64": " b64", "init": " INIT", "status": " STATUS"}[row["mode"]]
        payload = (f"{row['size'] // MIB}M" if row["size"] >= MIB else f"{row['size'] // 1024}K" if row["size"] else "-") + label
        base_row = sink.get((row["size"], row["c"]))
        ratio = f"{row['mbps'] / base_row['mbps']:.2f}" if base_row and row["size"] else "-"
        print(f"{row['target']:9} {payload:>8} {row['c']:>4} {row['rps']:>9.0f} {row['mbps']:>8.1f} "
              f"{row['p50']:>8.2f} {row['p99']:>8.2f} {row['errors']:>6} {ratio:>7}")
    memcpy_mbps = float(subprocess.run([options.memcpy], capture_output=True, text=True).stdout)
    print(f"\nmemcpy bandwidth (5 MiB buffers, one core): {memcpy_mbps:.0f} MB/s")
    print(f"startup to first successful request: {started_ms:.1f} ms (target <= 50)")
    idle, idle_anonymous = readings[0]
    print(f"idle RSS: {idle / 1024:.1f} MB (target <= 15), of which anonymous {idle_anonymous / 1024:.1f} MB "
          "(the rest is shared code pages)")
    for rss, stored in readings[1:]:
        print(f"RSS after 16 concurrent 5 MiB APPENDs: {rss / 1024:.1f} MB holding {stored / MIB:.0f} MiB of media "
              f"(beyond idle + media: {(rss - idle) / 1024 - stored / MIB:.1f} MB)")
    if spooled:
        print("with --storage-dir: " + ", ".join(f"{rss / 1024:.1f} MB at {stored / MIB:.0f} MiB spooled"
                                                 for rss, stored in [(spooled[0][0], 0)] + spooled[1:]))

    def get(target, size, c):
        return next((r for r in rows if r["target"] == target and r["size"] == size and r["c"] == c and r["mode"] != "base64"), None)

    print("\ntargets (information; a miss does not fail the run):")
    for size, c in [load for load in loads if load[0] == 5 * MIB]:
        mock_row, sink_row = get("mock", size, c), get("sink", size, c)
        print(f"  5 MiB c={c}: mock/sink {mock_row['mbps'] / sink_row['mbps']:.2f} (>= 0.6)")
        for peer, goal in (("moto", 5), ("werkzeug", 3)):
            peer_row = get(peer, size, c)
            if peer_row:
                print(f"  5 MiB c={c}: mock/{peer} {mock_row['mbps'] / peer_row['mbps']:.1f}x (>= {goal}x)")
    for peer, goal in (("moto", 10), ("werkzeug", 5)):
        mock_row, peer_row = get("mock", 64 * 1024, 1), get(peer, 64 * 1024, 1)
        if peer_row:
            print(f"  64 KiB req/s: mock/{peer} {mock_row['rps'] / peer_row['rps']:.1f}x (>= {goal}x)")
    if failures:
        print("\nERRORS:\n  " + "\n  ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
