"""A client for the mock's admin API (``/__admin``), standard library only."""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Union

from .models import ClockReading, FaultRule, InstalledScenario, JournalEntry, RateLimitRule, Scenario, UploadReport

MediaID = Union[int, str]
UPLOAD_PATH = "/1.1/media/upload.json"


class AdminError(Exception):
    """The admin API answered with an error status; ``status`` and the server's ``message``."""

    def __init__(self, status: int, message: str, url: str) -> None:
        super().__init__(f"{status} from {url}: {message}")
        self.status = status
        self.message = message
        self.url = url


class AdminClient:
    """Talks to a running mock's admin API at ``base_url`` (``http://127.0.0.1:8080``).

    ``ca_file`` is the CA to trust when the mock serves HTTPS (``--tls-self-signed DIR``
    writes ``DIR/ca.pem``). ``scope`` is a credential's token (the OAuth access token or bearer
    token the client under test sends): every call then sees and changes only what that
    credential did, so parallel workers can share one server (README, Isolation). Every method
    raises :class:`AdminError` on an error status.
    """

    def __init__(self, base_url: str, *, ca_file: Optional[str] = None, timeout: float = 30.0,
                 scope: Optional[str] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.ca_file = ca_file
        self.timeout = timeout
        self.scope = scope

    def scoped(self, token: str) -> "AdminClient":
        """A client for the same server that sees only what requests carrying ``token`` did."""
        return AdminClient(self.base_url, ca_file=self.ca_file, timeout=self.timeout, scope=token)

    @property
    def upload_url(self) -> str:
        """The v1.1 upload endpoint, ``{base_url}/1.1/media/upload.json``."""
        return self.base_url + UPLOAD_PATH

    @property
    def host(self) -> str:
        """``host:port``, what clients such as tweepy take as ``upload_host``."""
        return urllib.parse.urlsplit(self.base_url).netloc

    def trust(self, session: Any) -> Any:
        """Makes a ``requests.Session`` (tweepy's ``api.session``) trust this server's CA and
        returns it. ``trust_env`` is turned off because ``REQUESTS_CA_BUNDLE`` would win over it."""
        if self.ca_file is None:
            raise ValueError("this server does not serve HTTPS: start it with tls=True")
        session.verify = self.ca_file
        session.trust_env = False
        return session

    # Health and reset

    def health(self) -> str:
        """The server's status (``"ok"``)."""
        return str(self._json("GET", "/health")["status"])

    def reset(self) -> None:
        """Forgets uploads and the journal, restores the startup faults and rate limits and puts the
        clock back on real time; with a ``scope``, forgets only that credential's uploads, journal
        entries and rules, and its clock follows the server's again."""
        self._json("POST", "/reset")

    # What arrived

    def uploads(self) -> List[UploadReport]:
        """Every upload, oldest first, as summaries (``segments`` is ``None``)."""
        return [UploadReport.from_json(u) for u in self._json("GET", "/uploads")["uploads"]]

    def upload(self, media_id: MediaID) -> UploadReport:
        """One upload with its segments and digests; :class:`AdminError` 404 when unknown."""
        return UploadReport.from_json(self._json("GET", f"/uploads/{media_id}"))

    def media(self, media_id: MediaID) -> bytes:
        """The reassembled bytes of one upload, segments in index order."""
        return self._send("GET", f"/uploads/{media_id}/media")

    def requests(self, *, api: Optional[str] = None, command: Optional[str] = None,
                 media_id: Optional[MediaID] = None, segment_index: Optional[int] = None,
                 status: Optional[Union[int, str]] = None, fault: Optional[Union[bool, str]] = None,
                 user: Optional[str] = None, since: Optional[Union[datetime, str]] = None) -> List[JournalEntry]:
        """The request journal, oldest first, narrowed by every filter given (the server applies them).

        ``api`` (``"v1.1"``, ``"v2"``), ``command`` (``"APPEND"``), ``media_id``, ``segment_index``,
        ``status`` (a code, or ``"none"`` for connections that ended without an answer) and
        ``user`` must equal the entry's; ``fault=True`` keeps requests a fault fired on, ``False``
        the others, a rule id that rule's; ``since`` (a datetime, naive means UTC, or ISO 8601
        text) keeps requests at or after that time.
        """
        path = "/requests" + self._filters(api, command, media_id, segment_index, status, fault, user, since)
        return [JournalEntry.from_json(e) for e in self._json("GET", path)["requests"]]

    def count(self, *, api: Optional[str] = None, command: Optional[str] = None, media_id: Optional[MediaID] = None,
              segment_index: Optional[int] = None, status: Optional[Union[int, str]] = None,
              fault: Optional[Union[bool, str]] = None, user: Optional[str] = None,
              since: Optional[Union[datetime, str]] = None) -> int:
        """How many journal entries the same filters as :meth:`requests` select:
        ``assert mock.count(command="APPEND", status=503) == 1``."""
        path = "/requests/count" + self._filters(api, command, media_id, segment_index, status, fault, user, since)
        return int(self._json("GET", path)["count"])

    @staticmethod
    def _filters(api: Optional[str], command: Optional[str], media_id: Optional[MediaID], segment_index: Optional[int],
                 status: Optional[Union[int, str]], fault: Optional[Union[bool, str]], user: Optional[str],
                 since: Optional[Union[datetime, str]]) -> str:
        query: Dict[str, str] = {}
        for name, value in (("api", api), ("command", command), ("media_id", media_id),
                            ("segment_index", segment_index), ("status", status), ("user", user)):
            if value is not None:
                query[name] = str(value)
        if fault is not None:
            query["fault"] = ("true" if fault else "false") if isinstance(fault, bool) else fault
        if since is not None:
            query["since"] = _utc(since).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return "?" + urllib.parse.urlencode(query) if query else ""

    def timeline(self, *, uploads: int = 5, requests: int = 20) -> str:
        """What the mock saw, as text: the newest ``uploads`` uploads with their segment maps, the
        newest ``requests`` requests with statuses and fired faults, and the dashboard's address
        (docs/dashboard.md). The pytest plugin adds it to the report of a failing test."""
        return self._send("GET", f"/timeline?uploads={uploads}&requests={requests}").decode("utf-8", "replace")

    @property
    def dashboard_url(self) -> str:
        """The dashboard (``/__admin/ui``), showing only this client's scope when it has one."""
        scope = "?" + urllib.parse.urlencode({"scope": self.scope}) if self.scope is not None else ""
        return f"{self.base_url}/__admin/ui{scope}"

    # Faults (docs/faults.md)

    def add_fault(self, match: Optional[Mapping[str, Any]] = None, action: Optional[Mapping[str, Any]] = None, *,
                  times: Optional[int] = None, after_commit: bool = False, seed: Optional[int] = None) -> FaultRule:
        """Adds a fault rule, tried after the existing ones, and returns it with its id.

        ``add_fault({"command": "APPEND", "segment_index": 2}, {"status": 503}, times=1)``; ``seed``
        gives the rule a random generator of its own (docs/faults.md).
        """
        rule: Dict[str, Any] = {"match": dict(match or {}), "action": dict(action or {}), "after_commit": after_commit}
        if times is not None:
            rule["times"] = times
        if seed is not None:
            rule["seed"] = seed
        return FaultRule.from_json(self._json("POST", "/faults", rule))

    def faults(self) -> List[FaultRule]:
        """The fault rules in the order they are tried."""
        return [FaultRule.from_json(r) for r in self._json("GET", "/faults")["faults"]]

    def delete_fault(self, rule_id: str) -> None:
        """Removes one fault rule; :class:`AdminError` 404 when there is none with that id."""
        self._send("DELETE", f"/faults/{rule_id}")

    def clear_faults(self) -> None:
        """Removes every fault rule."""
        self._send("DELETE", "/faults")

    # Rate limits (docs/configuration.md, Rate limits)

    def add_rate_limit(self, match: Optional[Mapping[str, Any]] = None, *, limit: int, window_secs: int = 900,
                       per: str = "user") -> RateLimitRule:
        """Adds a rate limit: ``limit`` matching requests per ``window_secs``, ``per`` user or ``global``."""
        rule = {"match": dict(match or {}), "limit": limit, "window_secs": window_secs, "per": per}
        return RateLimitRule.from_json(self._json("POST", "/rate-limits", rule))

    def rate_limits(self) -> List[RateLimitRule]:
        """The rate limits in the order they are tried (by default the real service's)."""
        return [RateLimitRule.from_json(r) for r in self._json("GET", "/rate-limits")["rate_limits"]]

    def delete_rate_limit(self, rule_id: str) -> None:
        """Removes one rate limit; :class:`AdminError` 404 when there is none with that id."""
        self._send("DELETE", f"/rate-limits/{rule_id}")

    def clear_rate_limits(self) -> None:
        """Removes every rate limit: nothing is limited until one is added or the server is reset."""
        self._send("DELETE", "/rate-limits")

    # Scenarios (docs/faults.md, Scenarios)

    def scenarios(self) -> List[Scenario]:
        """Every scenario the server knows: the shipped ones, then those of ``--scenarios-dir``."""
        return [Scenario.from_json(s) for s in self._json("GET", "/scenarios")["scenarios"]]

    def install_scenario(self, name: str) -> InstalledScenario:
        """Installs a scenario's rules after those in force (in place of what it installed in this
        scope before); a scoped client installs them for its own requests alone.
        :class:`AdminError` 404 names the known scenarios when ``name`` is none of them."""
        return InstalledScenario.from_json(self._json("POST", f"/scenarios/{urllib.parse.quote(name, safe='')}"))

    def remove_scenario(self, name: str) -> None:
        """Removes the rules a scenario installed (a scoped client: in its scope alone)."""
        self._send("DELETE", f"/scenarios/{urllib.parse.quote(name, safe='')}")

    # The clock (docs/clock.md)

    @property
    def clock(self) -> "Clock":
        """The mock's virtual clock; a scoped client's moves only its scope's clock:
        ``upload_mock.clock.advance(86400)``."""
        return Clock(self)

    # Compatibility switches (docs/api-v2.md, Reading requests)

    def compatibility(self) -> Dict[str, bool]:
        """The compatibility switches in force: ``{"infer_v2_segment_index": False}``."""
        return {name: bool(on) for name, on in self._json("GET", "/compatibility").items()}

    def set_compatibility(self, **switches: bool) -> Dict[str, bool]:
        """Turns the named switches on or off and returns them all: the server's, or with a
        ``scope`` that credential's own. :meth:`reset` restores the startup ones.

        ``set_compatibility(infer_v2_segment_index=True)`` lets python-twitter-v2 0.9.3's chunked
        uploads, which send no ``segment_index``, through.
        """
        return {name: bool(on) for name, on in self._json("PATCH", "/compatibility", switches).items()}

    # HTTP

    def _json(self, method: str, path: str, body: Optional[Any] = None) -> Dict[str, Any]:
        answer = json.loads(self._send(method, path, body))
        if not isinstance(answer, dict):
            raise AdminError(200, f"expected a JSON object, got {answer!r}", self.base_url + "/__admin" + path)
        return answer

    def _send(self, method: str, path: str, body: Optional[Any] = None) -> bytes:
        url = self.base_url + "/__admin" + path
        data = None if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json"} if data is not None else {}
        if self.scope is not None:
            headers["x-mock-scope"] = self.scope
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                message = str(json.loads(text).get("error", text))
            except (ValueError, AttributeError):
                message = text
            raise AdminError(error.code, message, url) from None


class Clock:
    """The mock's virtual clock (docs/clock.md): session expiry, rate-limit windows and timed
    processing read it. Reached through ``AdminClient.clock``; with a scope, each call gives that
    scope its own clock and moves only it. Every change returns the new :class:`ClockReading`."""

    def __init__(self, admin: AdminClient) -> None:
        self._admin = admin

    def now(self) -> float:
        """What the clock reads, in seconds since 1970."""
        return self.reading().now

    def reading(self) -> ClockReading:
        """``now``, ``frozen`` and ``offset_secs``."""
        return ClockReading.from_json(self._admin._json("GET", "/clock"))

    def advance(self, seconds: float) -> ClockReading:
        """Moves the clock forward by ``seconds`` (zero or more), frozen or not."""
        return self._change({"advance_secs": seconds})

    def set(self, moment: Union[float, datetime]) -> ClockReading:
        """Sets the clock to ``moment``: seconds since 1970, or a datetime (naive means UTC)."""
        epoch = moment.replace(tzinfo=moment.tzinfo or timezone.utc).timestamp() if isinstance(moment, datetime) else moment
        return self._change({"set": epoch})

    def freeze(self) -> ClockReading:
        """Stops the clock where it reads; ``advance`` and ``set`` still move it."""
        return self._change({"freeze": True})

    def resume(self) -> ClockReading:
        """Lets the clock run on from where it stands."""
        return self._change({"freeze": False})

    def reset(self) -> ClockReading:
        """Unscoped: every clock back to real time. Scoped: this scope follows the server's clock again."""
        return ClockReading.from_json(self._admin._json("DELETE", "/clock"))

    def _change(self, body: Dict[str, Any]) -> ClockReading:
        return ClockReading.from_json(self._admin._json("POST", "/clock", body))


def _utc(moment: Union[datetime, str]) -> datetime:
    """UTC, truncated to the journal's millisecond precision so an entry of that millisecond is kept."""
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00")) if isinstance(moment, str) else moment
    utc = parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)
