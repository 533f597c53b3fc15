"""Figures of ``benchmark run``: camera paths per sample, RotErr/TransErr bars per primitive.

* ``figures/paths/{sample}.png``: per method (one column each, the noise floor first), the
  recovered camera centres after the least-squares Sim(3) alignment onto the ground truth's
  centres of the same frames, over the ground truth; top view (x, z) above, side view (z, -y)
  below, in the ground truth's world frame (OpenCV axes: y down, so -y is up).
* ``figures/primitives.png``: per primitive, the mean RotErr and TransErr of each method over its
  successful videos with a 95% bootstrap CI, side by side; the paper's Table 1/2 rows at the right.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from lionlora.errors import LionLoraError
from lionlora.eval.camera.tables import PAPER_TABLE_OF_SPLIT, bootstrap_ci
from lionlora.geometry import umeyama
from lionlora.io.cameras_json import read_cameras
from lionlora.io.files import read_json
from lionlora.plots import new_axes, save_figure

from .scoring import RESULT, VideoTask

log = logging.getLogger(__name__)


def aligned_path(folder: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """Ground-truth centres ``[n, 3]`` and recovered centres aligned onto them ``[m, 3]`` (registered
    frames), from a result folder; None when there is nothing to draw."""
    try:
        gt = read_cameras(folder / "gt_cameras.json").centers
        pred = read_cameras(folder / "cameras.json")
        result = read_json(folder / RESULT)
    except LionLoraError:
        return None
    idx = result.get("benchmark", {}).get("registered_frames") or pred.metadata.get("registered_frames")
    if not idx or len(idx) < 3:
        return None
    try:
        sim = umeyama(pred.centers, gt[idx])
    except LionLoraError:  # a recovered path that does not move
        return None
    return gt, sim.apply(pred.centers)


def plot_sample_paths(sample: str, tasks: list[VideoTask], path: Path) -> Path | None:
    """One column per method: top and side views of the aligned recovered path over the ground truth."""
    panels = [(t.method, aligned_path(t.folder)) for t in tasks if t.video is not None]
    panels = [(m, p) for m, p in panels if p is not None]
    if not panels:
        return None
    fig, axes = new_axes(figsize=(3.2 * len(panels), 5.6), nrows=2, ncols=len(panels), squeeze=False)
    for col, (method, (gt, pred)) in enumerate(panels):
        for row, (i, j, labels) in enumerate([(0, 2, ("x", "z")), (2, 1, ("z", "-y"))]):
            ax = axes[row, col]
            sign = -1.0 if labels[1] == "-y" else 1.0
            ax.plot(gt[:, i], sign * gt[:, j], "k-", lw=1.5, label="ground truth")
            ax.plot(pred[:, i], sign * pred[:, j], "o-", ms=2, lw=1, color="tab:red", label="recovered (aligned)")
            ax.plot(gt[0, i], sign * gt[0, j], "ks", ms=4)
            ax.set_aspect("equal", adjustable="datalim")
            ax.set_xlabel(labels[0])
            ax.set_ylabel(labels[1])
            ax.grid(alpha=0.3)
            ax.set_title(f"{method}: {'top' if row == 0 else 'side'}", fontsize=9)
    axes[0, 0].legend(fontsize=7, frameon=False)
    fig.suptitle(sample, fontsize=10)
    return save_figure(fig, path)


def _bar_values(rows: list[dict], key: str, methods: list[str], primitives: list[str]) -> np.ndarray:
    """``[method, primitive, 3]``: mean, CI low, CI high (NaN without successful videos)."""
    out = np.full((len(methods), len(primitives), 3), np.nan)
    for a, m in enumerate(methods):
        for b, p in enumerate(primitives):
            vals = np.array([r[key] for r in rows if r["method"] == m and r["primitive"] == p and r["status"] == "ok"])
            if len(vals):
                lo, hi = bootstrap_ci(vals, 2000, 0.95, np.random.default_rng(0))
                out[a, b] = (vals.mean(), lo, hi)
    return out


def plot_primitive_bars(rows: list[dict], paper: dict, path: Path) -> Path:
    """RotErr and TransErr per primitive, methods side by side with CIs, the paper's rows at the right."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    primitives = sorted({r["primitive"] for r in rows}, key=lambda p: ("+" in p, p))
    fig, axes = new_axes(figsize=(max(7.0, 1.1 * len(primitives) + 4), 7), nrows=2, ncols=1, squeeze=False)
    width = 0.8 / max(1, len(methods))
    for ax, (key, label) in zip(axes[:, 0], [("rot_err", "RotErr"), ("trans_err", "TransErr")]):
        vals = _bar_values(rows, key, methods, primitives)
        x = np.arange(len(primitives))
        for a, m in enumerate(methods):
            mean, lo, hi = vals[a, :, 0], vals[a, :, 1], vals[a, :, 2]
            err = np.nan_to_num(np.stack([mean - lo, hi - mean]))
            ax.bar(x + (a - (len(methods) - 1) / 2) * width, np.nan_to_num(mean), width, yerr=err, capsize=2, label=m)
        ticks, names = list(x), list(primitives)
        for split, table_key in PAPER_TABLE_OF_SPLIT.items():
            table = paper["tables"][table_key]
            pos = len(ticks)
            paper_rows = [r for r in table["rows"] if key in r]
            pw = 0.8 / max(1, len(paper_rows))
            for k, r in enumerate(paper_rows):
                ax.bar(pos + (k - (len(paper_rows) - 1) / 2) * pw, r[key], pw, color="0.75", edgecolor="0.4")
                ax.text(
                    pos + (k - (len(paper_rows) - 1) / 2) * pw,
                    r[key],
                    r["method"].split(" [")[0],
                    rotation=90,
                    fontsize=5,
                    ha="center",
                    va="bottom",
                )
            ticks.append(pos)
            names.append(f"paper {split}")
        ax.set_xticks(ticks)
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=7)
        ax.set_ylabel(f"{label} (mean, 95% CI)")
        ax.grid(alpha=0.3, axis="y")
    axes[0, 0].legend(fontsize=7, frameon=False)
    axes[0, 0].set_title("Camera errors per primitive; grey: the paper's Tables 1-2 (its reduction)")
    return save_figure(fig, path)


def write_figures(rows: list[dict], summary: list[dict], tasks: list[VideoTask], out: Path, paper: dict) -> list[Path]:
    """Every figure of a run; returns the paths written."""
    from tqdm.auto import tqdm

    by_sample: dict[str, list[VideoTask]] = {}
    for t in tasks:
        by_sample.setdefault(t.sample, []).append(t)
    paths = [plot_primitive_bars(rows, paper, out / "primitives.png")]
    for sample, group in tqdm(sorted(by_sample.items()), desc="figures", unit="sample"):
        p = plot_sample_paths(sample, group, out / "paths" / f"{sample}.png")
        if p is not None:
            paths.append(p)
    return paths
