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

Scenarios (docs/faults.md, Scenarios): ``pytest --upload-mock-scenarios=all`` (or a comma list of
names) runs every test that uses one of these fixtures once per scenario, the scenario installed
on its server (or, for ``upload_mock_scoped``, in its scope) before the test; the marker
``@pytest.mark.upload_mock_scenarios("lost-responses", ...)`` (or ``"all"``) does it for one
test. Test ids name the scenario (``test_upload[flaky-uplink]``) and the run ends with a summary
of which scenarios each test survived. ``--upload-mock-scenarios-dir DIR`` adds your own
scenario files to the servers the fixtures start, and to ``all``.
"""
from __future__ import annotations

import os
import subprocess
import uuid
from typing import Any, Dict, Iterator, List, Optional, Sequence

import pytest

from .client import AdminClient
from .server import BinaryNotFound, MockServer, find_binary

MARKER = "upload_mock"
SCENARIOS_MARKER = "upload_mock_scenarios"
SCENARIOS_OPTION = "--upload-mock-scenarios"
SCENARIOS_DIR_OPTION = "--upload-mock-scenarios-dir"
SCENARIO_PROPERTY = "upload_mock_scenario"
SUMMARY_TITLE = "twitter-upload-mock scenarios"
_KNOWN_SCENARIOS = pytest.StashKey[List[str]]()
# The fixtures whose view of the mock a failing test's report shows, the most specific first.
REPORTED_FIXTURES = ("upload_mock_scoped", "upload_mock", "upload_mock_shared")
REPORT_SECTION = "twitter-upload-mock"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("twitter-upload-mock")
    group.addoption(
        SCENARIOS_OPTION, metavar="NAMES", default=None,
        help="run every test that uses an upload_mock fixture once per scenario: 'all', or a comma list of "
             "names (twitter-upload-mock --list-scenarios shows them)")
    group.addoption(
        SCENARIOS_DIR_OPTION, metavar="DIR", default=None,
        help="your own scenario files, NAME.json: the servers the fixtures start know them (--scenarios-dir), "
             "and 'all' takes them in")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(config=None, tls=False, args=(), seed=None): how the upload_mock fixture starts the server")
    config.addinivalue_line(
        "markers", f"{SCENARIOS_MARKER}(*names): run this test once per named scenario ('all': every one)")
    config.pluginmanager.register(ScenarioSummary(), "twitter-upload-mock-scenario-summary")
    chosen = config.getoption(SCENARIOS_OPTION)
    if chosen is not None:
        _scenario_names(config, chosen.split(","), SCENARIOS_OPTION)  # a misspelt name stops the run at once


def _known_scenarios(config: pytest.Config) -> List[str]:
    """The scenarios the server binary knows (``--list-scenarios``), or else the shared server's."""
    if _KNOWN_SCENARIOS not in config.stash:
        try:
            listed = subprocess.run([find_binary(), "--list-scenarios", *_scenarios_dir_args(config)], capture_output=True,
                                    text=True, timeout=30)
            if listed.returncode != 0:  # a scenario file of one's own is wrong: the binary says which
                raise pytest.UsageError(listed.stderr.strip())
            names = [line.split("\t", 1)[0] for line in listed.stdout.splitlines() if line]
        except BinaryNotFound as missing:
            url = os.environ.get("TWITTER_UPLOAD_MOCK_URL")
            if not url:
                raise pytest.UsageError(f"{SCENARIOS_OPTION} needs the server to list the scenarios: {missing}") from None
            names = [scenario.name for scenario in AdminClient(url).scenarios()]
        config.stash[_KNOWN_SCENARIOS] = names
    return config.stash[_KNOWN_SCENARIOS]


def _scenarios_dir_args(config: pytest.Config) -> List[str]:
    """``--scenarios-dir DIR`` for the servers the fixtures start, when the option names one."""
    directory = config.getoption(SCENARIOS_DIR_OPTION)
    return ["--scenarios-dir", os.path.abspath(directory)] if directory else []


def _scenario_names(config: pytest.Config, requested: Sequence[str], source: str) -> List[str]:
    """``all`` or names, checked against the known scenarios, in order, each once."""
    known = _known_scenarios(config)
    names: List[str] = []
    for name in (part.strip() for part in requested):
        if not name:
            continue
        if name == "all":
            names += known
        elif name in known:
            names.append(name)
        else:
            raise pytest.UsageError(f"{source}: no scenario '{name}': the scenarios are {', '.join(known)}")
    return list(dict.fromkeys(names))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Runs a test that uses a mock fixture once per scenario the marker or the option names."""
    if SCENARIO_PROPERTY not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker(SCENARIOS_MARKER)
    if marker is not None:
        names = _scenario_names(metafunc.config, [str(arg) for arg in marker.args], f"@pytest.mark.{SCENARIOS_MARKER}")
    else:
        chosen = metafunc.config.getoption(SCENARIOS_OPTION)
        names = _scenario_names(metafunc.config, chosen.split(","), SCENARIOS_OPTION) if chosen is not None else []
    if names:
        metafunc.parametrize(SCENARIO_PROPERTY, names, indirect=True, ids=names)


@pytest.fixture
def upload_mock_scenario(request: pytest.FixtureRequest) -> Optional[str]:
    """The scenario this run of the test rehearses (``--upload-mock-scenarios``), or None."""
    name = getattr(request, "param", None)
    if name is not None:
        request.node.user_properties.append((SCENARIO_PROPERTY, name))
    return name


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
def upload_mock(request: pytest.FixtureRequest, upload_mock_config: Optional[Dict[str, Any]],
                upload_mock_scenario: Optional[str]) -> Iterator[MockServer]:
    """A server started for this test on a free port, stopped after it."""
    marker = request.node.get_closest_marker(MARKER)
    options = dict(marker.kwargs) if marker else {}
    options.setdefault("config", upload_mock_config)
    options["args"] = [*options.get("args", ()), *_scenarios_dir_args(request.config)]
    if upload_mock_scenario is not None:
        # Installed from the config, so a reset within the test keeps it.
        config = dict(options["config"] or {})
        config["scenarios"] = [*config.get("scenarios", []), upload_mock_scenario]
        options["config"] = config
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
def upload_mock_session(request: pytest.FixtureRequest,
                        upload_mock_session_config: Optional[Dict[str, Any]]) -> Iterator[MockServer]:
    """One server for the whole test session (use ``upload_mock_shared`` to get it reset)."""
    server = MockServer(upload_mock_session_config, args=_scenarios_dir_args(request.config)).start()
    try:
        yield server
    finally:
        _stop_checked(server)


@pytest.fixture
def upload_mock_shared(upload_mock_session: MockServer, upload_mock_scenario: Optional[str]) -> MockServer:
    """The session-wide server, reset first: no uploads, empty journal, startup rules, real time."""
    upload_mock_session.reset()
    if upload_mock_scenario is not None:
        upload_mock_session.install_scenario(upload_mock_scenario)
    return upload_mock_session


@pytest.fixture
def upload_mock_scoped(request: pytest.FixtureRequest, upload_mock_scenario: Optional[str]) -> Iterator[AdminClient]:
    """A view of a shared server that sees only this test's uploads, journal entries and rules;
    its ``scope`` is a fresh token for the client under test to send. Forgotten after the test."""
    url = os.environ.get("TWITTER_UPLOAD_MOCK_URL")
    base = AdminClient(url) if url else request.getfixturevalue("upload_mock_session")
    view = base.scoped(f"test-{uuid.uuid4().hex}")
    try:
        if upload_mock_scenario is not None:
            view.install_scenario(upload_mock_scenario)
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
        text = _timeline(values[name], per_test=name == "upload_mock")
        scenario = values.get(SCENARIO_PROPERTY)
        if scenario is not None:
            text = f"scenario: {scenario}\n{text}"
        report.sections.append((REPORT_SECTION, text))


def _timeline(mock: AdminClient, per_test: bool) -> str:
    try:
        text = mock.timeline()
    except Exception as error:  # the report of a failure must not fail in turn
        return f"the mock could not say what it saw: {error}"
    if per_test:
        text += "\n(upload_mock's server stops with the test; upload_mock_scoped on a server that stays up keeps the dashboard open)"
    return text


class ScenarioSummary:
    """How each run of a test under a scenario ended, and the summary of it at the end of the run
    (with pytest-xdist too: the scenario travels with each report as a user property)."""

    def __init__(self) -> None:
        # scenario -> test (node id without the scenario) -> passed, failed or skipped
        self.outcomes: Dict[str, Dict[str, str]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        scenario = dict(report.user_properties).get(SCENARIO_PROPERTY)
        if scenario is None or not (report.when == "call" or report.failed or report.skipped):
            return
        tests = self.outcomes.setdefault(scenario, {})
        test = report.nodeid.rsplit("[", 1)[0]
        # A failed setup or teardown counts against the run; the call's outcome never hides one.
        if tests.get(test) != "failed":
            tests[test] = "failed" if report.failed else report.outcome

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.outcomes:
            return
        terminalreporter.section(SUMMARY_TITLE)
        width = max(len(name) for name in self.outcomes)
        for scenario, tests in self.outcomes.items():
            failed = [test for test, outcome in tests.items() if outcome == "failed"]
            tally = ", ".join(f"{count} {outcome}" for outcome in ("passed", "failed", "skipped")
                              for count in [sum(1 for value in tests.values() if value == outcome)] if count)
            line = f"{scenario:<{width}}  {'FAILED' if failed else 'passed'}  {tally}"
            terminalreporter.write_line(line + (": " + ", ".join(failed) if failed else ""), red=bool(failed),
                                        green=not failed)
