"""Floods the mock with per-upload text and reports its resident memory (docs/reliability.md,
Memory): issue 18's reproductions of metadata and subtitle tracks held outside the memory cap.

  metadata        COUNT /2/media/metadata requests of 1 MB, each a new member, to one upload
  subtitles       COUNT tracks with 1 MB display names on one video
  metadata-fill   COUNT uploads, each given a 200 KB audience_policy (a member the spec defines)
  subtitles-fill  COUNT videos, each given a track with a 200 KB display name

    python3 bench/memory_flood.py --mock .build/release/twitter-upload-mock metadata 1200 --cap-mib 256

Rate limits are off. After the flood it lists every upload (`GET /__admin/uploads`) and prints
one JSON line: the answers by status, VmRSS at start and after the flood, VmHWM before and after
the listing.
"""
import argparse
import base64
import json
import subprocess
import tempfile
import time
from pathlib import Path

import requests

SRT = b"1\n00:00:00,000 --> 00:00:01,000\nHi\n"
LANGUAGES = [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]


def memory(pid, field):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith(field))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mock", required=True, help="the twitter-upload-mock binary")
    parser.add_argument("case", choices=["metadata", "subtitles", "metadata-fill", "subtitles-fill"])
    parser.add_argument("count", type=int)
    parser.add_argument("--cap-mib", type=int, default=256, help="limits.max_memory_bytes in MiB (default 256)")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="memory-flood-"))
    (work / "config.json").write_text(json.dumps({"real_rate_limits": False, "limits": {"max_memory_bytes": options.cap_mib << 20}}))
    ready = work / "ready"
    server = subprocess.Popen([options.mock, "--port", "0", "--ready-file", str(ready), "--config", str(work / "config.json"),
                               "--log-level", "error"], stdout=subprocess.DEVNULL)
    try:
        while not ready.exists():
            if server.poll() is not None:
                raise SystemExit("the mock did not start")
            time.sleep(0.01)
        base = ready.read_text().strip()
        session = requests.Session()

        def upload(media_type="video/mp4", data=b"abcdef", category="tweet_video"):
            created = session.post(base + "/2/media/upload/initialize",
                                   json={"media_type": media_type, "total_bytes": len(data), "media_category": category})
            media_id = created.json()["data"]["id"]
            session.post(base + f"/2/media/upload/{media_id}/append",
                         json={"media": base64.b64encode(data).decode(), "segment_index": 0})
            return media_id

        start = memory(server.pid, "VmRSS")
        statuses = {}
        megabyte, fill = "x" * 1_000_000, "x" * 200_000
        captions = upload("text/srt", SRT, "subtitles") if options.case.startswith("subtitles") else None
        video = upload()
        for number in range(options.count):
            if options.case == "metadata":
                response = session.post(base + "/2/media/metadata", json={"id": video, "metadata": {f"k{number}": megabyte}})
            elif options.case == "metadata-fill":
                response = session.post(base + "/2/media/metadata",
                                        json={"id": upload(), "metadata": {"audience_policy": {"v": fill}}})
            else:
                target, name = (video, megabyte) if options.case == "subtitles" else (upload(), fill)
                response = session.post(base + "/2/media/subtitles", json={"id": target, "media_category": "TweetVideo", "subtitles": {
                    "id": captions, "language_code": LANGUAGES[number % len(LANGUAGES)], "display_name": name}})
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        flooded, peak_flooding = memory(server.pid, "VmRSS"), memory(server.pid, "VmHWM")
        listing = session.get(base + "/__admin/uploads").status_code
        print(json.dumps({"case": options.case, "count": options.count, "cap_mib": options.cap_mib, "answers": statuses,
                          "rss_start_mib": start, "rss_after_mib": flooded, "peak_before_listing_mib": peak_flooding,
                          "listing": listing, "peak_mib": memory(server.pid, "VmHWM")}))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
