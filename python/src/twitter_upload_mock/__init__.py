"""Drive twitter-upload-mock from Python: start it, point a client at it, assert what arrived.

>>> from twitter_upload_mock import MockServer
>>> with MockServer() as mock:
...     mock.health()
'ok'
"""
from .client import UPLOAD_PATH, AdminClient, AdminError, Clock
from .models import (Attempt, ClockReading, FaultRule, InstalledScenario, JournalEntry, RateLimitRule, Scenario, Segment,
                     UploadReport)
from .server import BinaryNotFound, MockServer, ServerError, find_binary

__all__ = [
    "UPLOAD_PATH", "AdminClient", "AdminError", "Attempt", "BinaryNotFound", "Clock", "ClockReading", "FaultRule",
    "InstalledScenario", "JournalEntry", "MockServer", "RateLimitRule", "Scenario", "Segment", "ServerError",
    "UploadReport", "find_binary",
]
