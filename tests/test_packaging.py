"""One import root (issue 15): everything installs under ``lionlora``, nothing top-level named
``eval`` or ``pipelines``; checked on the built wheel and on the editable install."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def python(args, cwd, site: Path | None = None):
    """``python ARGS`` in ``cwd``; with ``site``, the wheel installed there shadows the editable install."""
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.fixture
def research_folder(tmp_path) -> Path:
    """A folder holding its own ``eval.py`` and ``pipelines.py``, which fail loudly when imported."""
    for name in ("eval", "pipelines"):
        (tmp_path / f"{name}.py").write_text(f"raise ImportError('the research folder {name}.py was imported')\n")
    return tmp_path


@pytest.mark.parametrize("install", ["editable", "wheel"])
def test_help_from_a_research_folder(install, research_folder, request):
    site = request.getfixturevalue("wheel_site") if install == "wheel" else None
    out = python(["-m", "lionlora", "--help"], research_folder, site)
    assert out.returncode == 0, out.stderr
    assert "research folder" not in out.stderr
    for name in ("pairs", "eval", "lora"):
        assert name in out.stdout
    # the subcommands that import the pipelines and eval packages load too
    for command in (["filter", "--help"], ["eval", "camera", "--help"], ["pairs", "--help"]):
        sub = python(["-m", "lionlora", *command], research_folder, site)
        assert sub.returncode == 0, sub.stderr


@pytest.mark.parametrize("install", ["editable", "wheel"])
def test_no_generic_top_level_packages(install, tmp_path, request):
    site = request.getfixturevalue("wheel_site") if install == "wheel" else None
    code = (
        "import importlib.util, lionlora, lionlora.pipelines, lionlora.eval\n"
        "print(importlib.util.find_spec('pipelines'), importlib.util.find_spec('eval'))\n"
        "print(lionlora.__file__)\n"
        "print(lionlora.pipelines.__file__)\n"
    )
    out = python(["-c", code], tmp_path, site)
    assert out.returncode == 0, out.stderr
    specs, root, pipelines = out.stdout.splitlines()
    assert specs == "None None"
    if install == "wheel":
        assert Path(root).is_relative_to(site) and Path(pipelines) == site / "lionlora/pipelines/__init__.py"
    else:
        assert Path(root) == REPO / "lionlora/__init__.py" and Path(pipelines) == REPO / "pipelines/__init__.py"


def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"lionlora", "lionlora-0.1.0.dist-info"}
    assert "lionlora/pipelines/pairs/manifest.py" in names
    assert "lionlora/pipelines/gaussians/train.py" in names
    assert "lionlora/eval/camera/tables.py" in names
    assert "lionlora/eval/quality/fvd.py" in names
    assert "lionlora/eval/data/paper_tables.json" in names  # package data
    assert not any(name.startswith(("eval/", "pipelines/", "tests/", "workflow/")) for name in names)
    top_level = [n for n in names if n.endswith("top_level.txt")]
    if top_level:
        assert zipfile.ZipFile(wheel).read(top_level[0]).decode().split() == ["lionlora"]


def source_packages() -> set[str]:
    """Every folder with an ``__init__.py`` under the folders of ``package-dir``, as its dotted name."""
    found = set()
    for package, folder in pyproject()["tool"]["setuptools"]["package-dir"].items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder)
            found.add(".".join([package, *rel.parts]))
    return found


def test_packages_list_covers_every_package():
    listed = pyproject()["tool"]["setuptools"]["packages"]
    assert len(listed) == len(set(listed))
    assert set(listed) == source_packages()


def test_package_data_in_the_wheel(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = [p for p in (REPO / "eval").rglob("*") if p.suffix in {".json", ".csv", ".yaml"} and p.is_file()]
    assert data
    for path in data:
        assert f"lionlora/eval/{path.relative_to(REPO / 'eval').as_posix()}" in names


def test_citation_file():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "type", "version", "license"):
        assert cff[key], key
    project = pyproject()["project"]
    assert str(cff["version"]) == project["version"] and cff["license"] == project["license"]
    (paper,) = cff["references"]
    assert paper["type"] == "article" and paper["year"] == 2025
    assert paper["title"].startswith("LiON-LoRA: Rethinking LoRA Fusion to Unify Controllable Spatial and Temporal")
    assert [a["family-names"] for a in paper["authors"]] == ["Zhang", "Cao", "Yu", "Zhu"]
    for person in [*cff["authors"], *paper["authors"]]:
        assert "name" in person or {"family-names", "given-names"} <= set(person)
