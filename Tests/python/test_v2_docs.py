"""README's v2 walkthrough and docs/api-v2.md's examples, run exactly as written (only the port
changes) against the built server, so the copy-paste examples keep working."""
import re
import subprocess
import sys

import pytest

from conftest import REPO


def blocks(path, after=None, before=None):
    """The ```sh and ```python blocks of a document, optionally between two headings."""
    text = (REPO / path).read_text()
    if after:
        text = text.split(after, 1)[1]
    if before:
        text = text.split(before, 1)[0]
    return re.findall(r"```(sh|python)\n(.*?)```", text, re.S)


README_V2 = blocks("README.md", after="### The same with the X API v2", before="## Verify what arrived")
API_V2 = blocks("docs/api-v2.md")


def run(kind, code, server):
    code = code.replace("127.0.0.1:8080", f"127.0.0.1:{server.port}").replace("localhost:8080", f"localhost:{server.port}")
    command = ["bash", "-euo", "pipefail", "-c", code] if kind == "sh" else [sys.executable, "-c", code]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_documents_have_the_examples_this_test_runs():
    assert [kind for kind, _ in README_V2] == ["sh", "python"]
    assert [kind for kind, _ in API_V2] == ["sh", "sh", "sh", "sh", "sh", "python", "python"]


def test_readme_v2_walkthrough(mock):
    (_, shell), (_, python) = README_V2
    output = run("sh", shell, mock)
    assert '"processing_info":{"check_after_secs":0,"state":"pending"}' in output
    [upload] = mock.admin("/uploads").json()["uploads"]
    assert (upload["received_bytes"], upload["alt_text"]) == (6, "A cat")
    assert mock.admin(f"/uploads/{upload['media_id_string']}/media").content == b"abcdef"
    assert "image_type='image/png' w=300" in run("python", python, mock)


def test_api_v2_examples(mock):
    # The shell blocks share variables, as a reader pastes them into one terminal.
    shell = "\n".join(code for kind, code in API_V2 if kind == "sh")
    output = run("sh", shell, mock)
    assert '"associated_metadata":{"alt_text":{"text":"A cat"}}' in output
    assert '{"infer_v2_segment_index":true}' in output
    assert [rule["match"] for rule in mock.admin("/rate-limits").json()["rate_limits"] if rule["limit"] == 5] == [
        {"api": "v2", "command": "APPEND"}]
    outputs = [run("python", code, mock) for kind, code in API_V2 if kind == "python"]
    assert outputs[0].strip() == "pending"
    assert outputs[1].strip().endswith("{'h': 200, 'image_type': 'image/png', 'w': 300}")
