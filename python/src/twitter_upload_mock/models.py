"""Plain objects for what the admin API answers (docs/api.md, docs/faults.md).

Every object keeps the JSON it came from in ``raw``, so fields a newer server adds are
readable before this package names them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional

JSON = Dict[str, Any]


def parse_time(text: str) -> datetime:
    """An ISO 8601 time as the server writes it (``2026-01-02T03:04:05.678Z``), timezone-aware."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _optional_int(value: Any) -> Optional[int]:
    return None if value is None else int(value)


def _optional_time(value: Any) -> Optional[datetime]:
    return None if value is None else parse_time(str(value))


@dataclass(frozen=True)
class Segment:
    """One stored APPEND segment: its index, size and SHA-256 (hex)."""

    index: int
    bytes: int
    sha256: str
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Segment":
        return cls(index=int(data["index"]), bytes=int(data["bytes"]), sha256=str(data["sha256"]),
                   raw=dict(data))


@dataclass(frozen=True)
class Attempt:
    """One APPEND of a segment, whatever became of it: ``status`` is ``None`` when the
    connection ended without an answer; ``fault`` names the rule that fired, if any;
    ``bytes_received`` counts the request body, ``media_bytes`` the segment it stored (``None``
    when it stored nothing); ``stored`` is true even when an ``after_commit`` fault then failed it."""

    segment_index: int
    time: datetime
    status: Optional[int]
    bytes_received: int
    fault: Optional[str] = None
    clock_time: Optional[datetime] = None
    media_bytes: Optional[int] = None
    stored: bool = False
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Attempt":
        return cls(segment_index=int(data["segment_index"]), time=parse_time(str(data["time"])),
                   status=_optional_int(data.get("status")), bytes_received=int(data.get("bytes_received", 0)),
                   fault=data.get("fault"), clock_time=_optional_time(data.get("clock_time")),
                   media_bytes=_optional_int(data.get("media_bytes")), stored=bool(data.get("stored", False)), raw=dict(data))


@dataclass(frozen=True)
class UploadReport:
    """What arrived for one media id (``GET /__admin/uploads/{id}``).

    ``segments`` is ``None`` in the uploads list (summaries); ``sha256`` and ``md5`` are the
    digests of the reassembled media, ``None`` until the segments form the whole file.
    ``state`` is ``initialized``, ``finalized``, ``processing``, ``succeeded``, ``failed`` or ``expired``.
    ``attempts`` lists every APPEND of the upload, oldest first (see :meth:`history`).
    """

    media_id: int
    state: str
    media_type: str
    media_category: Optional[str]
    total_bytes: int
    received_bytes: int
    segment_count: int
    owner: Optional[str] = None
    segments: Optional[List[Segment]] = None
    sha256: Optional[str] = None
    md5: Optional[str] = None
    attempts: List[Attempt] = field(default_factory=list)
    alt_text: Optional[str] = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    def history(self, segment_index: int) -> List[Optional[int]]:
        """The statuses of every APPEND of one segment, oldest first:
        ``assert report.history(3) == [503, 204]``."""
        return [a.status for a in self.attempts if a.segment_index == segment_index]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "UploadReport":
        segments = data.get("segments")
        return cls(
            media_id=int(data["media_id_string"]),
            state=str(data["state"]),
            media_type=str(data["media_type"]),
            media_category=data.get("media_category"),
            total_bytes=int(data["total_bytes"]),
            received_bytes=int(data["received_bytes"]),
            segment_count=int(data["segment_count"]),
            owner=data.get("owner"),
            segments=None if segments is None else [Segment.from_json(s) for s in segments],
            sha256=data.get("sha256"),
            md5=data.get("md5"),
            attempts=[Attempt.from_json(a) for a in data.get("attempts") or []],
            alt_text=data.get("alt_text"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class JournalEntry:
    """One upload request as the journal recorded it (``GET /__admin/requests``).

    ``status`` is ``None`` when the connection ended without a response (a ``reset``,
    ``close`` or ``hang`` fault). ``fault`` and ``rate_limit`` describe the rule that fired or
    refused, ``error`` the mock's explanation of a refusal. ``user`` is the authenticated user
    (``None`` while authentication is off); ``api`` is ``v1.1`` or ``v2``. ``time`` is the wall
    clock's; ``clock_time`` the mock's clock's when it was moved or frozen (docs/clock.md), else ``None``.
    """

    time: datetime
    method: str
    path: str
    command: Optional[str]
    media_id: Optional[int]
    segment_index: Optional[int]
    bytes_received: int
    status: Optional[int]
    duration_ms: float
    error: Optional[str] = None
    fault: Optional[str] = None
    rate_limit: Optional[str] = None
    user: Optional[str] = None
    api: Optional[str] = None
    fault_rule: Optional[str] = None
    scope: Optional[str] = None
    clock_time: Optional[datetime] = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "JournalEntry":
        return cls(
            time=parse_time(str(data["time"])),
            method=str(data["method"]),
            path=str(data["path"]),
            command=data.get("command"),
            media_id=_optional_int(data.get("media_id")),
            segment_index=_optional_int(data.get("segment_index")),
            bytes_received=int(data.get("bytes_received", 0)),
            status=_optional_int(data.get("status")),
            duration_ms=float(data.get("duration_ms", 0.0)),
            error=data.get("error"),
            fault=data.get("fault"),
            rate_limit=data.get("rate_limit"),
            user=data.get("user"),
            api=data.get("api"),
            fault_rule=data.get("fault_rule"),
            scope=data.get("scope"),
            clock_time=_optional_time(data.get("clock_time")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class ClockReading:
    """What the mock's clock reads (``GET /__admin/clock``): ``now`` in seconds since 1970,
    whether it is ``frozen``, and ``offset_secs`` from the wall clock."""

    now: float
    frozen: bool
    offset_secs: float
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @property
    def time(self) -> datetime:
        """``now`` as a timezone-aware UTC datetime."""
        return datetime.fromtimestamp(self.now, tz=timezone.utc)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ClockReading":
        return cls(now=float(data["now"]), frozen=bool(data["frozen"]), offset_secs=float(data["offset_secs"]),
                   raw=dict(data))


@dataclass(frozen=True)
class FaultRule:
    """A fault rule as the server holds it; ``match`` and ``action`` as in docs/faults.md."""

    id: str
    match: JSON
    action: JSON
    after_commit: bool = False
    times: Optional[int] = None
    scope: Optional[str] = None
    seed: Optional[int] = None
    scenario: Optional[str] = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "FaultRule":
        return cls(id=str(data["id"]), match=dict(data.get("match") or {}), action=dict(data.get("action") or {}),
                   after_commit=bool(data.get("after_commit", False)), times=_optional_int(data.get("times")),
                   scope=data.get("scope"), seed=_optional_int(data.get("seed")), scenario=data.get("scenario"),
                   raw=dict(data))


@dataclass(frozen=True)
class RateLimitRule:
    """A rate limit: ``limit`` matching requests per ``window_secs``, per ``user`` or ``global``."""

    id: str
    match: JSON
    limit: int
    window_secs: int
    per: str
    scope: Optional[str] = None
    scenario: Optional[str] = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "RateLimitRule":
        return cls(id=str(data["id"]), match=dict(data.get("match") or {}), limit=int(data["limit"]),
                   window_secs=int(data["window_secs"]), per=str(data["per"]), scope=data.get("scope"),
                   scenario=data.get("scenario"), raw=dict(data))


@dataclass(frozen=True)
class Scenario:
    """A named scenario (``GET /__admin/scenarios``, docs/faults.md): its ``faults`` and
    ``rate_limits`` in the shapes ``add_fault`` and ``add_rate_limit`` send, and whether it is
    ``installed`` in this client's scope."""

    name: str
    description: str
    faults: List[JSON]
    rate_limits: List[JSON]
    installed: bool = False
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Scenario":
        return cls(name=str(data["name"]), description=str(data["description"]),
                   faults=[dict(rule) for rule in data.get("faults") or []],
                   rate_limits=[dict(rule) for rule in data.get("rate_limits") or []],
                   installed=bool(data.get("installed", False)), raw=dict(data))


@dataclass(frozen=True)
class InstalledScenario:
    """What installing a scenario put in force: its rules with their ids, in ``scope`` (``None``: everyone's)."""

    name: str
    description: str
    scope: Optional[str]
    faults: List[FaultRule]
    rate_limits: List[RateLimitRule]
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "InstalledScenario":
        return cls(name=str(data["name"]), description=str(data["description"]), scope=data.get("scope"),
                   faults=[FaultRule.from_json(rule) for rule in data.get("faults") or []],
                   rate_limits=[RateLimitRule.from_json(rule) for rule in data.get("rate_limits") or []],
                   raw=dict(data))
