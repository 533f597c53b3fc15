"""The paper's linearity figures from result files (matplotlib, Agg backend, PNG).

* **Fig. 6** (:func:`plot_correlation_vs_step`): Pearson r between S and the measured magnitude
  against the training step, one line per control type (e.g. scaling token vs adapter scale),
  from the linearity JSONs of a series of checkpoints (their ``label`` and ``step`` keys).
* **Fig. 10** (:func:`plot_magnitude_vs_scale`): the measured magnitude of every video against
  S, with its least-squares line and r, one series per linearity JSON (its per-video CSV).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from lionlora.errors import InputError
from lionlora.eval.quality.motion import per_video_path
from lionlora.plots import finish, new_axes
from lionlora.records.linearity import LinearityResult
from lionlora.records.linearity_tables import PerVideoMagnitudes


def read_result(path: str | Path) -> dict:
    """A linearity JSON (``eval motion`` / ``eval camera-linearity``) with its path recorded."""
    path = Path(path)
    data = LinearityResult.read(path).complete(path).to_json()
    return {**data, "_path": path, "label": data.get("label") or path.parent.name}


def plot_correlation_vs_step(results: list[str | Path], out: str | Path, title: str | None = None) -> Path:
    """Fig. 6: Pearson r against training step, one line per label.

    Raises:
        InputError: a result without an integer ``step``.
    """
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for path in results:
        r = read_result(path)
        if not isinstance(r.get("step"), int):
            raise InputError(r["_path"], "step", "the training step (eval motion --step N)", got=r.get("step"))
        series[r["label"]].append((r["step"], float(r["pearson_r"])))
    if not series:
        raise InputError("figures", "inputs", "at least one linearity result")
    fig, ax = new_axes((5.0, 3.6), dpi=150)
    for label, points in sorted(series.items()):
        steps, rs = zip(*sorted(points))
        ax.plot(steps, rs, marker="o", label=label)
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.set_ylim(-1.05, 1.05)
    return finish(
        fig,
        ax,
        "training step",
        "Pearson r (S vs magnitude)",
        title or "Linearity of motion control vs training step",
        out,
    )


def plot_magnitude_vs_scale(results: list[str | Path], out: str | Path, title: str | None = None) -> Path:
    """Fig. 10: measured magnitude against S with the fitted line, one series per result."""
    if not results:
        raise InputError("figures", "inputs", "at least one linearity result")
    fig, ax = new_axes((5.0, 3.6), dpi=150)
    ylabel = None
    for path in results:
        r = read_result(path)
        csv = r["_path"].parent / r.get("per_video", per_video_path(r["_path"]).name)
        df = PerVideoMagnitudes.read(csv).ok()
        points = ax.scatter(df["scale"], df["magnitude"], s=14, alpha=0.8)
        xs = np.linspace(float(df["scale"].min()), float(df["scale"].max()), 2)
        ax.plot(
            xs,
            r["slope"] * xs + r["intercept"],
            color=points.get_facecolor()[0],
            label=f"{r['label']} (r = {r['pearson_r']:.3f}, n = {r['n']})",
        )
        ylabel = ylabel or f"{r.get('magnitude', 'magnitude')} [{r.get('units', '')}]"
    return finish(fig, ax, "scaling value S", ylabel, title or "Magnitude vs scaling value", out)
