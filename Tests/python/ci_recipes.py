"""The recipes of docs/ci.md: each fenced block right after a `<!-- recipe: NAME -->` line."""
import re
from pathlib import Path

CI_DOC = Path(__file__).resolve().parents[2] / "docs" / "ci.md"

# Where each recipe is run; a recipe added to docs/ci.md without a test fails test_every_recipe_is_run.
RUN_BY_SCRIPTS_TEST = {"curl", "node", "node-mock-agent", "pytest"}
RUN_BY_TEST_PACKAGE = {"github-tarball", "github-wheel"}
# Needs a Docker daemon, or the npm registry (only parsed), which this project's machines lack.
NOT_RUN = {"github-service", "node-twitter-api-v2"}


def recipes():
    text = CI_DOC.read_text()
    found = re.findall(r"<!-- recipe: ([\w-]+) -->\n```\w*\n(.*?)\n```\n", text, re.S)
    names = [name for name, _ in found]
    assert len(names) == len(set(names)), f"recipe names repeat in {CI_DOC}: {names}"
    assert text.count("<!-- recipe:") == len(found), "a recipe marker is not directly followed by a code block"
    return {name: body + "\n" for name, body in found}
