#!/usr/bin/env python3
"""Soak: concurrent clients upload random media through seeded random faults, retrying every
failed request, then every finalized upload's SHA-256 is checked through the admin API and the
server's resident memory against a bound. Run it through scripts/soak; docs/reliability.md
explains what it does and what it measured. Standard library only.

The server keeps every upload in memory until POST /__admin/reset, so the run is cut into
epochs: once the uploads started in an epoch would pass --keep-mb, the clients finish the
uploads they are making and wait, every upload of the epoch is verified, and a reset frees
the media before the next epoch starts.
"""
import argparse
import base64
import hashlib
import http.client
import itertools
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

UPLOAD_PATH = "/1.1/media/upload.json"
MIB = 1024 * 1024
# The largest raw segment a client sends: as base64 (4/3 larger, and percent-encoded in a
# urlencoded body) it stays under the server's 5 MiB limits.chunk_bytes (docs/api.md).
MAX_SEGMENT_BYTES = 3 * MIB

# Failures injected on INIT, APPEND and FINALIZE, with their relative weights. `hang` costs a
# client its whole request timeout, so it is rare. Latency-only delays are separate rules.
FAULT_KINDS = [
    ("reset", {"fault": "reset"}, False, 2.0),
    ("reset after commit", {"fault": "reset"}, True, 2.0),
    ("close", {"fault": "close"}, False, 1.0),
    ("close after commit", {"fault": "close"}, True, 1.0),
    ("truncate", {"fault": "truncate"}, False, 2.0),
    ("503", {"status": 503}, False, 2.0),
    ("503 after commit", {"status": 503}, True, 2.0),
    ("503 delayed", {"status": 503, "delay": {"distribution": "uniform", "min_ms": 10, "max_ms": 200}}, False, 1.0),
    ("slow", {"fault": "slow", "bytes_per_sec": 2048}, False, 1.0),
    ("hang", {"fault": "hang"}, False, 0.1),
    ("hang after commit", {"fault": "hang"}, True, 0.1),
]
FAULTED_COMMANDS = ["INIT", "APPEND", "FINALIZE"]
# POST /__admin/reset restarts the fault generator from the seed, so every epoch would replay
# the same decisions at the same positions. This rule matches only the coordinator's STATUS of
# a media id no upload has; each such request uses at least one draw, and after the n-th reset
# the coordinator sends n of them, so each epoch meets the decisions at another alignment.
OFFSET_MEDIA_ID = "1"
OFFSET_KIND = "epoch offset"
DELAYS = [
    ("delay uniform", {"delay": {"distribution": "uniform", "min_ms": 1, "max_ms": 100}}),
    ("delay lognormal", {"delay": {"distribution": "lognormal", "median_ms": 15, "sigma": 0.8}}),
]


def fault_rules(fault_rate, delay_rate):
    """The config's fault rules and, in rule-id order, the kind each one injects.

    Rules are tried in order and the first that fires decides, so each rule's probability is
    conditional on the earlier ones not firing; that makes each kind's share of a command's
    requests exactly fault_rate * weight / total weight, and delays delay_rate.
    """
    rules = [{"match": {"command": "STATUS", "media_id": OFFSET_MEDIA_ID, "probability": 0.5},
              "action": {"status": 503}}]
    kinds = [OFFSET_KIND]
    total_weight = sum(kind[3] for kind in FAULT_KINDS)
    for command in FAULTED_COMMANDS:
        remaining = 1.0
        for name, action, after_commit, weight in FAULT_KINDS:
            share = fault_rate * weight / total_weight
            if share <= 0:
                continue
            rules.append({"match": {"command": command, "probability": min(1.0, share / remaining)},
                          "action": action, "after_commit": after_commit})
            kinds.append(name)
            remaining -= share
    for command in FAULTED_COMMANDS + ["STATUS"]:
        remaining = 1.0 - (fault_rate if command in FAULTED_COMMANDS else 0.0)
        for name, action in DELAYS:
            share = delay_rate / len(DELAYS)
            if share <= 0 or remaining <= 0:
                continue
            rules.append({"match": {"command": command, "probability": min(1.0, share / remaining)},
                          "action": action})
            kinds.append(name)
            remaining -= share
    return rules, kinds


def read_cpu_seconds(pid):
    """User plus system CPU time of a process, from /proc/PID/stat; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_memory(pid):
    """VmRSS and VmHWM of a process in bytes, from /proc/PID/status; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) * 1024
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


class Server:
    """The mock under test: started on port 0, watched, stopped with SIGTERM."""

    def __init__(self, binary, seed, config, workdir):
        self.config_path = workdir / "soak-config.json"
        self.config_path.write_text(json.dumps(config, indent=1))
        ready = workdir / "ready"
        self.stderr_path = workdir / "server-stderr.log"
        self.command = [binary, "--port", "0", "--ready-file", str(ready), "--seed", str(seed),
                        "--config", str(self.config_path), "--log-level", "warning"]
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL,
                                        stderr=open(self.stderr_path, "wb"))
        deadline = time.monotonic() + 15
        try:
            while not ready.exists():
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"soak: the mock did not start: {self.stderr_tail()}")
                time.sleep(0.01)
        except BaseException:  # Ctrl-C while it starts included: never leave it running
            self.process.kill()
            self.process.wait()
            raise
        url = urllib.parse.urlsplit(ready.read_text().strip())
        self.host, self.port = url.hostname, url.port

    def stderr_tail(self, lines=20):
        text = self.stderr_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def memory(self):
        return read_memory(self.process.pid)

    def stop(self):
        """SIGTERM; the exit status, or None when it did not exit within 10 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return None
        return self.process.returncode


class Admin:
    """The admin API, which is never faulted; one connection per calling thread."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.local = threading.local()

    def request(self, method, path, timeout=60):
        for attempt in range(3):
            connection = getattr(self.local, "connection", None)
            if connection is None:
                connection = self.local.connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            try:
                connection.request(method, "/__admin" + path)
                response = connection.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                self.local.connection = None
                if attempt == 2:
                    raise
                time.sleep(0.1)

    def offset_draw(self):
        """One STATUS that only the epoch offset rule matches: 503 when it fires, else 400."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request("GET", f"{UPLOAD_PATH}?command=STATUS&media_id={OFFSET_MEDIA_ID}")
            response = connection.getresponse()
            response.read()
            if response.status not in (400, 503):
                raise RequestFailed(f"the epoch offset STATUS answered {response.status}")
        finally:
            connection.close()

    def json(self, method, path, timeout=60):
        status, body = self.request(method, path, timeout)
        return status, json.loads(body) if body else None


@dataclass
class Finished:
    """An upload the client finalized, and what it knows of the bytes it sent."""
    media_id: str
    sha256: str
    size: int
    segments: int
    client: int


class RequestFailed(Exception):
    """A request answered in a way no fault explains: a server bug, or a client bug."""


class Abandoned(Exception):
    """The run is over: the client drops the upload it was making (it is never finalized)."""


class LatencyHistogram:
    """Request latencies in buckets 2^(1/8) apart (9% wide), from 0.1 ms: percentiles for any
    number of requests in constant memory."""
    STEPS_PER_DOUBLING = 8
    SMALLEST = 1e-4

    def __init__(self):
        self.counts = {}
        self.longest = 0.0

    def add(self, seconds):
        bucket = max(0, int(math.log2(max(seconds, self.SMALLEST) / self.SMALLEST) * self.STEPS_PER_DOUBLING))
        self.counts[bucket] = self.counts.get(bucket, 0) + 1
        self.longest = max(self.longest, seconds)

    def percentile(self, share):
        """The upper edge of the bucket holding that share of the requests, in seconds."""
        total = sum(self.counts.values())
        seen = 0
        for bucket in sorted(self.counts):
            seen += self.counts[bucket]
            if seen >= share * total:
                return min(self.longest, self.SMALLEST * 2 ** ((bucket + 1) / self.STEPS_PER_DOUBLING))
        return 0.0


class Stats:
    """Counters shared by the clients, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}        # command -> requests sent
        self.retries = 0
        self.symptoms = {}        # what clients saw fail -> count
        self.media_bytes = 0      # bytes of the uploads finalized
        self.body_bytes = 0       # request bodies sent, retries included
        self.uploads = 0
        self.duplicate_appends = 0
        self.abandoned = 0        # uploads dropped unfinished when the time was up
        self.parallel_uploads = 0  # uploads whose APPENDs went over several connections at once
        self.out_of_order = 0
        self.errors = []          # unexplained answers, one line each
        self.upload_seconds = []  # how long each finished upload took
        self.latency = LatencyHistogram()  # of the requests the server answered

    def add(self, name, key, amount=1):
        with self.lock:
            counter = getattr(self, name)
            counter[key] = counter.get(key, 0) + amount

    def bump(self, name, amount=1):
        with self.lock:
            setattr(self, name, getattr(self, name) + amount)

    def answered(self, seconds):
        with self.lock:
            self.latency.add(seconds)

    def finished(self, size, seconds):
        with self.lock:
            self.uploads += 1
            self.media_bytes += size
            self.upload_seconds.append(seconds)

    def error(self, text):
        with self.lock:
            self.errors.append(text)


class Epochs:
    """The pause-verify-reset cycle. Clients reserve an upload's bytes before INIT; the one
    that would pass the budget asks for a checkpoint, and everyone parks until it is done."""

    def __init__(self, keep_bytes, clients):
        self.keep_bytes = keep_bytes
        self.clients = clients
        self.condition = threading.Condition()
        self.reserved = 0
        self.checkpoint_wanted = False
        self.parked = 0
        self.stopping = False
        self.number = 0
        self.finished = []  # Finished uploads of the current epoch
        self.wanted_at = None
        self.draining = 0.0  # seconds from a checkpoint's request until every client parked
        self.pausing = 0.0   # seconds from then until the next epoch started (verify, reset)
        self.all_parked_at = None

    def reserve(self, size):
        """Blocks through checkpoints; False once the run is over."""
        with self.condition:
            while True:
                if self.stopping:
                    return False
                if not self.checkpoint_wanted and (self.reserved == 0 or self.reserved + size <= self.keep_bytes):
                    self.reserved += size
                    return True
                if not self.checkpoint_wanted:
                    self.checkpoint_wanted = True
                    self.wanted_at = time.monotonic()
                self.parked += 1
                self.condition.notify_all()
                epoch = self.number
                while self.number == epoch and not self.stopping:
                    self.condition.wait()
                self.parked -= 1

    def record(self, upload):
        with self.condition:
            self.finished.append(upload)

    def client_done(self):
        with self.condition:
            self.clients -= 1
            self.condition.notify_all()

    def wait_for_checkpoint(self, deadline, abort):
        """Waits until every client is parked for a checkpoint ("checkpoint"), every client
        has stopped ("done"), or the deadline passes or the run aborts ("over")."""
        with self.condition:
            while True:
                if self.clients == 0:
                    return "done"
                if self.checkpoint_wanted and self.parked == self.clients:
                    self.all_parked_at = time.monotonic()
                    self.draining += self.all_parked_at - self.wanted_at
                    return "checkpoint"
                remaining = deadline - time.monotonic()
                if remaining <= 0 or abort.is_set():
                    return "over"
                self.condition.wait(min(remaining, 0.1))

    def take_finished(self):
        with self.condition:
            finished, self.finished = self.finished, []
            return finished

    def checkpoint_done(self):
        with self.condition:
            self.pausing += time.monotonic() - self.all_parked_at

    def start_next(self):
        with self.condition:
            self.number += 1
            self.reserved = 0
            self.checkpoint_wanted = False
            self.condition.notify_all()

    def stop(self):
        with self.condition:
            self.stopping = True
            self.condition.notify_all()


def media_header(kind, rng):
    """The first bytes of an image the server can read (FINALIZE checks them), and its size."""
    width, height = rng.randint(1, 4096), rng.randint(1, 4096)
    if kind == "image/png":
        return (b"\x89PNG\r\n\x1a\n" + (13).to_bytes(4, "big") + b"IHDR" + width.to_bytes(4, "big")
                + height.to_bytes(4, "big")), (width, height)
    if kind == "image/gif":
        return b"GIF89a" + width.to_bytes(2, "little") + height.to_bytes(2, "little"), (width, height)
    if kind == "image/jpeg":  # SOI, then a baseline start-of-frame segment
        return (b"\xff\xd8\xff\xc0\x00\x11\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big")), (width, height)
    return b"", None


# (media_type, media_category, share): videos and GIFs with a category are processed (STATUS).
MEDIA_MIX = [
    ("video/mp4", "tweet_video", 0.45),
    ("video/mp4", None, 0.15),
    ("image/gif", "tweet_gif", 0.1),
    ("image/png", "tweet_image", 0.15),
    ("image/jpeg", None, 0.15),
]


def log_uniform_int(rng, low, high):
    """An integer in [low, high] whose logarithm is uniform: small values as often as big ones."""
    if high <= low:
        return low
    return min(high, int(math.exp(rng.uniform(math.log(low), math.log(high + 1)))))


def plan_segments(rng, size):
    """Segment lengths. Mostly as real clients cut: one segment size from 16 KiB to 3 MiB, the
    last segment shorter. Sometimes 1 to 1000 segments (log-uniform) at random cut points."""
    if rng.random() < 0.8:
        segment = log_uniform_int(rng, 16 * 1024, MAX_SEGMENT_BYTES)
        whole, rest = divmod(size, segment)
        return [segment] * whole + ([rest] if rest else [])
    fewest = -(-size // MAX_SEGMENT_BYTES)
    count = log_uniform_int(rng, fewest, min(1000, size))
    if count > 1:
        cuts = sorted(rng.sample(range(1, size), count - 1))
        lengths = [b - a for a, b in zip([0] + cuts, cuts + [size])]
        if max(lengths) <= MAX_SEGMENT_BYTES:
            return lengths
    base, extra = divmod(size, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


class Client(threading.Thread):
    """One uploader, one medium after another. Its requests go through a lane (a keep-alive
    connection); a long upload may send its APPENDs over several lanes at once."""

    def __init__(self, number, args, server, epochs, stats, abort, trace):
        super().__init__(name=f"client-{number}", daemon=True)
        self.number = number
        self.args = args
        self.host, self.port = server.host, server.port
        self.epochs = epochs
        self.stats = stats
        self.abort = abort
        self.trace = trace
        self.rng = random.Random(f"{args.seed}/{number}")
        self.lane = Lane(self, self.rng, 0)
        self.lanes = [self.lane]  # every lane in use, so the coordinator can interrupt them
        self.uploads = 0

    def run(self):
        try:
            while not self.abort.is_set():
                if self.args.uploads and self.uploads >= self.args.uploads:
                    break
                if not self.upload():
                    break
                self.uploads += 1
        except Abandoned:
            if not self.abort.is_set():
                self.stats.bump("abandoned")
        except RequestFailed as failure:
            self.stats.error(f"client {self.number}: {failure}")
        except Exception as failure:  # a bug in the soak itself must fail the run, not hang it
            self.stats.error(f"client {self.number}: {type(failure).__name__}: {failure}")
        finally:
            self.lane.close()
            self.epochs.client_done()

    # One upload: INIT, APPENDs (sometimes shuffled, sometimes repeated), FINALIZE, STATUS polls.
    def upload(self):
        rng = self.rng
        media_type, category = rng.choices([(t, c) for t, c, _ in MEDIA_MIX], [w for _, _, w in MEDIA_MIX])[0]
        header, dimensions = media_header(media_type, rng)
        size = log_uniform_int(rng, max(1, len(header)), self.args.max_media_bytes)
        if not self.epochs.reserve(size):
            return False
        began = time.monotonic()
        media = header + rng.randbytes(size - len(header))
        digest = hashlib.sha256(media).hexdigest()
        lengths = plan_segments(rng, size)
        offsets = [0] + list(itertools.accumulate(lengths))[:-1]
        order = list(range(len(lengths)))
        roll = rng.random()
        if roll < 0.2:
            rng.shuffle(order)
        elif roll < 0.3:
            order.reverse()
        if order != sorted(order):
            self.stats.bump("out_of_order")

        fields = {"command": "INIT", "total_bytes": str(size), "media_type": media_type}
        if category:
            fields["media_category"] = category
        _, answer = self.lane.send("INIT", None, fields, expect={202})
        media_id = answer["media_id_string"]

        segments = [(index, media[offsets[index]:offsets[index] + lengths[index]]) for index in order]
        lanes = self.args.parallel_appends if len(segments) >= 8 and (len(segments) >= 64 or rng.random() < 0.5) else 1
        if lanes > 1:
            self.append_in_parallel(media_id, segments, lanes)
        else:
            self.lane.append_all(media_id, segments)

        # docs/api.md: 201 with the media object, or 200 with processing_info when a video or
        # GIF with a category starts processing (a repeated FINALIZE answers the current state).
        processed = category is not None and media_type in ("video/mp4", "image/gif")
        _, answer = self.lane.send("FINALIZE", None, {"command": "FINALIZE", "media_id": media_id},
                                   expect={200} if processed else {201})
        self.check_media_object("FINALIZE", answer, media_id, size, dimensions)
        if processed != ("processing_info" in answer):
            raise RequestFailed(f"FINALIZE of media {media_id} ({media_type}, {category}): processing_info"
                                f" {'missing' if processed else 'unexpected'}: {answer}")
        polls = 0
        while "processing_info" in answer and answer["processing_info"]["state"] in ("pending", "in_progress"):
            time.sleep(answer["processing_info"].get("check_after_secs", 0))
            polls += 1
            if polls > 20:
                raise RequestFailed(f"media {media_id}: still processing after 20 STATUS polls: {answer}")
            _, answer = self.lane.send("STATUS", None, {"command": "STATUS", "media_id": media_id},
                                       expect={200}, method="GET")
            self.check_media_object("STATUS", answer, media_id, size, dimensions)
        if "processing_info" in answer and answer["processing_info"]["state"] != "succeeded":
            raise RequestFailed(f"media {media_id}: processing ended {answer['processing_info']}")
        if dimensions and "image" not in answer:
            raise RequestFailed(f"media {media_id}: the last answer has no image object: {answer}")

        self.epochs.record(Finished(media_id, digest, size, len(lengths), self.number))
        self.stats.finished(size, time.monotonic() - began)
        return True

    def check_media_object(self, command, answer, media_id, size, dimensions):
        """The media id and size; an image's pixel size once the answer carries `image` (a GIF
        being processed gets it only when processing succeeded)."""
        if answer.get("media_id_string") != media_id or answer.get("size") != size:
            raise RequestFailed(f"{command} of media {media_id} ({size} bytes) answered {answer}")
        image = answer.get("image")
        if dimensions and image is not None and (image.get("w"), image.get("h")) != dimensions:
            raise RequestFailed(f"{command} of media {media_id}: image {image}, sent {dimensions}")

    def append_in_parallel(self, media_id, segments, lanes):
        """APPENDs over several connections at once, as clients that upload segments in
        parallel do: segment i goes to lane i mod lanes, each lane in its own order."""
        helpers = [Lane(self, random.Random(self.rng.getrandbits(64)), n) for n in range(1, lanes)]
        self.lanes = [self.lane] + helpers
        failures = []

        def run(lane, share):
            try:
                lane.append_all(media_id, share)
            except Exception as failure:  # re-raised in the client's thread
                failures.append(failure)
            finally:
                if lane is not self.lane:
                    lane.close()

        threads = [threading.Thread(target=run, args=(lane, segments[n + 1::lanes]), daemon=True)
                   for n, lane in enumerate(helpers)]
        for thread in threads:
            thread.start()
        run(self.lane, segments[0::lanes])
        for thread in threads:
            thread.join()
        self.lanes = [self.lane]
        self.stats.bump("parallel_uploads")
        if failures:
            raise next((f for f in failures if not isinstance(f, Abandoned)), failures[0])

    def interrupt(self):
        """Ends the requests in flight now (called from the coordinator when time is up)."""
        for lane in list(self.lanes):
            lane.interrupt()


class Lane:
    """A keep-alive connection, reopened after every failure, with its own seeded generator for
    the shape of each request; sends a request until the expected answer comes back."""

    def __init__(self, client, rng, number):
        self.client = client
        self.rng = rng
        self.number = number
        self.args, self.stats, self.epochs, self.abort = client.args, client.stats, client.epochs, client.abort
        self.connection = None

    def append_all(self, media_id, segments):
        for index, chunk in segments:
            self.append(media_id, index, chunk)
            if self.rng.random() < 0.02:  # a client that re-sends a segment it already sent
                self.stats.bump("duplicate_appends")
                self.append(media_id, index, chunk)

    def append(self, media_id, index, chunk):
        rng = self.rng
        roll = rng.random()
        if roll < 0.6:
            payload = ("media", chunk)
        elif roll < 0.8:
            payload = ("media_data", base64.b64encode(chunk))
        else:
            payload = ("urlencoded", base64.b64encode(chunk))
        fields = {"command": "APPEND", "media_id": media_id, "segment_index": str(index)}
        self.send("APPEND", payload, fields, expect={204})

    # The wire: one request, retried until it gets the expected answer.
    def send(self, command, payload, fields, expect, method="POST"):
        rng = self.rng
        attempt = 0
        while True:
            attempt += 1
            if self.epochs.stopping or self.abort.is_set():
                raise Abandoned()
            path, headers, body, chunked = self.build(method, fields, payload, rng)
            self.stats.add("requests", command)
            if attempt > 1:
                self.stats.bump("retries")
            began = time.monotonic()
            outcome, status, answer = self.exchange(method, path, headers, body, chunked)
            if status is not None:
                self.stats.answered(time.monotonic() - began)
            if status is None and (self.epochs.stopping or self.abort.is_set()):
                raise Abandoned()  # interrupted because the time is up, not by a fault
            self.trace_line(command, fields.get("segment_index", "-"), attempt, outcome)
            if status in expect:
                if status != 204 and not isinstance(answer, dict):
                    raise RequestFailed(f"{command} {self.describe(fields)} answered {status} without a JSON"
                                        f" object: {answer!r:.300}")
                return status, answer
            if status is not None and status != 503:
                # No fault answers anything but 503; rate limits are off, requests are valid.
                raise RequestFailed(f"{command} {self.describe(fields)} answered {status}: {answer!r:.300}")
            self.stats.add("symptoms", outcome)
            if attempt >= self.args.max_attempts:
                raise RequestFailed(f"{command} {self.describe(fields)} failed {attempt} times, last: {outcome}")
            time.sleep(min(0.2, 0.005 * 2 ** (attempt - 1)))

    @staticmethod
    def describe(fields):
        return " ".join(f"{k}={v}" for k, v in fields.items() if k != "command")

    def build(self, method, fields, payload, rng):
        """Path, headers, body and whether to send it chunked, in one of the many shapes clients use."""
        fields = dict(fields)
        query = {}
        if method == "GET" or rng.random() < 0.2:
            query, fields = fields, {}
        headers = {}
        body = b""
        encoded_media = None
        if payload and payload[0] == "urlencoded":
            # Base64 needs only + / = escaped; urllib's quoting is 40x slower on megabytes.
            encoded_media = payload[1].replace(b"+", b"%2B").replace(b"/", b"%2F").replace(b"=", b"%3D")
            payload = None
        if payload:
            boundary = f"soak{rng.getrandbits(64):016x}"
            parts = [(name, value.encode(), None) for name, value in fields.items()]
            name, data = payload
            parts.insert(rng.randrange(len(parts) + 1), (name, data, "blob" if name == "media" else None))
            pieces = []
            for name, value, filename in parts:
                disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
                part_headers = f"Content-Disposition: {disposition}\r\n"
                if filename:
                    part_headers += "Content-Type: application/octet-stream\r\n"
                pieces += [f"--{boundary}\r\n{part_headers}\r\n".encode(), value, b"\r\n"]
            pieces.append(f"--{boundary}--\r\n".encode())
            body = b"".join(pieces)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif fields or encoded_media is not None:
            pairs = [urllib.parse.urlencode(fields).encode()] if fields else []
            if encoded_media is not None:
                pairs.insert(rng.randrange(len(pairs) + 1), b"media_data=" + encoded_media)
            body = b"&".join(pairs)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        path = UPLOAD_PATH + ("?" + urllib.parse.urlencode(query) if query else "")
        chunked = bool(body) and rng.random() < 0.2
        if body and rng.random() < 0.1:
            headers["Expect"] = "100-continue"
        return path, headers, body, chunked

    def exchange(self, method, path, headers, body, chunked):
        """(outcome, status, parsed body); status None when no complete answer arrived."""
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.client.host, self.client.port, timeout=self.args.timeout)
        try:
            if chunked:
                pieces = []
                position = 0
                while position < len(body):
                    step = self.rng.randint(1, max(1, len(body) // 3))
                    pieces.append(body[position:position + step])
                    position += step
                self.connection.request(method, path, body=iter(pieces), headers=headers, encode_chunked=True)
            else:
                self.connection.request(method, path, body=body or None, headers=headers)
            self.stats.bump("body_bytes", len(body))
            response = self.connection.getresponse()
            data = response.read()
        except socket.timeout:
            return self.failed("timeout")
        except http.client.IncompleteRead:
            return self.failed("truncated body")
        except http.client.RemoteDisconnected:
            return self.failed("closed without answer")
        except ConnectionResetError:
            return self.failed("connection reset")
        except BrokenPipeError:
            return self.failed("broken pipe")
        except ConnectionRefusedError:
            return self.failed("connection refused")
        except (OSError, http.client.HTTPException) as error:
            return self.failed(f"{type(error).__name__}")
        if response.will_close:
            self.close()
        answer = data
        if data and response.getheader("content-type", "").startswith("application/json"):
            try:
                answer = json.loads(data)
            except ValueError:
                pass  # a whole answer that is not JSON: send() fails the run with it
        return ("ok" if response.status < 300 else str(response.status)), response.status, answer

    def interrupt(self):
        connection = self.connection
        if connection is not None and connection.sock is not None:
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def failed(self, outcome):
        self.close()
        return outcome, None, None

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def trace_line(self, command, segment, attempt, outcome):
        if self.client.trace is not None:
            # Transport symptoms are timing-dependent (a close can read as a reset); the trace
            # records only whether the server answered, so equal seeds give equal traces.
            coarse = outcome if outcome == "ok" or outcome.isdigit() else "no answer"
            self.client.trace.write(f"{self.client.number}.{self.number} {self.client.uploads} {command} {segment}"
                                    f" {attempt} {coarse}\n")


def verify(admin, finished, threads=4):
    """Checks each finalized upload through GET /__admin/uploads/{id}; returns problem lines."""
    def check(upload):
        status, detail = admin.json("GET", f"/uploads/{upload.media_id}")
        if status != 200:
            return f"media {upload.media_id}: admin answered {status} {detail}"
        problems = []
        if detail.get("sha256") != upload.sha256:
            problems.append(f"sha256 {detail.get('sha256')} != client's {upload.sha256}")
        if detail.get("total_bytes") != upload.size or detail.get("received_bytes") != upload.size:
            problems.append(f"total/received bytes {detail.get('total_bytes')}/{detail.get('received_bytes')}"
                            f" != {upload.size}")
        if detail.get("segment_count") != upload.segments:
            problems.append(f"{detail.get('segment_count')} segments stored, {upload.segments} sent")
        if detail.get("state") not in ("finalized", "succeeded"):
            problems.append(f"state {detail.get('state')}")
        if problems:
            return f"media {upload.media_id} (client {upload.client}, {upload.size} bytes): " + "; ".join(problems)
        return None

    with ThreadPoolExecutor(threads) as pool:
        return [problem for problem in pool.map(check, finished) if problem]


class JournalReader:
    """Reads the server's journal while the run goes on. The journal keeps only the latest
    requests (10,000 or 32 MiB by default), so it is read every second and each read counts
    the entries after the newest one already counted: which faults fired, and answers that no
    fault explains."""

    def __init__(self, admin, kinds):
        self.admin, self.kinds = admin, kinds
        self.lock = threading.Lock()
        self.newest = None     # the newest entry counted since the last reset
        self.examined = 0
        self.gaps = 0          # reads that no longer held the newest entry counted (some uncounted)
        self.fired = {}
        self.unanswered = 0    # connections that ended without an answer and without a fault
        self.unexplained = []  # 5xx without a fault: a server bug

    def read(self):
        with self.lock:
            self._read()

    def read_and_reset(self):
        """The rest of the journal, then POST /__admin/reset; returns the reset's status."""
        with self.lock:
            self._read()
            status, _ = self.admin.json("POST", "/reset")
            self.newest = None
            return status

    def _read(self):
        status, journal = self.admin.json("GET", "/requests")
        entries = journal["requests"]
        start = 0
        if self.newest is not None:
            start = next((i + 1 for i in range(len(entries) - 1, -1, -1) if entries[i] == self.newest), None)
            if start is None:
                self.gaps += 1
                start = 0
        new = entries[start:]
        if new:
            self.newest = new[-1]
        self.examined += len(new)
        for entry in new:
            fault = entry.get("fault")
            if fault:  # "rule 7, status 503, after commit"
                kind = self.kinds[int(fault.split(",")[0].split()[1]) - 1]
                self.fired[kind] = self.fired.get(kind, 0) + 1
            elif entry.get("status") is None:
                self.unanswered += 1
            elif entry["status"] >= 500:
                self.unexplained.append(f"{entry['command']} media {entry['media_id']}: status {entry['status']}"
                                        f" without a fault: {entry.get('error')}")


class Watch(threading.Thread):
    """Samples the server's VmRSS every 50 ms; every second reads its journal and asks
    GET /__admin/health on a new connection, which must answer within 5 s however many
    connections the faults leave hanging. Aborts the run when the server dies or stops answering."""

    def __init__(self, server, abort, journal):
        super().__init__(name="watch", daemon=True)
        self.server, self.abort, self.journal = server, abort, journal
        self.problem = None
        self.health_probes = 0
        self.slowest_health = 0.0
        self.peak_rss = 0
        self.peak_hwm = 0
        self.samples = 0
        self.died = None
        self.done = threading.Event()

    def run(self):
        next_read = time.monotonic() + 1
        while not self.done.is_set():
            if self.server.process.poll() is not None:
                self.died = self.server.process.returncode
                self.abort.set()
                return
            memory = self.server.memory()
            if memory:
                self.peak_rss = max(self.peak_rss, memory[0])
                self.peak_hwm = max(self.peak_hwm, memory[1])
                self.samples += 1
            if time.monotonic() >= next_read:
                self.probe_health()
                try:
                    self.journal.read()
                except (OSError, http.client.HTTPException, ValueError) as error:
                    self.fail(f"reading GET /__admin/requests failed: {error!r}")
                next_read = time.monotonic() + 1
            self.done.wait(0.05)

    def probe_health(self):
        started = time.monotonic()
        connection = http.client.HTTPConnection(self.server.host, self.server.port, timeout=5)
        try:
            connection.request("GET", "/__admin/health")
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                self.fail(f"GET /__admin/health answered {response.status} {body[:200]!r}")
        except (OSError, http.client.HTTPException) as error:
            if self.server.process.poll() is None:
                self.fail(f"GET /__admin/health on a new connection failed: {error!r}")
        finally:
            connection.close()
        self.health_probes += 1
        self.slowest_health = max(self.slowest_health, time.monotonic() - started)

    def fail(self, problem):
        if self.problem is None:
            self.problem = problem
        self.abort.set()


def mib(value):
    return f"{value / MIB:.1f} MiB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mock", required=True, help="the twitter-upload-mock binary")
    parser.add_argument("--seconds", type=float, default=20,
                        help="how long the clients upload, s; unfinished uploads are then dropped (20)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients, one thread each (16)")
    parser.add_argument("--seed", type=int, default=1, help="seeds the server's faults and the clients' choices (1)")
    parser.add_argument("--fault-rate", type=float, default=0.08,
                        help="share of INIT/APPEND/FINALIZE requests that fail (0.08)")
    parser.add_argument("--delay-rate", type=float, default=0.1, help="share of requests delayed 1-100+ ms (0.1)")
    parser.add_argument("--max-media-mb", type=float, default=4, help="largest upload, MiB (4)")
    parser.add_argument("--keep-mb", type=float, default=256,
                        help="media the server holds before a checkpoint verifies and resets it, MiB (256)")
    parser.add_argument("--max-rss-mb", type=float, default=None,
                        help="bound on the server's peak RSS, MiB (default: idle + 1.5 x keep + 4 per client + 64)")
    parser.add_argument("--timeout", type=float, default=2.0,
                        help="socket timeout per request, s: a hung request is abandoned after it (2)")
    parser.add_argument("--max-attempts", type=int, default=40, help="attempts per request before the run fails (40)")
    parser.add_argument("--parallel-appends", type=int, default=4,
                        help="connections a long upload sends its APPENDs over at once (4; 1: one at a time)")
    parser.add_argument("--uploads", type=int, default=0, help="stop each client after this many uploads (0: no limit)")
    parser.add_argument("--trace",
                        help="write one line per request attempt (client, upload, command, segment, attempt, outcome)")
    parser.add_argument("--json", help="write the summary as JSON to this file")
    args = parser.parse_args()
    args.max_media_bytes = max(32, int(args.max_media_mb * MIB))
    keep_bytes = int(args.keep_mb * MIB)
    if keep_bytes < args.max_media_bytes:
        parser.error("--keep-mb must be at least --max-media-mb")

    rules, kinds = fault_rules(args.fault_rate, args.delay_rate)
    config = {
        "real_rate_limits": False,
        "processing": {"check_after_secs": 0, "polls_until_done": 2},
        "faults": rules,
    }
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    server = None
    try:
        server = Server(os.path.abspath(args.mock), args.seed, config, workdir)
        return soak(args, server, kinds, keep_bytes, workdir)
    except KeyboardInterrupt:
        # Ctrl-C may land anywhere, even while the server starts or a verification pool runs:
        # stop the server, remove the files, and leave at once rather than wait at interpreter
        # exit for threads that may be blocked on the server just killed.
        if server is not None:
            server.process.kill()
            server.process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
        print("soak: interrupted", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(130)
    finally:
        if server is not None and server.process.poll() is None:  # an error: never leave it running
            server.process.kill()
            server.process.wait()


def soak(args, server, kinds, keep_bytes, workdir):
    """Runs the clients against the started server, checks, prints; the exit status."""
    admin = Admin(server.host, server.port)
    status, health = admin.json("GET", "/health")
    if status != 200 or health != {"status": "ok"}:
        raise SystemExit(f"soak: GET /__admin/health answered {status} {health} at start")
    time.sleep(0.2)
    idle_rss = server.memory()[0]
    # The default bound (docs/reliability.md): the idle process, the media kept plus half again
    # (spare array capacity and allocator fragmentation across resets), the request each client
    # has in flight (segments are at most 3 MiB), and 64 MiB for the journal, its JSON and
    # requests held by hang faults.
    bound = (args.max_rss_mb * MIB if args.max_rss_mb
             else idle_rss + 1.5 * keep_bytes + args.clients * 4 * MIB + 64 * MIB)

    abort = threading.Event()
    journal = JournalReader(admin, kinds)
    watch = Watch(server, abort, journal)
    watch.start()
    stats = Stats()
    epochs = Epochs(keep_bytes, args.clients)
    trace = open(args.trace, "w") if args.trace else None
    clients = [Client(n, args, server, epochs, stats, abort, trace) for n in range(args.clients)]
    started = time.monotonic()
    deadline = started + args.seconds
    for client in clients:
        client.start()

    failures = []
    verified = 0
    rss_after_reset = []
    checkpoints = 0

    def checkpoint(epoch_follows=True):
        nonlocal verified
        finished = epochs.take_finished()
        problems = verify(admin, finished)
        verified += len(finished) - len(problems)
        failures.extend(problems)
        status = journal.read_and_reset()
        if status != 200:
            failures.append(f"POST /__admin/reset answered {status}")
        for _ in range(checkpoints if epoch_follows else 0):
            admin.offset_draw()
        memory = server.memory()
        if memory:
            rss_after_reset.append(memory[0])

    while epochs.wait_for_checkpoint(deadline, abort) == "checkpoint":
        checkpoints += 1
        try:
            checkpoint()
        except (OSError, http.client.HTTPException, ValueError, RequestFailed) as error:
            failures.append(f"checkpoint {checkpoints}: the admin API failed: {error!r}")
            abort.set()
        epochs.checkpoint_done()
        if time.monotonic() >= deadline:
            break  # the time ran out during the checkpoint: the parked clients just stop
        epochs.start_next()
    load_seconds = time.monotonic() - started
    epochs.stop()
    for client in clients:
        client.interrupt()
    for client in clients:
        client.join(timeout=max(60, args.timeout * args.max_attempts))
        if client.is_alive():
            failures.append(f"{client.name} did not finish its last upload within the grace period")
            abort.set()

    alive = server.process.poll() is None
    if alive and not abort.is_set():
        try:
            checkpoint(epoch_follows=False)
            status, health = admin.json("GET", "/health", timeout=10)
            if status != 200 or health != {"status": "ok"}:
                failures.append(f"GET /__admin/health answered {status} {health}")
        except (OSError, http.client.HTTPException, ValueError) as error:
            failures.append(f"the last checkpoint: the admin API failed: {error!r}")
    watch.done.set()
    watch.join()
    memory = server.memory()
    peak_hwm = max(watch.peak_hwm, memory[1] if memory else 0)
    peak_rss = max(watch.peak_rss, peak_hwm)
    server_cpu = read_cpu_seconds(server.process.pid) or 0.0
    exit_status = server.stop()
    elapsed = time.monotonic() - started
    if trace:
        trace.close()

    if not alive or watch.died is not None:
        failures.append(f"the server died (exit status {server.process.returncode}); stderr:\n{server.stderr_tail()}")
    elif exit_status != 0:
        failures.append(f"the server exited {exit_status} after SIGTERM (None: did not exit in 10 s);"
                        f" stderr:\n{server.stderr_tail()}")
    failures.extend(stats.errors)
    failures.extend(journal.unexplained[:20])
    if watch.problem:
        failures.append(watch.problem)
    if peak_rss > bound:
        failures.append(f"peak RSS {mib(peak_rss)} exceeds the bound {mib(bound)}")

    symptoms = dict(sorted(stats.symptoms.items(), key=lambda item: -item[1]))
    fired = {kind: journal.fired[kind] for kind in dict.fromkeys(kinds)
             if kind in journal.fired and kind != OFFSET_KIND}
    requests = sum(stats.requests.values())
    durations = sorted(stats.upload_seconds) or [0.0]
    summary = {
        "seed": args.seed, "clients": args.clients, "seconds": round(elapsed, 1),
        "load_seconds": round(load_seconds, 1), "fault_rate": args.fault_rate, "delay_rate": args.delay_rate,
        "uploads": stats.uploads, "verified": verified, "epochs": checkpoints + 1,
        "checkpoint_drain_seconds": round(epochs.draining, 1), "checkpoint_pause_seconds": round(epochs.pausing, 1),
        "requests": requests, "requests_by_command": stats.requests, "retries": stats.retries,
        "client_symptoms": symptoms, "faults_fired": fired, "journal_examined": journal.examined,
        "journal_gaps": journal.gaps, "unanswered_without_fault": journal.unanswered,
        "server_cpu_seconds": server_cpu, "health_probes": watch.health_probes,
        "slowest_health_ms": round(watch.slowest_health * 1000, 1),
        "client_cpu_seconds": round(sum(os.times()[:2]), 1),
        "media_bytes": stats.media_bytes, "body_bytes": stats.body_bytes,
        "upload_seconds_p50_p99_max": [round(durations[len(durations) // 2], 2),
                                       round(durations[int(len(durations) * 0.99)], 2), round(durations[-1], 2)],
        "request_ms_p50_p99_max": [round(stats.latency.percentile(q) * 1000, 1) for q in (0.5, 0.99)]
        + [round(stats.latency.longest * 1000, 1)],
        "out_of_order_uploads": stats.out_of_order, "parallel_uploads": stats.parallel_uploads,
        "abandoned": stats.abandoned, "duplicate_appends": stats.duplicate_appends,
        "idle_rss": idle_rss, "peak_rss": peak_rss, "peak_hwm": peak_hwm, "rss_bound": bound,
        "rss_after_reset": rss_after_reset, "rss_samples": watch.samples,
        "failures": failures,
    }
    print_summary(summary, server)
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1))
    if failures:
        print(f"  the server's config and stderr are kept in {workdir}")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def print_summary(s, server):
    seconds = max(s["load_seconds"], 1e-9)
    by_command = ", ".join(f"{k} {v}" for k, v in sorted(s["requests_by_command"].items()))
    print(f"soak: seed {s['seed']}, {s['clients']} clients, {s['load_seconds']} s of uploads"
          f" ({s['seconds']} s with the last checks and the server's exit), fault rate {s['fault_rate']},"
          f" delay rate {s['delay_rate']}")
    print(f"  mock              {server.command[0]}")
    print(f"  uploads finished  {s['uploads']} (sha256 verified: {s['verified']}; {s['out_of_order_uploads']}"
          f" out of order, {s['parallel_uploads']} with parallel APPENDs, {s['duplicate_appends']} segments"
          f" sent twice) in {s['epochs']} epochs;"
          f" {s['abandoned']} abandoned unfinished at the deadline")
    p50, p99, longest = s["upload_seconds_p50_p99_max"]
    print(f"  upload time       median {p50} s, 99th percentile {p99} s, longest {longest} s")
    p50, p99, longest = s["request_ms_p50_p99_max"]
    print(f"  request latency   median {p50} ms, 99th percentile {p99} ms, longest {longest} ms (answered requests)")
    print(f"  checkpoints       {s['epochs'] - 1} during the run: {s['checkpoint_drain_seconds']} s waiting for"
          f" uploads in progress, {s['checkpoint_pause_seconds']} s verifying and resetting")
    print(f"  requests sent     {s['requests']} ({by_command}); retries {s['retries']}")
    print(f"  client saw        " + (", ".join(f"{k} {v}" for k, v in s["client_symptoms"].items()) or "no failures"))
    coverage = "every request" if not s["journal_gaps"] else f"{s['journal_gaps']} reads missed requests"
    print(f"  faults fired      " + (", ".join(f"{k} {v}" for k, v in s["faults_fired"].items()) or "none")
          + f" (server journal: {s['journal_examined']} requests, {coverage};"
          f" {s['unanswered_without_fault']} ended unanswered without a fault)")
    print(f"  bytes uploaded    {mib(s['media_bytes'])} of media finalized,"
          f" {mib(s['body_bytes'])} of request bodies sent")
    print(f"  throughput        {s['uploads'] / seconds:.1f} uploads/s, {s['requests'] / seconds:.0f} requests/s,"
          f" {s['media_bytes'] / MIB / seconds:.1f} MiB/s of media; CPU: server {s['server_cpu_seconds']:.1f} s,"
          f" soak clients {s['client_cpu_seconds']:.1f} s")
    after = s["rss_after_reset"]
    print(f"  server RSS        idle {mib(s['idle_rss'])}, peak {mib(s['peak_rss'])} (VmHWM {mib(s['peak_hwm'])},"
          f" {s['rss_samples']} samples), bound {mib(s['rss_bound'])}"
          + (f"; after resets {mib(after[0])} first, {mib(max(after))} max, {mib(after[-1])} last" if after else ""))
    print(f"  liveness          {s['health_probes']} health probes on new connections, slowest"
          f" {s['slowest_health_ms']} ms")
    if s["failures"]:
        print(f"FAIL: {len(s['failures'])} problem(s)")
        for failure in s["failures"][:50]:
            print(f"  - {failure}")
    else:
        print("PASS")


if __name__ == "__main__":
    sys.exit(main())
