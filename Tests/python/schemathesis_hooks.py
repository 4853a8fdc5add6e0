"""Schemathesis hooks for test_openapi.py, loaded through SCHEMATHESIS_HOOKS.

docs/admin-openapi.json states every rule the admin API applies but two, which JSON Schema
cannot (their descriptions say so; the server answers 400):
- a uniform delay's `min_ms` may not exceed its `max_ms`: generated bodies that break it are
  dropped;
- `advance_secs` may not move the clock past 2100-01-01, which depends on where the clock
  reads: before each generated advance the clock is stopped at the start of its range
  (2006-01-01), from where every advance the document allows fits.
So "valid input is accepted" is checked on everything else.
"""
import os

import requests
import schemathesis


def holds_inverted_uniform_delay(value):
    if isinstance(value, list):
        return any(holds_inverted_uniform_delay(item) for item in value)
    if not isinstance(value, dict):
        return False
    low, high = value.get("min_ms"), value.get("max_ms")
    numbers = all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in (low, high))
    if value.get("distribution") == "uniform" and numbers and low > high:
        return True
    return any(holds_inverted_uniform_delay(item) for item in value.values())


@schemathesis.hook
def filter_case(context, case):  # unlike filter_body, also applied in the coverage phase
    return not holds_inverted_uniform_delay(case.body)


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.method.upper() == "POST" and case.path == "/__admin/clock" and isinstance(case.body, dict) \
            and "advance_secs" in case.body:
        base = os.environ["UPLOAD_MOCK_URL"] + "/__admin/clock"
        requests.delete(base, timeout=10).raise_for_status()  # every scope follows the server's clock
        for change in ({"freeze": True}, {"set": 1_136_073_600}):
            requests.post(base, json=change, timeout=10).raise_for_status()
