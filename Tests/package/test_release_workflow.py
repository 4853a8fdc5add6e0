""".github/workflows/release.yml, its shell steps run here with scripts/package's artifacts.

GitHub, PyPI and a Docker daemon are out of reach, so the actions (checkout, artifacts, the
PyPI upload, the registry login and image build) are not run: each job's `uses:` steps are
named below, and the test fails if one appears that is not. Every `run:` step is run in bash
as GitHub would (the job's env, RUNNER_TEMP, GITHUB_ENV), but the two that prepare and run
the whole of CI (`apt-get install`, `.ci/run`, which scripts/test-package's caller is already
running) and `gh`, which only records its arguments here.
"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DIST = Path(os.environ["TWITTER_UPLOAD_MOCK_DIST"])
WORKFLOW = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text())
VERSION = (REPO / "VERSION").read_text().strip()
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ACTIONS = {
    "build": ["actions/checkout@v4", "actions/upload-artifact@v4"],
    "pypi": ["actions/download-artifact@v4", "pypa/gh-action-pypi-publish@release/v1"],
    "github-release": ["actions/download-artifact@v4"],
    "image": ["actions/checkout@v4", "docker/login-action@v3", "docker/build-push-action@v6"],
}
NOT_RUN_HERE = {"Python with pip and venv, which the Swift image lacks": "apt-get update -qq",
                "What CI runs": ".ci/run"}


def steps(job):
    return WORKFLOW["jobs"][job]["steps"]


def run_step(job, name, workspace, tmp_path, **env):
    [step] = [s for s in steps(job) if s.get("name") == name]
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    github_env = runner_temp / "github-env"
    github_env.write_text("")
    environment = {"HOME": os.environ["HOME"], "LANG": "C.UTF-8", "PATH": SYSTEM_PATH, "CI": "true",
                   "RUNNER_TEMP": str(runner_temp), "GITHUB_ENV": str(github_env), "GITHUB_REF_NAME": f"v{VERSION}",
                   "GITHUB_REPOSITORY": "Your-Org/Twitter-Upload-Mock", **step.get("env", {}), **env}
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=workspace,
                            env=environment, capture_output=True, text=True, timeout=60)
    return result, dict(line.split("=", 1) for line in github_env.read_text().splitlines())


@pytest.fixture
def checkout(tmp_path):
    """What actions/checkout gives the build job, with CHANGELOG.md dated as for a release,
    and dist/ as .ci/run (scripts/package) leaves it."""
    workspace = tmp_path / "checkout"
    workspace.mkdir()
    for name in ("VERSION", "scripts"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, workspace / name)
    changelog = (REPO / "CHANGELOG.md").read_text()
    (workspace / "CHANGELOG.md").write_text(changelog.replace(f"## {VERSION} (unreleased)", f"## {VERSION} (2027-01-15)"))
    shutil.copytree(DIST, workspace / "dist")
    return workspace


def test_every_step_is_run_here_or_named_as_not():
    for job, actions in ACTIONS.items():
        assert [s["uses"] for s in steps(job) if "uses" in s] == actions, job
    runs = {s["name"]: s["run"] for job in ACTIONS for s in steps(job) if "run" in s}
    for name, command in NOT_RUN_HERE.items():
        assert runs[name].startswith(command), name
    assert runs["What CI runs"].strip() == ".ci/run", "the release runs exactly what CI runs"
    assert WORKFLOW[True] == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+"]}}
    assert WORKFLOW["jobs"]["pypi"]["permissions"] == {"id-token": "write"} and WORKFLOW["jobs"]["pypi"]["environment"] == "pypi"
    assert all(WORKFLOW["jobs"][job]["needs"] == "build" for job in ("pypi", "github-release", "image"))


def test_build_job_checks_the_tag_and_the_changelog_then_gathers_the_release(checkout, tmp_path):
    refused, _ = run_step("build", "The tag names VERSION", checkout, tmp_path, GITHUB_REF_NAME="v9.9.9")
    assert refused.returncode == 1 and f"tag v9.9.9 is not v{VERSION} (VERSION)" in refused.stderr
    assert run_step("build", "The tag names VERSION", checkout, tmp_path)[0].returncode == 0

    notes, _ = run_step("build", "Release notes from CHANGELOG.md", checkout, tmp_path)
    assert notes.returncode == 0, notes.stderr
    written = (tmp_path / "runner-temp" / "release-notes.md").read_text()
    assert written.startswith("The first version to be published.") and "## " not in written.split("### ", 1)[0]

    gathered, _ = run_step("build", "The release's files", checkout, tmp_path)
    assert gathered.returncode == 0, gathered.stderr
    files = sorted(path.name for path in (checkout / "release").iterdir())
    assert files[0] == "release-notes.md" and files[1] == f"twitter-upload-mock-{VERSION}-linux-x86_64.tar.gz"
    assert files[2].startswith(f"twitter_upload_mock-{VERSION}-py3-none-manylinux_") and len(files) == 3


def test_an_undated_changelog_stops_the_release(checkout, tmp_path):
    (checkout / "CHANGELOG.md").write_text((REPO / "CHANGELOG.md").read_text())
    result, _ = run_step("build", "Release notes from CHANGELOG.md", checkout, tmp_path)
    assert result.returncode == 1 and f"still calls {VERSION} unreleased" in result.stderr


def release_directory(checkout, tmp_path):
    run_step("build", "Release notes from CHANGELOG.md", checkout, tmp_path)
    run_step("build", "The release's files", checkout, tmp_path)
    downloaded = tmp_path / "downloaded"  # what actions/download-artifact puts in a fresh job
    downloaded.mkdir()
    shutil.copytree(checkout / "release", downloaded / "release")
    return downloaded


def test_pypi_gets_the_wheel_alone(checkout, tmp_path):
    downloaded = release_directory(checkout, tmp_path)
    result, _ = run_step("pypi", "Only the wheel goes to PyPI", downloaded, tmp_path)
    assert result.returncode == 0, result.stderr
    [wheel] = (downloaded / "pypi").iterdir()
    assert wheel.name.startswith(f"twitter_upload_mock-{VERSION}-") and wheel.suffix == ".whl"
    assert WORKFLOW["jobs"]["pypi"]["steps"][-1]["with"] == {"packages-dir": "pypi/"}


def test_the_github_release_carries_the_tarball_the_wheel_and_the_notes(checkout, tmp_path):
    downloaded = release_directory(checkout, tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$GH_ARGUMENTS"\n')
    (bin_dir / "gh").chmod(0o755)
    arguments = tmp_path / "gh-arguments"
    result, _ = run_step("github-release", "The GitHub release, with the tarball and the wheel", downloaded, tmp_path,
                         PATH=f"{bin_dir}:{SYSTEM_PATH}", GH_ARGUMENTS=str(arguments))
    assert result.returncode == 0, result.stderr
    sent = arguments.read_text().splitlines()
    assert sent[:3] == ["release", "create", f"v{VERSION}"] and "--verify-tag" in sent
    assert sent[sent.index("--title") + 1] == f"twitter-upload-mock {VERSION}"
    assert (downloaded / sent[sent.index("--notes-file") + 1]).read_text().startswith("The first version")
    assert sorted(Path(a).name for a in sent if a.startswith("release/") and not a.endswith(".md")) == sorted(
        p.name for p in (downloaded / "release").iterdir() if p.suffix != ".md")


def test_the_image_is_tagged_with_the_version_in_lowercase(checkout, tmp_path):
    result, env = run_step("image", "The image's name and tags", checkout, tmp_path)
    assert result.returncode == 0, result.stderr
    assert env["IMAGE_TAGS"] == f"ghcr.io/your-org/twitter-upload-mock:{VERSION},ghcr.io/your-org/twitter-upload-mock:latest"
    assert steps("image")[-1]["with"] == {"context": ".", "push": True, "tags": "${{ env.IMAGE_TAGS }}"}
