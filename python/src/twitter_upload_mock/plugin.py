"""pytest fixtures that bring their own server (registered through the ``pytest11`` entry point).

- ``upload_mock``: a fresh server for one test, stopped after it. Configure it with the marker
  ``@pytest.mark.upload_mock(config={...}, tls=True, args=[...], seed=1)`` or by overriding
  the ``upload_mock_config`` fixture (a dict, or None for the defaults).
- ``upload_mock_session``: one server for the whole session (``upload_mock_session_config``
  configures it); ``upload_mock_shared`` is that server, reset before each test.
- ``upload_mock_scoped``: this test's own view of a server shared with parallel workers (the
  one at ``$TWITTER_UPLOAD_MOCK_URL``, such as a CI service container, or else the session
  server). The client under test sends ``upload_mock_scoped.scope`` as its credential (OAuth
  access token or bearer token) and the view sees only what that credential did.

A server that exits on its own during a test fails that test with the server's log. A test
that fails while using one of these fixtures gets a "twitter-upload-mock" section in its report:
what the mock saw in that test's scope (uploads with their segment maps, the last requests with
statuses and fired faults) and the dashboard's address (docs/dashboard.md).
"""
from __future__ import annotations

import os
import uuid
from typing import Any, Dict, Iterator, Optional

import pytest

from .client import AdminClient
from .server import MockServer

MARKER = "upload_mock"
# The fixtures whose view of the mock a failing test's report shows, the most specific first.
REPORTED_FIXTURES = ("upload_mock_scoped", "upload_mock", "upload_mock_shared")
REPORT_SECTION = "twitter-upload-mock"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(config=None, tls=False, args=(), seed=None): how the upload_mock fixture starts the server")


def _stop_checked(server: MockServer) -> None:
    crashed = server.crashed
    status = server.stop()
    if crashed or status != 0:
        pytest.fail(f"twitter-upload-mock exited with status {status} during the test; its log:\n{server.stderr}")


@pytest.fixture
def upload_mock_config() -> Optional[Dict[str, Any]]:
    """The configuration every ``upload_mock`` in scope starts with; override it to change that."""
    return None


@pytest.fixture
def upload_mock(request: pytest.FixtureRequest, upload_mock_config: Optional[Dict[str, Any]]) -> Iterator[MockServer]:
    """A server started for this test on a free port, stopped after it."""
    marker = request.node.get_closest_marker(MARKER)
    options = dict(marker.kwargs) if marker else {}
    options.setdefault("config", upload_mock_config)
    server = MockServer(**options).start()
    try:
        yield server
    finally:
        _stop_checked(server)


@pytest.fixture(scope="session")
def upload_mock_session_config() -> Optional[Dict[str, Any]]:
    """The configuration of the session-wide server; override it in a conftest.py."""
    return None


@pytest.fixture(scope="session")
def upload_mock_session(upload_mock_session_config: Optional[Dict[str, Any]]) -> Iterator[MockServer]:
    """One server for the whole test session (use ``upload_mock_shared`` to get it reset)."""
    server = MockServer(upload_mock_session_config).start()
    try:
        yield server
    finally:
        _stop_checked(server)


@pytest.fixture
def upload_mock_shared(upload_mock_session: MockServer) -> MockServer:
    """The session-wide server, reset first: no uploads, empty journal, startup rules, real time."""
    upload_mock_session.reset()
    return upload_mock_session


@pytest.fixture
def upload_mock_scoped(request: pytest.FixtureRequest) -> Iterator[AdminClient]:
    """A view of a shared server that sees only this test's uploads, journal entries and rules;
    its ``scope`` is a fresh token for the client under test to send. Forgotten after the test."""
    url = os.environ.get("TWITTER_UPLOAD_MOCK_URL")
    base = AdminClient(url) if url else request.getfixturevalue("upload_mock_session")
    view = base.scoped(f"test-{uuid.uuid4().hex}")
    try:
        yield view
    finally:
        view.reset()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Adds the mock's timeline to the report of a test that failed while using a mock fixture."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    values = getattr(item, "funcargs", {})
    name = next((name for name in REPORTED_FIXTURES if isinstance(values.get(name), AdminClient)), None)
    if name is not None:
        report.sections.append((REPORT_SECTION, _timeline(values[name], per_test=name == "upload_mock")))


def _timeline(mock: AdminClient, per_test: bool) -> str:
    try:
        text = mock.timeline()
    except Exception as error:  # the report of a failure must not fail in turn
        return f"the mock could not say what it saw: {error}"
    if per_test:
        text += "\n(upload_mock's server stops with the test; upload_mock_scoped on a server that stays up keeps the dashboard open)"
    return text
