"""The deterministic budget check behind scripts/budget (docs/performance.md, Budgets).

Runs the release mock under `valgrind --tool=callgrind` and sends it a fixed sequence of
requests over one keep-alive loopback connection. Callgrind writes a dump each time
libmicrohttpd is handed a response (`--dump-before=MHD_queue_response`), so every dump holds
one request: the previous response's sending and completion, then this request's head, body
and answer. From each dump come the instructions executed (all threads, user space: the
mock, libmicrohttpd, libc) and the number of calls to malloc, calloc, realloc and the aligned
allocators. Both are the same from run to run, unlike wall-clock time on a shared machine; the
median of a few requests of each kind keeps a timer that fired in between out of the figure.
The allocation budget is the most any of them made when it was written (how libmicrohttpd cuts
a body into pieces moves a buffer's growth by one or two); the check holds their median to it.

The mock picks its vector kernels by CPU, so the figures are kept per kernel level: each level
is measured with TWITTER_UPLOAD_MOCK_VECTOR_KERNEL set to it (docs/configuration.md), which caps
the level, and the mock's `listening` log line says which level is in force. A level the CPU
cannot run under valgrind (AVX2 on a CPU without it; AVX-512, which valgrind 3.19 does not
run) is reported as not measured, with the reason, and its figures are kept as they are.

Payloads are pseudo-random bytes from a fixed seed, as real media are random, and the same on
every run.

    python3 bench/budget.py --mock BINARY --baseline bench/budget.json            # check
    python3 bench/budget.py --mock BINARY --baseline bench/budget.json --update   # rewrite
    python3 bench/budget.py ... --level scalar # only this level (repeatable); default: those in the baseline
    python3 bench/budget.py ... --keep DIR     # keep the dumps: callgrind_annotate DIR/LEVEL/callgrind.out.N

Exit status: 0 within budget, 1 over it (more than `--tolerance` more instructions than the
baseline, or more allocations than budgeted, at any level measured), 2 when the run itself
failed or no level could be measured.
"""
import argparse
import base64
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB
UPLOAD = "/1.1/media/upload.json"
# What Python requests sends (uuid4().hex); the delimiter scan must not care (issue 20), so
# the 5 MiB APPEND is also measured with a short boundary and with curl's.
BOUNDARY = "8d5c0e4f2b7a41c3a9e6d1f0b2c4e6a8"
SHORT_BOUNDARY = "x7Kq2Pzw"
CURL_BOUNDARY = "------------------------3f9a1c7e5b2d8046"
ALLOCATORS = {"malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign", "valloc",
              "__libc_malloc", "__libc_calloc", "__libc_realloc", "__posix_memalign", "__libc_memalign"}
# The goal (docs/performance.md): an APPEND allocates at most this, whatever its size.
APPEND_ALLOCATION_GOAL = 32
# The levels TWITTER_UPLOAD_MOCK_VECTOR_KERNEL takes, lowest first (docs/configuration.md).
LEVELS = ["scalar", "ssse3", "avx2", "avx512"]
# Measured when the baseline names none: the level every x86-64 CPU runs (the kernels need
# nothing past SSE2 there) and the one most CI machines have.
DEFAULT_LEVELS = ["scalar", "avx2"]
KERNEL_VARIABLE = "TWITTER_UPLOAD_MOCK_VECTOR_KERNEL"
ABOUT = ("Instructions and allocations per request of the release build under callgrind, per vector kernel "
         "level (TWITTER_UPLOAD_MOCK_VECTOR_KERNEL; scripts/budget, docs/performance.md). Regenerate with "
         "scripts/budget --update after a change that is meant to cost more, or a new Swift toolchain.")


class Failed(Exception):
    """The run could not be measured (exit 2)."""


class Unavailable(Exception):
    """This CPU, under valgrind, does not run the level asked for: the mock runs a lower one."""


def payload(size, seed):
    return random.Random(seed).randbytes(size)


def multipart(fields, media=None, boundary=BOUNDARY):
    """A multipart/form-data body as Python requests writes it: text fields, then a file part."""
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields]
    if media is not None:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="media"; filename="media"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n".encode() + media + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def urlencoded(text):
    return text.encode(), {"Content-Type": "application/x-www-form-urlencoded"}


def percent_encoded_base64(data):
    """base64 as form encoders send it: `+ / =` become `%2B %2F %3D`."""
    return base64.b64encode(data).decode().replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")


class Client:
    """One keep-alive connection; remembers which requests are measured, in order."""

    def __init__(self, base):
        host, port = base.removeprefix("http://").rsplit(":", 1)
        self.connection = http.client.HTTPConnection(host, int(port), timeout=600)
        self.labels = []  # one per request sent: the kind measured, or None for setup

    def send(self, label, method, path, body=b"", headers=None, expect=200):
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        reply = response.read()
        self.labels.append(label)
        if response.status != expect:
            raise Failed(f"{method} {path} answered {response.status}, expected {expect}: {reply[:300]!r}")
        return json.loads(reply) if reply else None

    def v1_init(self, label=None, total=512 * MIB, media_type="video%2Fmp4", category="tweet_video"):
        body, headers = urlencoded(f"command=INIT&total_bytes={total}&media_type={media_type}&media_category={category}")
        return self.send(label, "POST", UPLOAD, body, headers, expect=202)["media_id_string"]

    def v2_initialize(self, total=512 * MIB):
        body = json.dumps({"media_type": "video/mp4", "total_bytes": total, "media_category": "tweet_video"}).encode()
        return self.send(None, "POST", "/2/media/upload/initialize", body, {"Content-Type": "application/json"})["data"]["id"]


def sequence(client, repeats):
    """The fixed set of requests: each kind once to warm up (lazy tables, first-use paths), then
    `repeats` times measured, back to back, so each measured dump also holds the tail of a
    request of its own kind."""
    media_id = client.v1_init()
    v2_id = client.v2_initialize()
    small, large, one = payload(64 * KIB, 1), payload(5 * MIB, 2), payload(1 * MIB, 3)
    encoded = base64.b64encode(one).decode()

    def v1_append(label, data, boundary=BOUNDARY):
        body, headers = multipart([("command", "APPEND"), ("media_id", media_id), ("segment_index", "0")], data, boundary)
        client.send(label, "POST", UPLOAD, body, headers, expect=204)

    def v1_media_data(label):
        body, headers = urlencoded(f"command=APPEND&media_id={media_id}&segment_index=1&media_data="
                                   + percent_encoded_base64(one))
        client.send(label, "POST", UPLOAD, body, headers, expect=204)

    def v2_multipart(label):
        body, headers = multipart([("segment_index", "2")], one)
        client.send(label, "POST", f"/2/media/upload/{v2_id}/append", body, headers)

    def v2_json(label, escaped_slashes=False):
        # xdk's order: media first. PHP's json_encode and others escape every '/' as '\/'.
        media = encoded.replace("/", "\\/") if escaped_slashes else encoded
        body = ('{"media": "' + media + '", "segment_index": 3}').encode()
        client.send(label, "POST", f"/2/media/upload/{v2_id}/append", body, {"Content-Type": "application/json"})

    status_id = client.v1_init(total=3)
    body, headers = urlencoded(f"command=APPEND&media_id={status_id}&segment_index=0&media_data=YWJj")
    client.send(None, "POST", UPLOAD, body, headers, expect=204)
    body, headers = urlencoded(f"command=FINALIZE&media_id={status_id}")
    client.send(None, "POST", UPLOAD, body, headers, expect=200)  # processing starts, never ends

    def status(label):
        client.send(label, "GET", f"{UPLOAD}?command=STATUS&media_id={status_id}")

    def finalize(label):
        # A fresh video upload each time; only the FINALIZE is measured (processing starts: 200).
        video_id = client.v1_init(total=3)
        body, headers = urlencoded(f"command=APPEND&media_id={video_id}&segment_index=0&media_data=YWJj")
        client.send(None, "POST", UPLOAD, body, headers, expect=204)
        body, headers = urlencoded(f"command=FINALIZE&media_id={video_id}")
        client.send(label, "POST", UPLOAD, body, headers)

    kinds = [
        ("v1.1 INIT", lambda label: client.v1_init(label)),
        ("v1.1 STATUS", status),
        ("v1.1 FINALIZE", finalize),
        ("v1.1 APPEND multipart 64 KiB", lambda label: v1_append(label, small)),
        ("v1.1 APPEND multipart 5 MiB", lambda label: v1_append(label, large)),
        ("v1.1 APPEND multipart 5 MiB, 8-character boundary", lambda label: v1_append(label, large, SHORT_BOUNDARY)),
        ("v1.1 APPEND multipart 5 MiB, curl's boundary", lambda label: v1_append(label, large, CURL_BOUNDARY)),
        ("v1.1 APPEND media_data urlencoded 1 MiB", v1_media_data),
        ("v2 append multipart 1 MiB", v2_multipart),
        ("v2 append JSON 1 MiB", v2_json),
        ("v2 append JSON 1 MiB, escaped slashes", lambda label: v2_json(label, escaped_slashes=True)),
    ]
    for name, request in kinds:
        request(None)
        for _ in range(repeats):
            request(name)
    return [name for name, _ in kinds]


def read_dump(path):
    """Instructions and allocator calls of one callgrind dump (written with --compress-strings=no)."""
    instructions, allocations, callee = None, 0, None
    with open(path, errors="replace") as dump:
        for line in dump:
            if line.startswith("cfn="):
                callee = line[4:].strip()
            elif line.startswith("calls="):
                if callee in ALLOCATORS:
                    allocations += int(line[6:].split()[0])
            elif line.startswith("totals:") or line.startswith("summary:"):
                instructions = int(line.split()[1])
    if instructions is None:
        raise Failed(f"{path} has no totals line")
    return instructions, allocations


def listening_kernel(log_path):
    """The `vector_kernel` of the mock's `listening` log line (JSON lines on stderr)."""
    for line in Path(log_path).read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("message") == "listening":
            return entry.get("vector_kernel")
    return None


def measure(mock, repeats, work, level):
    """The figures of one kernel level; Unavailable when the mock runs a lower one."""
    ready = work / "ready"
    ready.unlink(missing_ok=True)  # left in a --keep directory by an earlier run
    config = work / "config.json"
    config.write_text(json.dumps({"real_rate_limits": False, "processing": {"check_after_secs": 0,
                                                                   "polls_until_done": 1_000_000_000}}))
    out = work / "callgrind.out"
    mock_log = work / "mock.log"
    command = ["valgrind", "--tool=callgrind", "--dump-before=MHD_queue_response", "--compress-strings=no",
               "--compress-pos=no", f"--callgrind-out-file={out}", f"--log-file={work / 'valgrind.log'}",
               mock, "--port", "0", "--ready-file", ready, "--config", config]
    log = open(mock_log, "w")
    server = subprocess.Popen([str(part) for part in command], stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True, env={**os.environ, KERNEL_VARIABLE: level})
    try:
        deadline = time.monotonic() + 120
        while not (ready.exists() and ready.read_text().strip()):
            if server.poll() is not None or time.monotonic() > deadline:
                raise Failed(f"the mock did not start under valgrind:\n{mock_log.read_text()[-1000:]}"
                             f"{(work / 'valgrind.log').read_text()[-1000:]}")
            time.sleep(0.05)
        in_force = listening_kernel(mock_log)
        if in_force is None:
            raise Failed(f"the mock's listening log line names no vector_kernel:\n{mock_log.read_text()[-1000:]}")
        if in_force != level:
            raise Unavailable(f"under valgrind this CPU runs at most {in_force} (the mock's listening line says "
                              f'"vector_kernel":"{in_force}")')
        client = Client(ready.read_text().strip())
        kinds = sequence(client, repeats)
        client.connection.close()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
    # Dump n (1-based) ends just before the n-th response is queued: it holds request n.
    samples = {kind: [] for kind in kinds}
    for number, label in enumerate(client.labels, start=1):
        if label is None:
            continue
        path = Path(f"{out}.{number}")
        if not path.exists():
            raise Failed(f"callgrind wrote no dump {path.name}; is MHD_queue_response still the reply call?")
        samples[label].append(read_dump(path))
    return {kind: {"instructions": int(statistics.median(i for i, _ in values)),
                   "allocations": int(statistics.median(a for _, a in values)),
                   "most_allocations": max(a for _, a in values),
                   "spread": (max(i for i, _ in values) - min(i for i, _ in values)) / max(1, min(i for i, _ in values))}
            for kind, values in samples.items()}


def compare(figures, budget, tolerance, update):
    """Prints one level's table; returns what is over its budget."""
    over = []
    print(f"{'request':52} {'instructions':>13} {'budget':>13} {'change':>7} {'allocs':>6} {'budget':>6}")
    for kind, measured in figures.items():
        allowed = budget.get(kind)
        if allowed:
            change = measured["instructions"] / allowed["instructions"] - 1
            verdict = []
            if measured["instructions"] > allowed["instructions"] * (1 + tolerance):
                verdict.append(f"instructions {change:+.1%} > {tolerance:+.0%}")
            if measured["allocations"] > allowed["allocations"]:
                verdict.append(f"allocations {measured['allocations']} > {allowed['allocations']}")
            if verdict:
                over.append(f"{kind}: " + ", ".join(verdict))
            shown = f"{allowed['instructions']:>13,} {change:>+7.1%} {measured['allocations']:>6} {allowed['allocations']:>6}"
        else:
            shown = f"{'-':>13} {'-':>7} {measured['allocations']:>6} {'-':>6}"
            if not update:
                over.append(f"{kind}: no budget")
        print(f"{kind:52} {measured['instructions']:>13,} {shown}"
              + (f"  (spread {measured['spread']:.1%})" if measured["spread"] > 0.02 else ""))
    appends = {kind: measured["allocations"] for kind, measured in figures.items() if "APPEND" in kind.upper()}
    worst = max(appends.values())
    print(f"allocations per APPEND: at most {worst} (goal {APPEND_ALLOCATION_GOAL}, whatever the size: "
          f"{'met' if worst <= APPEND_ALLOCATION_GOAL else 'not yet'})")
    return over


def budget_file(levels):
    """bench/budget.json: per level, per request, the instructions and the allocation budget."""
    ordered = {level: levels[level] for level in sorted(levels, key=lambda name: LEVELS.index(name))}
    return json.dumps({"about": ABOUT, "levels": ordered}, indent=2) + "\n"


def read_baseline(path):
    """The levels of the committed budget; none for a missing file or one without levels."""
    if not path.exists():
        return {}
    written = json.loads(path.read_text())
    if "levels" not in written:
        print(f"{path} holds no figures per kernel level (the format before them): "
              "scripts/budget --update writes them", file=sys.stderr)
    levels = written.get("levels", {})
    unknown = [level for level in levels if level not in LEVELS]
    if unknown:
        raise Failed(f"{path}: unknown kernel levels {', '.join(unknown)} (the levels are {', '.join(LEVELS)})")
    return levels


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mock", required=True, help="release binary without DWARF (scripts/budget strips a copy)")
    parser.add_argument("--baseline", required=True, type=Path, help="the committed budget (bench/budget.json)")
    parser.add_argument("--update", action="store_true",
                        help="write the measured levels' figures as the new budget, keeping the others")
    parser.add_argument("--level", action="append", choices=LEVELS,
                        help="a kernel level to measure (repeatable); default: every level in the baseline, "
                             f"or {' and '.join(DEFAULT_LEVELS)} when it has none")
    parser.add_argument("--repeats", type=int, default=5, help="measured requests of each kind (median)")
    parser.add_argument("--tolerance", type=float, default=0.10, help="instructions allowed over the baseline")
    parser.add_argument("--keep", type=Path, help="keep the callgrind dumps here, per level (callgrind_annotate reads them)")
    options = parser.parse_args()

    baseline = read_baseline(options.baseline)
    levels = sorted(set(options.level or baseline or DEFAULT_LEVELS), key=LEVELS.index)
    measured, unavailable, over = {}, {}, []
    for level in levels:
        print(f"== kernel level {level} ({KERNEL_VARIABLE}={level})")
        try:
            if options.keep:
                (options.keep / level).mkdir(parents=True, exist_ok=True)
                figures = measure(options.mock, options.repeats, options.keep / level, level)
            else:
                with tempfile.TemporaryDirectory(prefix="budget-") as directory:
                    figures = measure(options.mock, options.repeats, Path(directory), level)
        except Unavailable as reason:
            unavailable[level] = str(reason)
            print(f"not measured: {reason}" + ("; its budget is kept as it is\n" if options.update else "\n"))
            continue
        measured[level] = figures
        if level not in baseline and not options.update:
            print(f"(no budget for {level} in {options.baseline})")
        over += [f"{level}: {problem}" for problem in compare(figures, baseline.get(level, {}),
                                                              options.tolerance, options.update)]
        print()

    for level, reason in unavailable.items():
        print(f"level {level} not measured on this CPU: {reason}")
    if not measured:
        raise Failed(f"no kernel level of {', '.join(levels)} could be measured on this CPU")

    if options.update:
        kept = {level: figures for level, figures in baseline.items() if level not in measured}
        written = {level: {kind: {"instructions": figures["instructions"], "allocations": figures["most_allocations"]}
                           for kind, figures in measured[level].items()}
                   for level in measured}
        # The most any of the requests made: how libmicrohttpd happens to cut a body into
        # pieces moves a buffer's growth by one or two (docs/performance.md, Budgets).
        options.baseline.write_text(budget_file({**kept, **written}))
        print(f"budget written to {options.baseline}: {', '.join(written)} measured"
              + (f", {', '.join(kept)} kept" if kept else ""))
        return 0
    if over:
        print("\nover budget:\n  " + "\n  ".join(over))
        return 1
    print(f"\nwithin budget at {', '.join(measured)} (instructions at most {options.tolerance:.0%} over the baseline, "
          "allocations at most the budget)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as problem:
        print(f"budget: FAILED: {problem}", file=sys.stderr)
        sys.exit(2)
