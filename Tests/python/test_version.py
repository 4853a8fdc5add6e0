"""One version (VERSION) in every place a user reads one: the binary, the admin API's OpenAPI
document as written and as served, the Python package's build, and every artifact name the
docs tell users to install. scripts/test-package checks the built wheel and tarball the same way."""
import json
import re
import subprocess
import tomllib

import requests

from conftest import BINARY, REPO

VERSION = (REPO / "VERSION").read_text().strip()


def test_version_is_semantic():
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION), VERSION


def test_the_generated_places_carry_it():
    check = subprocess.run([str(REPO / "scripts" / "sync-version"), "--check"], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr


def test_the_binary_and_the_openapi_document_say_it(mock):
    assert subprocess.run([BINARY, "--version"], capture_output=True, text=True, check=True).stdout.strip() == VERSION
    assert json.loads((REPO / "docs" / "admin-openapi.json").read_text())["info"]["version"] == VERSION
    assert requests.get(mock.url("/__admin/openapi.json")).json()["info"]["version"] == VERSION


def test_the_python_package_reads_it_and_has_no_version_of_its_own():
    project = tomllib.loads((REPO / "python" / "pyproject.toml").read_text())["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert 'VERSION = next(' in (REPO / "python" / "setup.py").read_text()
    assert project["license"] == "MIT" and "MIT License" in (REPO / "LICENSE").read_text()


def test_every_artifact_the_docs_name_is_of_this_version():
    named = []
    for path in [REPO / "README.md", REPO / "python" / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = path.read_text()
        named += [(path.name, v) for v in re.findall(r"twitter[-_]upload[-_]mock-(\d+\.\d+\.\d+)", text)]
        named += [(path.name, v) for v in re.findall(r"twitter-upload-mock:(\d+\.\d+\.\d+)", text)]
        named += [(path.name, v) for v in re.findall(r"MOCK_VERSION: (\d+\.\d+\.\d+)", text)]
        named += [(path.name, v) for v in re.findall(r"twitter-upload-mock/(\d+\.\d+\.\d+)", text)]
    assert named and all(version == VERSION for _, version in named), [n for n in named if n[1] != VERSION]


def test_the_changelog_has_an_entry_for_it():
    assert re.search(rf"^## {re.escape(VERSION)}\b", (REPO / "CHANGELOG.md").read_text(), re.M)
