"""``benchmarks/demo_reproducible.py``'s comparison: run folders differ only in their own path."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("demo_reproducible", REPO / "benchmarks" / "demo_reproducible.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(root: Path, loss: float, seconds: float) -> None:
    (root / "eval").mkdir(parents=True)
    (root / "eval" / "m.json").write_text(json.dumps({"video": f"{root}/gen/a.mp4", "loss": loss, "seconds": seconds}))
    (root / "eval" / "t.csv").write_text(f"video,rot_err,wall_s\n{root}/gen/a.mp4,{loss},{seconds}\n")
    (root / "eval" / "t.md").write_text(f"| {root}/gen/a.mp4 | {loss} |\n")
    (root / "logs").mkdir()
    (root / "logs" / "x.json").write_text(json.dumps({"loss": seconds}))


def test_runs_that_differ_in_their_folder_and_timings_only_are_the_same(tmp_path):
    compare = _script().compare
    _run(tmp_path / "run1", 0.5, 1.0)
    _run(tmp_path / "run2", 0.5, 2.0)
    assert compare(tmp_path / "run1", tmp_path / "run2") == []


def test_a_changed_value_differs_in_every_format(tmp_path):
    compare = _script().compare
    _run(tmp_path / "run1", 0.5, 1.0)
    _run(tmp_path / "run2", 0.25, 1.0)
    assert compare(tmp_path / "run1", tmp_path / "run2") == ["eval/m.json", "eval/t.csv", "eval/t.md"]
