"""Tables of camera-control results against the paper's (``lionlora eval table``).

Input: ``RESULTS/<method>/`` folders holding one JSON per video written by ``lionlora eval
camera``, flat (``METHOD/VIDEO.json``) or one folder per video (``METHOD/VIDEO/*.json``; the
recovered ``cameras.json`` / ``*.cameras.json`` are skipped), and optionally the method-level files
``fvd.json`` / ``fvd_basic.json`` / ``fvd_fused.json`` (key ``fvd``) and ``motion.json`` (key
``pearson_r``). A video's split comes from its ``primitive``: a name joined with ``+`` is a fused
pose (the paper's Table 2), any other name a basic pose (Table 1); every video is in ``all``.

For every method and split the tables give, per metric:

* the **mean over successful videos** with a 95% percentile-bootstrap confidence interval of that
  mean, next to the **success rate** (videos whose SfM registered enough frames);
* a **failure-counting mean**: every failed video counts with a penalty value. ``baseline``
  (default): the mean of the no-control baseline method (``--baseline``, e.g. plain CogVideoX) over
  its successful videos of the same split; when the results hold no such method, the paper's
  no-control row (CogVideoX in Tables 1-2; CamMC has none, so it stays empty). ``worst``: the
  largest value of the metric among the successful videos of every method (noise floor excluded).

The noise-floor method (``--floor``, default ``gt``: ``eval camera`` run on the ground-truth
clips) is shown as its own row. The paper's rows are loaded from ``eval/data/paper_tables.json``.

Training-scene flags: a video named ``{scene}__{primitive}`` whose scene also trained one of the
adapters its method is scored with (:func:`training_scene_flags`, from the suite's scenes and the
adapters' recorded training scenes) is counted per row (``trained_scene_videos``) and marked with
a footnote in the Markdown: such a score measures recall of training clips, not control.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from lionlora.config import dump_config, opt
from lionlora.errors import ConfigError, InputError
from lionlora.eval.camera.metrics import METRICS
from lionlora.io.files import write_text
from lionlora.records import CameraResult, FvdResult, LinearityResult

log = logging.getLogger(__name__)

SPLITS = ("basic", "fused", "all")
FVD_FILES = {"basic": "fvd_basic.json", "fused": "fvd_fused.json"}
METHOD_FILES = ("fvd.json", "fvd_basic.json", "fvd_fused.json", "motion.json")
LABELS = {
    "rot_err": "RotErr ↓",
    "trans_err": "TransErr ↓",
    "cam_mc": "CamMC ↓",
    "ate": "ATE ↓",
    "fvd": "FVD ↓",
    "pearson_r": "Pearson r ↑",
}
PAPER_TABLE_OF_SPLIT = {"basic": "table1", "fused": "table2"}


@dataclass
class TableConfig:
    """Options of ``lionlora eval table``."""

    floor: str = opt("gt", "method folder holding the SfM noise floor (eval camera on the ground-truth clips)")
    baseline: str = opt("cogvideox", "method folder of the no-control baseline (failure penalty)")
    penalty: Literal["baseline", "worst"] = opt(
        "baseline", "value a failed video counts with in the failure-counting mean"
    )
    bootstrap: int = opt(2000, "bootstrap resamples of the confidence intervals")
    confidence: float = opt(0.95, "confidence level of the intervals")
    seed: int = opt(0, "random seed of the bootstrap")
    digits: int = opt(3, "decimals shown in the Markdown tables")

    def __post_init__(self) -> None:
        if self.bootstrap < 100:
            raise ConfigError("TableConfig", "bootstrap", "at least 100 resamples", got=self.bootstrap)
        if not 0.5 <= self.confidence < 1.0:
            raise ConfigError("TableConfig", "confidence", "a level in [0.5, 1)", got=self.confidence)
        if not 0 <= self.digits <= 8:
            raise ConfigError("TableConfig", "digits", "0 to 8 decimals", got=self.digits)


@dataclass
class MethodResults:
    """Per-video results and method-level scores of one method folder."""

    name: str
    videos: list[dict] = field(default_factory=list)
    fvd: dict[str, float] = field(default_factory=dict)  # split ('basic', 'fused', 'all') -> FVD
    fvd_comparable: bool = True  # False when an FVD used random I3D weights (comparable_to_paper: false)
    pearson_r: float | None = None


#: File of a benchmark suite listing the scenes its samples come from, one per line.
SUITE_SCENES_FILE = "scenes.txt"


def training_scene_flags(
    suite_scenes: Iterable[str], adapter_scenes: Mapping[str, Iterable[str] | None]
) -> dict[str, list[str]]:
    """Suite scenes that also trained an adapter being scored: ``{scene: [adapter names]}``.

    Args:
        suite_scenes: the scenes the suite's samples come from.
        adapter_scenes: adapter name -> the scenes its training clips came from (None: not
            recorded, e.g. a LoRA trained elsewhere; such an adapter flags nothing).
    Returns:
        Only the flagged scenes, each with the sorted names of the adapters that trained on it.
    """
    suite = set(suite_scenes)
    flags: dict[str, list[str]] = {}
    for name, scenes in sorted(adapter_scenes.items()):
        for scene in sorted(suite & set(scenes or ())):
            flags.setdefault(scene, []).append(name)
    return dict(sorted(flags.items()))


def scene_of(video: str) -> str:
    """The scene of a video or suite sample named ``{scene}__{primitive}`` (the name itself otherwise).

    Primitive names have no ``__``, so a scene name may (split at the last one).
    """
    return video.rsplit("/", 1)[-1].rsplit("__", 1)[0]


def load_paper_tables() -> dict:
    """The paper's Tables 1-3 with captions (``eval/data/paper_tables.json``)."""
    return json.loads(resources.files("lionlora.eval.data").joinpath("paper_tables.json").read_text())


def split_of(primitive: str | None) -> str | None:
    """``fused`` for names joined with ``+``, ``basic`` for others, None when unknown."""
    if not primitive:
        return None
    return "fused" if "+" in primitive else "basic"


def _read_video_result(path: Path) -> dict:
    rec = CameraResult.read(path).complete(path)
    row = {
        "file": str(path),
        "video": path.stem,
        "status": rec.status,
        "reason": str(rec.reason),
        "primitive": rec.primitive,
        "convention": rec.convention,
        "reduce": rec.reduce,
        "registered": rec.registered,
        "n_frames": rec.n_frames,
    }
    row.update({key: None if value is None else float(value) for key, value in rec.metrics().items()})
    row["split"] = split_of(row["primitive"])
    return row


def load_method(folder: Path) -> MethodResults:
    """Read a method folder: per-video JSONs and the optional FVD / motion files."""
    res = MethodResults(folder.name)
    for path in sorted(folder.rglob("*.json")):
        if path.name == "cameras.json" or path.name.endswith(".cameras.json"):
            continue
        if path.parent == folder and path.name in METHOD_FILES:
            continue
        row = _read_video_result(path)
        if path.parent != folder:  # one folder per video: the folder names the video
            row["video"] = path.parent.relative_to(folder).as_posix()
        res.videos.append(row)
    for split, name in {"all": "fvd.json", **FVD_FILES}.items():
        if (folder / name).is_file():
            fvd = FvdResult.read(folder / name)
            res.fvd[split] = float(fvd.fvd)
            res.fvd_comparable &= fvd.comparable
    if (folder / "motion.json").is_file():
        res.pearson_r = float(LinearityResult.read(folder / "motion.json").pearson_r)
    return res


def collect(results_dir: str | Path) -> list[MethodResults]:
    """Every method folder under ``results_dir`` that holds results."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise InputError(results_dir, "", "a folder with one sub-folder of results per method", got="no such folder")
    methods = [load_method(d) for d in sorted(results_dir.iterdir()) if d.is_dir()]
    methods = [m for m in methods if m.videos or m.fvd or m.pearson_r is not None]
    if not methods:
        raise InputError(results_dir, "", "method folders with per-video JSONs of lionlora eval camera", got="none")
    conventions = Counter((v["convention"], v["reduce"]) for m in methods for v in m.videos)
    if len(conventions) > 1:
        common = conventions.most_common(1)[0][0]
        odd = next(v for m in methods for v in m.videos if (v["convention"], v["reduce"]) != common)
        raise InputError(
            odd["file"],
            "convention/reduce",
            f"the convention and reduction of the other results {common}",
            got=(odd["convention"], odd["reduce"]),
        )
    return methods


def bootstrap_ci(
    values: np.ndarray, resamples: int, confidence: float, rng: np.random.Generator
) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the mean of ``values`` ``[n]`` (n >= 1)."""
    values = np.asarray(values, dtype=np.float64)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def _videos(method: MethodResults, split: str) -> list[dict]:
    return [v for v in method.videos if split == "all" or v["split"] == split]


def _penalties(
    methods: list[MethodResults], cfg: TableConfig, paper: dict
) -> dict[str, dict[str, tuple[float | None, str]]]:
    """Per split and metric, the value a failed video counts with and where it comes from."""
    out: dict[str, dict[str, tuple[float | None, str]]] = {}
    by_name = {m.name: m for m in methods}
    for split in SPLITS:
        out[split] = {}
        for key in METRICS:
            value, src = None, "none available"
            if cfg.penalty == "worst":
                vals = [
                    v[key] for m in methods if m.name != cfg.floor for v in _videos(m, split) if v["status"] == "ok"
                ]
                if vals:
                    value, src = max(vals), "worst successful video"
            else:
                ok = (
                    [v[key] for v in _videos(by_name[cfg.baseline], split) if v["status"] == "ok"]
                    if cfg.baseline in by_name
                    else []
                )
                if ok:
                    value, src = float(np.mean(ok)), f"mean of {cfg.baseline}"
                elif split in PAPER_TABLE_OF_SPLIT:
                    table = paper["tables"][PAPER_TABLE_OF_SPLIT[split]]
                    row = next(r for r in table["rows"] if r["method"] == table["no_control"])
                    if key in row:
                        value, src = float(row[key]), f"paper: {table['no_control']}"
            out[split][key] = (value, src)
    return out


def summarise(
    methods: list[MethodResults],
    cfg: TableConfig,
    paper: dict | None = None,
    flags: Mapping[str, Mapping[str, list[str]]] | None = None,
) -> list[dict[str, Any]]:
    """One row per method and split: counts, success rate, means with CIs, failure-counting means,
    and ``trained_scene_videos``: the videos whose scene is flagged for the method in ``flags``
    (method -> :func:`training_scene_flags`)."""
    paper = paper or load_paper_tables()
    flags = flags or {}
    penalties = _penalties(methods, cfg, paper)
    rows = []
    for m in methods:
        for split in SPLITS:
            vids = _videos(m, split)
            ok = [v for v in vids if v["status"] == "ok"]
            row: dict[str, Any] = {
                "method": m.name,
                "split": split,
                "videos": len(vids),
                "ok": len(ok),
                "success_rate": len(ok) / len(vids) if vids else None,
                "noise_floor": m.name == cfg.floor,
                "trained_scene_videos": sum(scene_of(v["video"]) in flags.get(m.name, {}) for v in vids),
            }
            for key in METRICS:
                vals = np.array([v[key] for v in ok])
                rng = np.random.default_rng(cfg.seed)
                lo, hi = bootstrap_ci(vals, cfg.bootstrap, cfg.confidence, rng) if len(vals) else (None, None)
                penalty, src = penalties[split][key]
                failed = len(vids) - len(ok)
                counted = None
                if vids and (failed == 0 or penalty is not None):
                    counted = (float(vals.sum()) + failed * (penalty or 0.0)) / len(vids)
                row.update(
                    {
                        f"{key}_mean": float(vals.mean()) if len(vals) else None,
                        f"{key}_ci_low": lo,
                        f"{key}_ci_high": hi,
                        f"{key}_failures_counted": counted,
                        f"{key}_penalty": penalty if failed else None,
                        f"{key}_penalty_source": src if failed else "",
                    }
                )
            row["fvd"] = m.fvd.get(split, m.fvd.get("all"))
            row["fvd_comparable"] = m.fvd_comparable if row["fvd"] is not None else None
            row["pearson_r"] = m.pearson_r
            conv = {(v["convention"], v["reduce"]) for v in m.videos}
            row["convention"], row["reduce"] = next(iter(conv)) if conv else ("", "")
            rows.append(row)
    return rows


def _fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _md_escape(text: str) -> str:
    return text.replace("*", "\\*").replace("_", "\\_")


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _paper_rows(table: dict, keys: tuple[str, ...]) -> list[list[str]]:
    rows = []
    for r in table["rows"]:
        cells = []
        for k in keys:
            if k not in r:
                cells.append("—")
                continue
            text = f"{r[k]:.{3 if k != 'fvd' else 1}f}" if isinstance(r[k], float) else str(r[k])
            cells.append(f"<u>{text}</u>" if k in r.get("second_best", []) else text)
        rows.append(["paper", r["method"], "—", "—", *cells])
    return rows


def _ordered(rows: list[dict], cfg: TableConfig) -> list[dict]:
    rank = {cfg.floor: 0, cfg.baseline: 1}
    return sorted(rows, key=lambda r: (rank.get(r["method"], 2), r["method"]))


def _flag_note(rows: list[dict], flags: Mapping[str, Mapping[str, list[str]]]) -> list[str]:
    """The footnote of the rows marked ‡ (videos of scenes that trained the method's adapters)."""
    marked = [r for r in rows if r.get("trained_scene_videos")]
    if not marked:
        return []
    parts = []
    for r in marked:
        scenes = flags.get(r["method"], {})
        which = "; ".join(f"{s} (trained {', '.join(a)})" for s, a in scenes.items())
        parts.append(f"`{r['method']}`: {r['trained_scene_videos']} of {r['videos']} videos, scenes {which}")
    return [
        "‡ Scored on scenes whose clips also trained the method's adapters, so these rows measure recall of "
        "training data, not generalisation: " + _md_escape(" | ".join(parts)) + ".",
        "",
    ]


def render_markdown(
    rows: list[dict], cfg: TableConfig, paper: dict, flags: Mapping[str, Mapping[str, list[str]]] | None = None
) -> str:
    """The Markdown report: Tables 1-2 with the paper's rows beside ours, all videos, Table 3."""
    d = cfg.digits
    flags = flags or {}
    conv = sorted({(r["convention"], r["reduce"]) for r in rows if r["convention"]})
    conv_text = ", ".join(f"convention `{c}`, reduce `{r}`" for c, r in conv) or "no per-video results"
    out = [
        "# Camera-control evaluation",
        "",
        f"Our values: mean over the videos whose SfM succeeded, with a {cfg.confidence:.0%} bootstrap "
        f"confidence interval ({cfg.bootstrap} resamples), and the success rate beside it; {conv_text}. "
        f"The paper's values are as published (its protocol: {paper['protocol']}). "
        f"The row `{cfg.floor}` is the SfM noise floor: the same evaluation on the ground-truth renders of the frames the videos show.",
        "",
    ]
    metric_keys = (*METRICS, "fvd")
    headers = ["source", "method", "videos", "success", *(f"{LABELS[k]}" for k in metric_keys)]
    sections = [
        ("basic", "Table 1: basic camera poses"),
        ("fused", "Table 2: complex fused camera poses"),
        ("all", "All videos"),
    ]
    for split, title in sections:
        out += [f"## {title}", ""]
        table = paper["tables"].get(PAPER_TABLE_OF_SPLIT.get(split, ""))
        if table:
            out += [f"Paper: {_md_escape(table['caption'])}", ""]
        body = _paper_rows(table, metric_keys) if table else []
        split_rows = _ordered([r for r in rows if r["split"] == split and (r["videos"] or r["fvd"] is not None)], cfg)
        for r in split_rows:
            cells = []
            for k in METRICS:
                mean = r[f"{k}_mean"]
                cells.append(
                    "—" if mean is None else f"{mean:.{d}f} [{r[f'{k}_ci_low']:.{d}f}, {r[f'{k}_ci_high']:.{d}f}]"
                )
            fvd = _fmt(r["fvd"], 1) + ("†" if r["fvd_comparable"] is False else "")
            cells.append(fvd)
            name = f"{r['method']} (noise floor)" if r["noise_floor"] else r["method"]
            name += " ‡" if r.get("trained_scene_videos") else ""
            rate = "—" if r["success_rate"] is None else f"{r['ok']}/{r['videos']} ({r['success_rate']:.0%})"
            body.append(["ours", name, str(r["videos"]), rate, *cells])
        out += [_md_table(headers, body), ""]
        out += _flag_note(split_rows, flags)
        if any(r["fvd_comparable"] is False for r in split_rows):
            out += [
                "† FVD from randomly initialised I3D weights (`lionlora eval i3d-init`, the demo): it runs "
                "the real pipeline but is not comparable to the paper's values.",
                "",
            ]
        counted = [r for r in split_rows if r["videos"] and not r["noise_floor"]]
        if counted:
            how = (
                f"the mean of `{cfg.baseline}` (no-control baseline), else the paper's no-control row"
                if cfg.penalty == "baseline"
                else "the worst successful video of any method"
            )
            out += [f"Failures counted: each failed video counts with a penalty ({how}).", ""]
            fbody = []
            for r in counted:
                cells = [_fmt(r[f"{k}_failures_counted"], d) for k in METRICS]
                srcs = sorted({r[f"{k}_penalty_source"] for k in METRICS if r[f"{k}_penalty_source"]})
                fbody.append([r["method"], f"{r['ok']}/{r['videos']}", *cells, "; ".join(srcs) or "no failures"])
            out += [_md_table(["method", "success", *(LABELS[k] for k in METRICS), "penalty"], fbody), ""]
    motion = _ordered([r for r in rows if r["split"] == "all" and r["pearson_r"] is not None], cfg)
    if motion:
        out += [
            "## Motion-strength linearity (the paper's Fig. 6)",
            "",
            "Pearson correlation between the control value (scaling value S, or the adapter scale for the "
            "baseline) and the mean optical-flow magnitude of the generated videos (`lionlora eval motion`). "
            "The paper reports it only as a figure.",
            "",
        ]
        out += [
            _md_table(["method", LABELS["pearson_r"]], [[r["method"], _fmt(r["pearson_r"], d)] for r in motion]),
            "",
        ]
    t3 = paper["tables"]["table3"]
    out += ["## Table 3 (paper only)", "", f"Paper: {_md_escape(t3['caption'])} {_md_escape(t3['note'])}", ""]
    keys = ("rot_err", "trans_err", "ate", "fvd")
    rows3 = [[r["samples"], r["iterations"], *(f"{r[k]:.{1 if k == 'fvd' else 3}f}" for k in keys)] for r in t3["rows"]]
    out += [_md_table(["samples", "iterations", *(LABELS[k] for k in keys)], rows3), ""]
    return "\n".join(out) + "\n"


def write_tables(
    results_dir: str | Path,
    out_dir: str | Path,
    cfg: TableConfig | None = None,
    flags: Mapping[str, Mapping[str, list[str]]] | None = None,
) -> dict[str, Path]:
    """Collect the results and write ``camera_metrics.csv``, ``per_video.csv``, ``camera_tables.md``
    and the resolved ``table_config.json`` into ``out_dir`` (each atomically). ``flags``: method ->
    :func:`training_scene_flags` of the adapters it was generated with."""
    import pandas as pd

    cfg = cfg or TableConfig()
    paper = load_paper_tables()
    methods = collect(results_dir)
    rows = summarise(methods, cfg, paper, flags)
    out_dir = Path(out_dir)
    per_video = [
        {"method": m.name, **{k: v for k, v in vid.items() if k != "file"}} for m in methods for vid in m.videos
    ]
    paths = {
        "summary": write_text(out_dir / "camera_metrics.csv", pd.DataFrame(rows).to_csv(index=False)),
        "per_video": write_text(out_dir / "per_video.csv", pd.DataFrame(per_video).to_csv(index=False)),
        "markdown": write_text(out_dir / "camera_tables.md", render_markdown(rows, cfg, paper, flags)),
        "config": dump_config(cfg, out_dir / "table_config.json"),
    }
    n_failed = sum(v["status"] == "failed" for m in methods for v in m.videos)
    log.info(
        "%d methods, %d videos (%d failed) -> %s", len(methods), sum(len(m.videos) for m in methods), n_failed, out_dir
    )
    return paths
