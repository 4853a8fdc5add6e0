"""docs/configuration.md: every JSON example in it starts the server as written, pasted into a
file at the top of a checkout (relative paths are taken from the file's directory)."""
import json
import os
import re
import shutil
import subprocess

import pytest
import requests

from conftest import BINARY, FIXTURES, REPO, MockServer

EXAMPLES = re.findall(r"```json\n(.*?)```", (REPO / "docs" / "configuration.md").read_text(), re.S)


def test_the_page_has_its_examples():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("number", range(len(EXAMPLES)))
def test_each_example_starts_the_server(tmp_path, number):
    config = json.loads(EXAMPLES[number])
    shutil.copytree(FIXTURES / "tls", tmp_path / "Fixtures" / "tls")
    config_file = tmp_path / "mock.json"
    config_file.write_text(EXAMPLES[number])
    server = MockServer(tmp_path, args=["--config", str(config_file)])
    try:
        verify = str(FIXTURES / "tls" / "ca.pem") if "tls" in config else True
        health = requests.get(server.url("/__admin/health"), verify=verify, timeout=5)
        assert health.status_code == 200, health.text
    finally:
        assert server.stop() == 0, server.stderr_text()


def test_the_environment_example_runs_as_written(tmp_path):
    """docs/configuration.md, Environment: the shell example, with the built binary for scripts/run."""
    text = (REPO / "docs" / "configuration.md").read_text().split("\n## Environment\n", 1)[1]
    [example] = re.findall(r"```sh\n(.*?)```", text, re.S)
    script = example.replace("scripts/run", str(BINARY))
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=REPO, capture_output=True, text=True,
                            timeout=60, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == '"vector_kernel":"scalar"\n'
