"""docs/ci.md's GitHub Actions recipes, their steps run here with scripts/package's artifacts.

A small runner plays GitHub's part: each `run:` step in bash with the job's env, RUNNER_TEMP,
GITHUB_PATH and GITHUB_ENV; `actions/checkout` is the workspace laid out beforehand,
`actions/setup-python` a fresh virtualenv. MOCK_DIST, the one line a team edits, points at
dist/ through a file:// URL. PATH holds only system directories: no swift, no .build.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from ci_recipes import recipes  # noqa: E402

DIST = Path(os.environ["TWITTER_UPLOAD_MOCK_DIST"])
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RECIPES = recipes()


def run_workflow(workflow_text, workspace):
    """Runs the single job's steps in order; returns their combined output, fails on the first error."""
    workflow = yaml.safe_load(workflow_text)
    [job] = workflow["jobs"].values()
    runner_temp = Path(tempfile.mkdtemp(prefix="runner-temp-", dir=workspace.parent))
    env = {"HOME": os.environ["HOME"], "LANG": "C.UTF-8", "PATH": SYSTEM_PATH, "CI": "true",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "RUNNER_TEMP": str(runner_temp),
           "GITHUB_WORKSPACE": str(workspace), **{k: str(v) for k, v in job.get("env", {}).items()},
           "MOCK_DIST": DIST.as_uri()}
    output = []
    for step in job["steps"]:
        if "uses" in step:
            action = step["uses"].split("@")[0]
            if action == "actions/setup-python":
                venv = runner_temp / "python"
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
                env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
            else:
                assert action == "actions/checkout", f"the runner does not know {step['uses']}"
            continue
        github_path, github_env = runner_temp / "github-path", runner_temp / "github-env"
        github_path.write_text("")
        github_env.write_text("")
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=workspace,
                                env={**env, "GITHUB_PATH": str(github_path), "GITHUB_ENV": str(github_env)},
                                capture_output=True, text=True, timeout=300)
        output.append(result.stdout + result.stderr)
        assert result.returncode == 0, f"step {step.get('name', step['run'])!r} failed:\n{result.stdout}{result.stderr}"
        for line in github_path.read_text().splitlines():
            env["PATH"] = f"{line}:{env['PATH']}"
        for line in github_env.read_text().splitlines():
            name, _, value = line.partition("=")
            env[name] = value
    return "\n".join(output)


def test_tarball_workflow(tmp_path):
    workspace = tmp_path / "repo"
    workspace.mkdir()
    (workspace / "upload-smoke.sh").write_text(RECIPES["curl"])
    (workspace / "upload.test.mjs").write_text(RECIPES["node"])
    output = run_workflow(RECIPES["github-tarball"], workspace)
    assert "arrived byte for byte" in output and "# pass 1" in output and "# fail 0" in output


def test_wheel_workflow(tmp_path):
    workspace = tmp_path / "repo"
    (workspace / "tests").mkdir(parents=True)
    (workspace / "tests" / "test_upload.py").write_text(RECIPES["pytest"])
    output = run_workflow(RECIPES["github-wheel"], workspace)
    assert "2 passed" in output


def test_the_workflows_name_the_artifacts_scripts_package_built():
    built = {path.name for path in DIST.iterdir()}
    for name in ("github-tarball", "github-wheel"):
        workflow = yaml.safe_load(RECIPES[name])
        [job] = workflow["jobs"].values()
        text = RECIPES[name].replace("$MOCK_VERSION", str(job["env"].get("MOCK_VERSION", "")))
        named = {word.split("/")[-1].strip('"') for word in text.split() if word.strip('"').endswith((".whl", ".tar.gz"))}
        assert named and named <= built, f"{name} names {named}, dist/ has {built}"
