"""The JavaScript in ``templates/``: every script parses (``node --check``), the unit tests of its
pure functions pass (``node --test`` runs ``tests/templates/*.test.js``), and what it shares with
Python agrees. Node comes from Debian's ``nodejs`` package (.ci/run installs it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from aevis.site import urls
from aevis.site.set_pages import similarity_percent

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
NODE = shutil.which("node")

# Skipped on a desk without Node; in CI (CI=true), where .ci/run installs it, never.
pytestmark = pytest.mark.skipif(
    NODE is None and not os.environ.get("CI"), reason="Node.js is not installed (apt-get install nodejs)"
)


def _node(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([NODE, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("script", sorted(path.name for path in TEMPLATES.glob("*.js")))
def test_every_script_parses(script):
    result = _node("--check", str(TEMPLATES / script))
    assert result.returncode == 0, result.stderr


def test_the_unit_tests_of_the_pure_functions_pass():
    tests = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "tests" / "templates").glob("*.test.js"))
    assert len(tests) >= 5
    result = _node("--test", *tests)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


def test_the_map_page_loads_every_map_script_the_templates_hold():
    listed = {Path(path).name for path in urls.MAP_HELPER_SCRIPTS} | {Path(urls.MAP_SCRIPT).name}
    assert listed == {path.name for path in TEMPLATES.glob("map*.js")}
    assert set(urls.STATIC_FILES) >= {*urls.MAP_HELPER_SCRIPTS, urls.MAP_SCRIPT, urls.DUPLICATES_SCRIPT}


def test_the_maps_percentages_are_the_pages(tmp_path):
    """map-card.js prints similarities as the image pages do (set_pages.similarity_percent)."""
    values = [
        -0.004,
        0,
        0.5,
        0.98999,
        0.99,
        0.995,
        0.9994999,
        0.99949,
        0.99995,
        0.999951,
        0.99999999,
        1,
        1.0000001,
        0.123456,
        0.99999,
        0.9999,
        0.999,
    ]
    script = (
        "const tools = require('./templates/map-tools.js');"
        f"console.log(JSON.stringify({json.dumps(values)}.map(tools.similarityPercent)));"
    )
    result = _node("-e", script)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [similarity_percent(value) for value in values]
