"""What a user installs: the sdist and the wheel built from it carry every module, template and
static file a build reads, and ``python -m aevis`` is the ``aevis`` command.

(CI goes further: it installs the wheel into a fresh environment and builds a gallery with it.)
"""

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import aevis
from aevis.site import html, urls

ROOT = Path(__file__).resolve().parent.parent


def test_the_sdist_and_the_wheel_built_from_it_carry_the_templates_and_every_module(tmp_path):
    subprocess.run(
        [sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_sdist({str(tmp_path)!r})"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    [sdist] = tmp_path.glob("aevis-*.tar.gz")
    templates = sorted(path.name for path in (ROOT / "templates").iterdir())
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        assert {f"{top}/templates/{name}" for name in templates} <= set(archive.getnames())

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(tmp_path), str(sdist)],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("aevis-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(f"aevis-{aevis.__version__}.dist-info/entry_points.txt").decode()
    assert {f"aevis/templates/{name}" for name in templates} <= names
    assert {f"aevis/templates/{Path(path).name}" for path in urls.STATIC_FILES} <= names
    modules = {path.relative_to(ROOT).as_posix() for path in (ROOT / "aevis").rglob("*.py")}
    assert modules <= names and "aevis/__main__.py" in modules
    assert "aevis = aevis.cli:main" in entry_points


def test_the_templates_are_found_in_the_source_tree_when_not_installed():
    assert html.TEMPLATES == ROOT / "templates"
    assert (html.TEMPLATES / "index.html").is_file()


def test_python_dash_m_aevis_is_the_aevis_command():
    shown = subprocess.run([sys.executable, "-m", "aevis", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert shown.returncode == 0 and shown.stdout.startswith("usage: aevis ")
    wrong = subprocess.run([sys.executable, "-m", "aevis", "--pages", "none"], cwd=ROOT, capture_output=True, text=True)
    assert wrong.returncode == 2 and "aevis: error: argument --pages" in wrong.stderr
