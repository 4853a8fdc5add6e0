"""docs/ci.md's curl, Node and pytest recipes, run exactly as written against the built server."""
import os
import subprocess
import sys

from ci_recipes import NOT_RUN, RUN_BY_SCRIPTS_TEST, RUN_BY_TEST_PACKAGE, recipes
from conftest import BINARY, REPO

RECIPES = recipes()


def environment(tmp_path, **extra):
    """PATH with `twitter-upload-mock` on it, as the tarball or the wheel would put it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "twitter-upload-mock").exists():
        (bin_dir / "twitter-upload-mock").symlink_to(BINARY)
    base = {k: v for k, v in os.environ.items() if k not in ("UPLOAD_MOCK_URL", "TWITTER_UPLOAD_MOCK_BIN")}
    return {**base, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **extra}


def run(command, tmp_path, **extra):
    return subprocess.run(command, cwd=tmp_path, env=environment(tmp_path, **extra), capture_output=True,
                          text=True, timeout=120)


def test_every_recipe_is_run():
    assert set(RECIPES) == RUN_BY_SCRIPTS_TEST | RUN_BY_TEST_PACKAGE | NOT_RUN


def test_curl_recipe_starts_its_own_server(tmp_path):
    (tmp_path / "upload-smoke.sh").write_text(RECIPES["curl"])
    result = run(["sh", "upload-smoke.sh"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "arrived byte for byte" in result.stdout


def test_curl_recipe_against_a_running_server(tmp_path, mock):
    (tmp_path / "upload-smoke.sh").write_text(RECIPES["curl"])
    result = run(["sh", "upload-smoke.sh"], tmp_path, UPLOAD_MOCK_URL=mock.base_url)
    assert result.returncode == 0, result.stdout + result.stderr
    [upload] = mock.admin("/uploads").json()["uploads"]
    assert (upload["state"], upload["total_bytes"]) == ("finalized", 300_000)


def test_curl_recipe_fails_loudly_on_a_refused_segment(tmp_path, mock):
    mock.admin("/faults", method="POST", json={"match": {"command": "APPEND", "segment_index": 1},
                                                "action": {"status": 503}, "times": 1})
    (tmp_path / "upload-smoke.sh").write_text(RECIPES["curl"])
    result = run(["sh", "upload-smoke.sh"], tmp_path, UPLOAD_MOCK_URL=mock.base_url)
    assert result.returncode != 0


def test_node_recipe(tmp_path):
    (tmp_path / "upload.test.mjs").write_text(RECIPES["node"])
    result = run(["node", "--test", "upload.test.mjs"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# pass 1" in result.stdout and "# fail 0" in result.stdout


def test_pytest_recipe_with_the_plugin_from_source(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_upload.py").write_text(RECIPES["pytest"])
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "twitter_upload_mock.plugin",
                  "tests"], tmp_path, PYTHONPATH=str(REPO / "python" / "src"), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
