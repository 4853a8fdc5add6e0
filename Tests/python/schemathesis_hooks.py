"""Schemathesis hooks for test_openapi.py, loaded through SCHEMATHESIS_HOOKS.

docs/admin-openapi.json states every rule the fault and rate-limit readers apply but one, which
JSON Schema cannot: a uniform delay's `min_ms` may not exceed its `max_ms` (its description
says so; the server answers 400). Generated bodies that break it are dropped, so
"valid input is accepted" is checked on everything else.
"""
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
