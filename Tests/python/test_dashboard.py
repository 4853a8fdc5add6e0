"""docs/dashboard.md: the dashboard at /__admin/ui, driven in Debian's Chromium by playwright.

Every test runs in a browser context that records each request the page makes and aborts any
that leaves the mock's origin, and fails on any console error or uncaught exception; each view
is checked with axe-core (contrast, labels, roles). Screenshots go to $DASHBOARD_SCREENSHOTS
(default .build/dashboard-screenshots), printed at the end of the run.
"""
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect, sync_playwright

from conftest import FIXTURES, REPO, append, finalize, init

SCREENSHOTS = Path(os.environ.get("DASHBOARD_SCREENSHOTS", REPO / ".build" / "dashboard-screenshots"))
UI = "/__admin/ui"
PIXEL = (FIXTURES / "media" / "pixel.png").read_bytes()
# Markup in stored values, headers and addresses: each must show as these very characters.
HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>"\''


def chromium_path():
    """Debian's chromium (scripts/ensure-deps installs it): the real binary, not the wrapper script."""
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("chromium is not installed: run scripts/ensure-deps --python")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        yield browser
        browser.close()


class Dashboard:
    """One page of the dashboard on one server, with what the page asked for and logged."""

    def __init__(self, browser, server):
        self.server = server
        self.origin = server.base_url
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        self.requested = []
        self.foreign = []
        self.console_errors = []
        self.allowed_errors = ()

        def route(route):
            url = route.request.url
            self.requested.append(url)
            if url.startswith(self.origin + "/") or url.startswith("data:") or url.startswith("blob:" + self.origin):
                route.continue_()
            else:
                self.foreign.append(url)
                route.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        self.page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))

    def open(self, path):
        """Loads `path` and waits until the view has drawn what it fetched."""
        self.page.goto(self.origin + path)
        self.wait_rendered()
        return self.page

    def wait_rendered(self, after=0):
        # A function, not an expression: the page's policy forbids eval, which expressions need.
        self.page.wait_for_function("(after) => Number(document.body.dataset.rendered || 0) > after", arg=after)

    def rendered_count(self):
        return int(self.page.evaluate("Number(document.body.dataset.rendered || 0)"))

    def screenshot(self, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def check_accessibility(self):
        results = Axe().run(self.page)
        assert results.violations_count == 0, results.generate_report()

    def close(self):
        self.context.close()
        errors = [e for e in self.console_errors if not any(allowed in e for allowed in self.allowed_errors)]
        assert errors == [], errors
        assert self.foreign == [], f"requests left the mock's origin: {self.foreign}"
        assert all(url.startswith((self.origin, "data:", "blob:")) for url in self.requested)


@pytest.fixture
def dashboard(browser, mock):
    page = Dashboard(browser, mock)
    yield page
    page.close()


@pytest.fixture(scope="module", autouse=True)
def say_where_screenshots_are():
    yield
    print(f"\ndashboard screenshots: {SCREENSHOTS}")


def upload_video_with_a_retry(server, *, segment_1_fails=True):
    """Segments 0 and 1 (1 retried after a 503), 2 lost to a closed connection, 4 stored: 3 is missing."""
    if segment_1_fails:
        requests.post(server.url("/__admin/faults"), json={
            "match": {"command": "APPEND", "segment_index": 1}, "action": {"status": 503}, "times": 1})
    requests.post(server.url("/__admin/faults"), json={
        "match": {"command": "APPEND", "segment_index": 2}, "action": {"fault": "close"}, "times": 1})
    chunks = [bytes([65 + i]) * 1000 for i in range(5)]
    video = init(server, 5000, media_category="tweet_video")
    assert append(server, video, 0, chunks[0]).status_code == 204
    if segment_1_fails:
        assert append(server, video, 1, chunks[1]).status_code == 503
    assert append(server, video, 1, chunks[1]).status_code == 204
    with pytest.raises(requests.ConnectionError):
        append(server, video, 2, chunks[2])
    assert append(server, video, 4, chunks[4]).status_code == 204
    return video, chunks


def upload_image(server, alt_text=None):
    image = requests.post(server.upload_url, files={"media": ("pixel.png", PIXEL)}).json()["media_id_string"]
    if alt_text is not None:
        response = requests.post(server.url("/1.1/media/metadata/create.json"), json={"media_id": image, "alt_text": {"text": alt_text}})
        assert response.status_code == 200, response.text
    return image


def v2_upload(server, token):
    response = requests.post(server.url("/2/media/upload/initialize"), headers={"Authorization": f"Bearer {token}"},
                             json={"media_type": "video/mp4", "total_bytes": 3, "media_category": "tweet_video"})
    assert response.status_code == 200, response.text
    return response.json()["data"]["id"]


def rows(page, table):
    return page.locator(f"#{table} tbody tr")


def test_uploads_view_lists_every_upload_and_filters(dashboard, mock):
    video, _ = upload_video_with_a_retry(mock)
    image = upload_image(mock)
    scoped = v2_upload(mock, "worker-7")
    page = dashboard.open(UI)
    expect(rows(page, "uploads")).to_have_count(3)
    first = rows(page, "uploads").first  # newest first
    expect(first).to_contain_text(scoped)
    expect(first).to_contain_text("v2")
    expect(first).to_contain_text("worker-7")
    expect(first).to_contain_text("0 / 3")
    expires = requests.get(mock.url(f"/__admin/uploads/{video}")).json()["expires_at"]
    expect(page.locator("#uploads")).to_contain_text(expires.replace("T", " ")[:19] + " UTC")
    expect(page.locator("#uploads")).to_contain_text("3,000 / 5,000")  # segments 0, 1 and 4 of the video
    expect(page.get_by_role("link", name="Uploads")).to_have_attribute("aria-current", "page")
    dashboard.check_accessibility()
    dashboard.screenshot("uploads")

    page.get_by_label("State").select_option("finalized")
    page.get_by_role("button", name="Filter").click()
    expect(rows(page, "uploads")).to_have_count(1)
    expect(rows(page, "uploads").first).to_contain_text(image)
    assert "state=finalized" in page.url

    dashboard.open(UI + "?api=v1.1")
    expect(rows(page, "uploads")).to_have_count(2)
    page.get_by_label("Scope").fill("worker-7")
    page.get_by_role("button", name="Apply").click()
    expect(rows(page, "uploads")).to_have_count(1)  # the scope's one upload is v2: a row that says none matches
    expect(rows(page, "uploads").first).to_contain_text("No upload matches")
    dashboard.open(UI + "?scope=worker-7")
    expect(rows(page, "uploads")).to_have_count(1)
    expect(rows(page, "uploads").first).to_contain_text(scoped)


def test_an_upload_deep_link_shows_its_segment_map_timeline_and_digests(dashboard, mock):
    video, chunks = upload_video_with_a_retry(mock)
    page = dashboard.open(f"{UI}/uploads/{video}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Upload {video}")
    cells = page.locator(".segments .segment")
    expect(cells).to_have_count(1000)
    states = page.evaluate("[...document.querySelectorAll('.segments .segment')].slice(0, 6).map(c => c.classList[1])")
    assert states == ["arrived", "retried", "refused", "missing", "arrived", "unused"]
    retried = cells.nth(1)
    label = retried.get_attribute("aria-label")
    assert label == (f"Segment 1: retried, 1,000 bytes, SHA-256 {hashlib.sha256(chunks[1]).hexdigest()}; "
                     "APPENDs: 503 (fault: rule 1, status 503), 204")
    retried.hover()
    expect(page.locator("#segment-detail")).to_have_text(label)
    # Keyboard: one tab stop, arrow keys move through the map and say what each segment is.
    cells.nth(0).focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#segment-detail")).to_have_text("Segment 2: refused; APPENDs: no answer (fault: rule 2, close)")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#segment-detail")).to_contain_text("Segment 52: not sent")
    assert page.evaluate("document.querySelectorAll('.segments [tabindex=\"0\"]').length") == 1

    timeline = rows(page, "timeline")
    expect(timeline).to_have_count(6)  # INIT, 0, 1 (503), 1, 2 (no answer), 4: newest first
    expect(timeline.nth(3)).to_have_class("row-fault")
    expect(timeline.nth(3)).to_contain_text("503")
    expect(timeline.nth(1)).to_contain_text("no answer")
    # Not whole (3 is missing): no digests yet.
    expect(page.get_by_text("Not whole yet")).to_be_visible()
    dashboard.check_accessibility()
    dashboard.screenshot("upload-partial")

    # A whole upload: digests, the download link, and an image's thumbnail with its size.
    image = upload_image(mock, alt_text="A pixel, up close")
    page = dashboard.open(f"{UI}/uploads/{image}")
    expect(page.locator(".digest").first).to_have_text(hashlib.sha256(PIXEL).hexdigest())
    expect(page.locator(".digest").nth(1)).to_have_text(hashlib.md5(PIXEL).hexdigest())
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the 5,561 bytes").click()
    assert Path(download.value.path()).read_bytes() == PIXEL
    thumbnail = page.get_by_role("img", name="A pixel, up close")
    expect(thumbnail).to_be_visible()
    page.wait_for_function("document.querySelector('.thumbnail img').complete")
    assert thumbnail.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [300, 200]
    expect(page.locator(".thumbnail figcaption")).to_have_text("300×200 px")
    dashboard.check_accessibility()
    dashboard.screenshot("upload-image")


def test_the_journal_highlights_faults_and_429s_filters_pages_and_exports_har(dashboard, mock):
    video, _ = upload_video_with_a_retry(mock)
    requests.post(mock.url("/__admin/rate-limits"), json={"match": {"command": "STATUS"}, "limit": 1, "window_secs": 60, "per": "global"})
    for _ in range(2):
        requests.get(mock.upload_url, params={"command": "STATUS", "media_id": video})
    page = dashboard.open(f"{UI}/journal")
    journal = rows(page, "journal")
    expect(journal).to_have_count(8)
    expect(page.locator("#journal tr.row-limited")).to_have_count(1)
    expect(page.locator("#journal tr.row-limited")).to_contain_text("429")
    expect(page.locator("#journal tr.row-fault")).to_have_count(2)
    expect(page.locator("#journal caption")).to_contain_text("8 matching requests")
    dashboard.check_accessibility()
    dashboard.screenshot("journal")

    page.get_by_label("Status (code or none)").fill("503")
    page.get_by_role("button", name="Filter").click()
    expect(journal).to_have_count(1)
    assert "status=503" in page.url
    with page.expect_download() as download:
        page.get_by_role("button", name="Export as HAR").click()
    har = json.loads(Path(download.value.path()).read_text())
    assert [entry["response"]["status"] for entry in har["log"]["entries"]] == [503]
    assert har["log"]["entries"][0]["_fault"] == "rule 1, status 503"

    # A bad filter is the server's 400, shown as text.
    dashboard.allowed_errors = ("status of 400",)
    dashboard.open(f"{UI}/journal?segment_index=two")
    expect(page.get_by_role("alert")).to_have_text("query parameter segment_index=two is not valid: expected a decimal segment index")


def test_journal_pages_with_cursors(dashboard, mock):
    for index in range(250):
        requests.get(mock.upload_url, params={"command": "STATUS", "media_id": str(index + 1)})
    page = dashboard.open(f"{UI}/journal")
    journal = rows(page, "journal")
    expect(journal).to_have_count(100)
    newest = int(journal.first.locator("td").first.inner_text())
    page.get_by_role("link", name="Older").click()
    expect(journal.first.locator("td").first).to_have_text(str(newest - 100))
    page.get_by_role("link", name="Older").click()
    expect(journal).to_have_count(50)
    expect(page.get_by_role("link", name="Older")).to_have_count(0)  # the oldest page
    page.get_by_role("button", name="Newer").click()
    expect(journal.first.locator("td").first).to_have_text(str(newest - 100))
    page.get_by_role("button", name="Newer").click()
    expect(journal.first.locator("td").first).to_have_text(str(newest))
    assert "before=" not in page.url


def test_new_uploads_and_requests_show_up_without_a_reload(dashboard, mock):
    page = dashboard.open(UI)
    expect(rows(page, "uploads").first).to_contain_text("No uploads yet")
    started = time.monotonic()
    media_id = init(mock, 10)
    expect(rows(page, "uploads").first).to_contain_text(media_id, timeout=5000)
    seen_after = time.monotonic() - started
    assert seen_after < 3, f"the new upload took {seen_after:.1f} s to show"

    page = dashboard.open(f"{UI}/uploads/{media_id}")
    expect(rows(page, "timeline")).to_have_count(1)
    append(mock, media_id, 0, b"12345")
    expect(rows(page, "timeline")).to_have_count(2, timeout=5000)
    expect(page.locator(".segments .segment").first).to_have_class("segment arrived")

    page = dashboard.open(f"{UI}/journal")
    append(mock, media_id, 1, b"67890")
    expect(rows(page, "journal")).to_have_count(3, timeout=5000)
    # Paused, nothing moves; resumed, it catches up.
    page.get_by_role("button", name="Pause updates").click()
    expect(page.get_by_role("status").first).to_have_text("Paused")
    finalize(mock, media_id)
    page.wait_for_timeout(2500)
    expect(rows(page, "journal")).to_have_count(3)
    page.get_by_role("button", name="Resume updates").click()
    expect(rows(page, "journal")).to_have_count(4, timeout=5000)


def test_rules_are_added_from_the_form_showing_their_json_and_removed(dashboard, mock):
    page = dashboard.open(f"{UI}/rules")
    expect(rows(page, "faults").first).to_contain_text("No fault rules")
    form = page.locator("#faults-form")
    form.get_by_label("Command").select_option("APPEND")
    form.get_by_label("Segment index").fill("2")
    form.get_by_label("Status").fill("503")
    form.get_by_label("Times").fill("1")
    preview = form.get_by_label("JSON to send", exact=False)
    expected = {"match": {"command": "APPEND", "segment_index": 2}, "action": {"status": 503}, "times": 1}
    assert json.loads(preview.input_value()) == expected
    dashboard.check_accessibility()
    dashboard.screenshot("rules")
    form.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status").last).to_have_text("Added fault rule 1.")
    added = requests.get(mock.url("/__admin/faults")).json()["faults"]
    assert len(added) == 1 and added[0]["action"] == {"status": 503} and added[0]["times"] == 1
    assert {key: added[0]["match"][key] for key in ("command", "segment_index")} == expected["match"]
    expect(rows(page, "faults")).to_have_count(1)
    expect(rows(page, "faults").first).to_contain_text('match.segment_index: 2')

    # Whatever the JSON says is sent: fields the form has no input for, and errors shown as the server words them.
    preview.fill('{"action": {"delay": {"distribution": "lognormal", "median_ms": 40}}, "match": {"probability": 0.5}}')
    form.get_by_role("button", name="Add").click()
    expect(rows(page, "faults")).to_have_count(2)
    expect(rows(page, "faults").nth(1)).to_contain_text("action.delay.median_ms: 40")
    preview.fill('{"action": {"statuss": 503}}')
    form.get_by_role("button", name="Add").click()
    expect(page.locator("#faults-form ~ .alert")).to_have_text("unknown key 'rule.action.statuss'")
    dashboard.allowed_errors = ("status of 400",)

    page.get_by_role("button", name="Remove fault rule 1").click()
    expect(rows(page, "faults")).to_have_count(1)
    assert [rule["id"] for rule in requests.get(mock.url("/__admin/faults")).json()["faults"]] == ["2"]
    expect(page.get_by_role("heading", name="Fault rules")).to_be_focused()

    limits = page.locator("#rate-limits-form")
    limits.get_by_label("Command").select_option("INIT")
    limits.get_by_label("Requests").fill("5")
    limits.get_by_label("Per seconds").fill("60")
    limits.get_by_label("Counted per").select_option("global")
    assert json.loads(limits.get_by_label("JSON to send", exact=False).input_value()) == {
        "match": {"command": "INIT"}, "limit": 5, "window_secs": 60, "per": "global"}
    limits.get_by_role("button", name="Add").click()
    expect(rows(page, "rate-limits").last).to_contain_text("limit: 5")
    new_id = requests.get(mock.url("/__admin/rate-limits")).json()["rate_limits"][-1]["id"]
    page.get_by_role("button", name=f"Remove rate limit {new_id}").click()
    expect(page.get_by_role("status").last).to_have_text(f"Removed rate limit {new_id}.")
    assert new_id not in [rule["id"] for rule in requests.get(mock.url("/__admin/rate-limits")).json()["rate_limits"]]


def test_hostile_values_are_shown_as_text_never_run(dashboard, mock):
    image = upload_image(mock, alt_text=HOSTILE)
    srt = b"1\n00:00:00,000 --> 00:00:01,000\nHi\n"
    captions = init(mock, len(srt), "text/srt", media_category="subtitles")
    assert append(mock, captions, 0, srt).status_code == 204
    finalize(mock, captions)
    video = init(mock, 3, media_category="tweet_video")
    append(mock, video, 0, b"abc")
    finalize(mock, video)
    attached = requests.post(mock.url("/1.1/media/subtitles/create.json"), json={
        "media_id": video, "media_category": "TweetVideo",
        "subtitle_info": {"subtitles": [{"media_id": captions, "language_code": "EN", "display_name": HOSTILE}]}})
    assert attached.status_code == 200, attached.text
    token = 'token"\'<svg onload=window.pwned=3>'
    v2_upload(mock, token)
    requests.post(mock.upload_url, data={"command": HOSTILE})

    def no_markup_ran(page):
        assert page.evaluate("window.pwned") is None
        assert page.locator("main img[src='x'], main script, main svg").count() == 0

    page = dashboard.open(f"{UI}/uploads/{image}")
    expect(page.locator(".summary").first).to_contain_text(HOSTILE)
    expect(page.get_by_role("img", name=HOSTILE)).to_be_visible()
    no_markup_ran(page)
    page = dashboard.open(f"{UI}/uploads/{video}")
    expect(page.locator(".summary").first).to_contain_text(f"“{HOSTILE}”")
    no_markup_ran(page)
    page = dashboard.open(UI)
    expect(page.locator("#uploads")).to_contain_text(token)
    no_markup_ran(page)
    page = dashboard.open(f"{UI}/journal")
    expect(page.locator("#journal")).to_contain_text(f"Invalid command '{HOSTILE}'")
    no_markup_ran(page)
    page = dashboard.open(f"{UI}/rules")
    page.locator("#faults-form").get_by_label("JSON to send", exact=False).fill(json.dumps({"action": {"status": 503, "error": HOSTILE}}))
    page.locator("#faults-form").get_by_role("button", name="Add").click()
    expect(rows(page, "faults").first).to_contain_text(json.dumps(HOSTILE))
    no_markup_ran(page)

    # In the address: a media id, a filter and a scope.
    dashboard.allowed_errors = ("status of 400",)
    page = dashboard.open(f"{UI}/uploads/{requests.utils.quote(HOSTILE, safe='')}")
    expect(page.get_by_role("alert")).to_contain_text(f"“{HOSTILE}” is not a media id")
    no_markup_ran(page)
    page = dashboard.open(f"{UI}/journal?command={requests.utils.quote(HOSTILE, safe='')}")
    expect(page.get_by_role("alert")).to_contain_text(f"query parameter command={HOSTILE} is not valid")
    no_markup_ran(page)
    page = dashboard.open(f"{UI}?scope={requests.utils.quote(token, safe='')}")
    expect(rows(page, "uploads")).to_have_count(1)
    expect(page.get_by_label("Scope")).to_have_value(token)
    no_markup_ran(page)


def test_the_page_loads_only_its_own_files_under_a_strict_policy(dashboard, mock):
    page = dashboard.open(UI)
    policy = requests.get(mock.url(UI)).headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "default-src 'none'" in policy
    paths = sorted({url[len(mock.base_url):].split("?")[0] for url in dashboard.requested})
    assert paths == ["/__admin/openapi.json", "/__admin/requests", "/__admin/ui", "/__admin/ui/dashboard.css",
                     "/__admin/ui/dashboard.js", "/__admin/uploads"]
    page.goto(mock.url("/__admin"))
    expect(page.get_by_role("link", name="Open the dashboard")).to_have_attribute("href", UI)
    dashboard.check_accessibility()


def seed_journal(server, total):
    """`total` journal entries as fast as one connection per core can pipeline them."""
    request = b"GET /1.1/media/upload.json?command=STATUS&media_id=1 HTTP/1.1\r\nHost: mock\r\n\r\n"
    connections = 2
    per_connection = total // connections

    def send():
        with socket.create_connection(("127.0.0.1", server.port)) as connection:
            answered = 0

            def read():
                nonlocal answered
                while answered < per_connection:
                    data = connection.recv(1 << 20)
                    if not data:
                        break
                    answered += data.count(b"HTTP/1.1 ")

            reader = threading.Thread(target=read)
            reader.start()
            for start in range(0, per_connection, 1000):
                connection.sendall(request * min(1000, per_connection - start))
            reader.join(timeout=120)

    threads = [threading.Thread(target=send) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_a_large_store_renders_in_under_two_seconds(browser, start_mock):
    """1,000 uploads and 100,000 journal entries (journal.max_entries raised to hold them)."""
    server = start_mock({"journal": {"max_entries": 200_000, "max_bytes": 256 * 1024 * 1024}, "real_rate_limits": False},
                        args=["--log-level", "error"])
    with requests.Session() as session:
        for index in range(1000):
            assert session.post(server.upload_url, data={"command": "INIT", "total_bytes": 10 + index, "media_type": "video/mp4"}).status_code == 202
    seed_journal(server, 99_000)
    assert requests.get(server.url("/__admin/requests/count")).json() == {"count": 100_000}

    dashboard = Dashboard(browser, server)
    try:
        timings = {}
        for name, path, table, shown in (("uploads", UI, "uploads", 100), ("journal", f"{UI}/journal", "journal", 100),
                                         ("filtered journal", f"{UI}/journal?command=INIT", "journal", 100)):
            started = time.monotonic()
            dashboard.open(path)
            expect(rows(dashboard.page, table)).to_have_count(shown)
            timings[name] = time.monotonic() - started
        expect(dashboard.page.locator("#journal caption")).to_contain_text("1,000 matching requests")
        dashboard.open(f"{UI}/journal")
        started = time.monotonic()
        dashboard.page.get_by_role("link", name="Older").click()
        expect(rows(dashboard.page, "journal").first.locator("td").first).to_have_text("99900")
        timings["next journal page"] = time.monotonic() - started
        dashboard.screenshot("large-journal")
    finally:
        dashboard.close()
    print("large store: " + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in timings.items()))
    assert max(timings.values()) < 2.0, timings


def test_served_files_are_dashboard_folder_byte_for_byte(mock):
    """dashboard/ is compiled in by scripts/sync-dashboard; scripts/test runs its --check too."""
    for path, name, kind in ((UI, "index.html", "text/html"), (f"{UI}/dashboard.js", "dashboard.js", "text/javascript"),
                             (f"{UI}/dashboard.css", "dashboard.css", "text/css")):
        response = requests.get(mock.url(path))
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content == (REPO / "dashboard" / name).read_bytes(), "stale: run scripts/sync-dashboard, then build"
    for view in (f"{UI}/journal", f"{UI}/rules", f"{UI}/uploads/1"):
        assert requests.get(mock.url(view)).content == (REPO / "dashboard" / "index.html").read_bytes()
    assert requests.get(mock.url(f"{UI}/nowhere")).status_code == 404


def test_the_docs_examples_run_as_written(start_mock, tmp_path):
    """docs/dashboard.md's shell blocks against a server with a journal, only the port changed."""
    server = start_mock({"faults": [{"match": {"command": "APPEND"}, "action": {"status": 503}, "times": 1}]})
    media_id = init(server, 6)
    for index in (0, 0, 1):
        append(server, media_id, index, b"abc")
    text = (REPO / "docs" / "dashboard.md").read_text()
    paging, har = re.findall(r"```sh\n(.*?)```", text, re.S)
    script = (paging + har).replace("8080", str(server.port))
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    answers, rest, decoder = [], run.stdout, json.JSONDecoder()  # curl prints each answer without a newline
    while rest.strip():
        answer, end = decoder.raw_decode(rest.strip())
        answers.append(answer)
        rest = rest.strip()[end:]
    newest, since, page, index = answers
    assert [entry["id"] for entry in newest["requests"]] == [4, 3]
    assert since == {"requests": []}
    assert [entry["segment_index"] for entry in page["requests"]] == [0, 0]
    assert index["dashboard"] == "/__admin/ui"
    assert [entry["response"]["status"] for entry in json.loads((tmp_path / "faults.har").read_text())["log"]["entries"]] == [503]


def test_the_clock_and_scenario_panels_move_the_clock_and_install_scenarios(dashboard, mock):
    page = dashboard.open(f"{UI}/rules")
    reading = page.locator("#clock-reading")
    expect(reading).to_contain_text("· running · on real time")
    expect(rows(page, "scenarios")).to_have_count(8)
    expect(rows(page, "scenarios").nth(1)).to_contain_text("The first APPEND of each segment is stored")

    page.get_by_label("Advance by (seconds)").fill("86400")
    page.locator("#clock-advance").get_by_role("button", name="Advance").click()
    expect(reading).to_contain_text("running · 1 d ahead of the wall clock")
    assert mock.admin("/clock").json()["offset_secs"] == pytest.approx(86_400, abs=5)
    page.get_by_role("button", name="Freeze").click()
    expect(reading).to_contain_text("· frozen ·")
    page.get_by_label("Set to (UTC)").fill("2030-01-01T00:00:00")
    page.locator("#clock-set").get_by_role("button", name="Set").click()
    expect(reading).to_contain_text("2030-01-01 00:00:00.000 UTC · frozen")
    assert mock.admin("/clock").json()["now"] == 1_893_456_000
    expect(page.get_by_role("status").last).to_have_text("Set the clock to 2030-01-01 00:00:00.000 UTC.")
    page.get_by_role("button", name="Resume").click()
    expect(reading).to_contain_text("· running ·")
    # What the server refuses is shown as it words it.
    dashboard.allowed_errors = ("status of 400",)
    page.get_by_label("Advance by (seconds)").fill("4000000000")
    page.locator("#clock-advance").get_by_role("button", name="Advance").click()
    expect(page.locator("#clock-heading ~ .alert")).to_contain_text("advance_secs would move the clock to")
    page.get_by_role("button", name="Back to real time").click()
    expect(reading).to_contain_text("on real time")
    assert mock.admin("/clock").json()["offset_secs"] == 0

    page.get_by_role("button", name="Install scenario lost-responses").click()
    expect(page.get_by_role("status").last).to_have_text("Installed scenario lost-responses: fault rule 1.")
    expect(rows(page, "faults").first).to_contain_text('scenario: "lost-responses"')
    expect(rows(page, "scenarios").nth(1)).to_contain_text("yes")
    expect(page.get_by_role("heading", name="Scenarios")).to_be_focused()
    [installed] = mock.admin("/faults").json()["faults"]
    assert installed["scenario"] == "lost-responses" and installed["match"]["attempt"] == 1
    page.get_by_role("button", name="Install scenario rate-limited-appends").click()
    expect(rows(page, "rate-limits").last).to_contain_text('scenario: "rate-limited-appends"')
    rows(page, "scenarios").nth(4).locator("summary").click()
    expect(rows(page, "scenarios").nth(4)).to_contain_text("limit: 4")
    dashboard.check_accessibility()
    dashboard.screenshot("rules-clock-scenarios")
    page.get_by_role("button", name="Remove scenario lost-responses").click()
    expect(page.get_by_role("status").last).to_have_text("Removed scenario lost-responses.")
    expect(rows(page, "faults").first).to_contain_text("No fault rules")
    assert mock.admin("/faults").json()["faults"] == []

    # Within a scope: that credential's clock, and scenarios for its requests alone.
    page = dashboard.open(f"{UI}/rules?scope=worker-7")
    expect(page.locator("#clock-heading + p")).to_contain_text("The clock of scope worker-7")
    page.get_by_label("Advance by (seconds)").fill("60")
    page.locator("#clock-advance").get_by_role("button", name="Advance").click()
    expect(reading).to_contain_text("1 min ahead of the wall clock")
    assert mock.admin("/clock", headers={"X-Mock-Scope": "worker-7"}).json()["offset_secs"] == pytest.approx(60, abs=5)
    assert mock.admin("/clock").json()["offset_secs"] == 0
    page.get_by_role("button", name="Install scenario flaky-uplink").click()
    expect(page.get_by_role("status").last).to_have_text("Installed scenario flaky-uplink for worker-7: fault rule 2.")
    expect(rows(page, "scenarios").first).to_contain_text("yes, for worker-7")
    assert [rule["scope"] for rule in mock.admin("/faults").json()["faults"]] == ["worker-7"]
