"""Layering enforced (issue 15): import-linter's contracts in pyproject.toml, on the installed wheel.

grimp finds submodules by walking the package's folder; in the editable install ``lionlora.pipelines``
and ``lionlora.eval`` live in other folders and would be invisible, so the wheel is checked instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def lint_imports(site: Path, config: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("lint-imports not installed: pip install -e '.[test]'")
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run([exe, "--no-cache", str(config)], cwd=site, env=env, capture_output=True, text=True)


def test_contracts_kept(wheel_site):
    out = lint_imports(wheel_site, REPO / "pyproject.toml")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in out.stdout


def test_contract_lists_every_top_level_module():
    """The layers contract is exhaustive: a new module must be given its layer."""
    (layers,) = [
        c
        for c in tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
        if c["type"] == "layers"
    ]
    listed = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    here = {p.stem for p in (REPO / "lionlora").glob("*.py") if p.stem != "__init__"}
    here |= {p.parent.name for p in (REPO / "lionlora").glob("*/__init__.py")}
    assert listed == here | {"pipelines", "eval"}


def test_a_violation_is_caught(wheel_site, tmp_path):
    """The check can fail: an upward import (a primitive importing the command line) breaks it."""
    site = tmp_path / "site"
    shutil.copytree(wheel_site, site)
    with (site / "lionlora" / "scaling.py").open("a") as f:
        f.write("\nimport lionlora.cli  # noqa\n")
    out = lint_imports(site, REPO / "pyproject.toml")
    assert out.returncode == 1
    assert "lionlora.scaling is not allowed to import lionlora.cli" in out.stdout
