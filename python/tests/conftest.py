"""The package's own tests: a real server (``$TWITTER_UPLOAD_MOCK_BIN``) over real HTTP."""
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

FIXTURES = Path(__file__).resolve().parents[2] / "Fixtures"


@pytest.fixture
def clip() -> Path:
    return FIXTURES / "media" / "clip.mp4"
