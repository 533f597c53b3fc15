"""``lionlora eval poses|camera|table``: camera-control evaluation.

* ``poses``: metrics of a predicted camera file against the ground truth;
* ``camera``: poses of a video (or frame folder) by SfM, then the metrics; SfM failure is a
  ``failed`` result, not an error;
* ``table``: per-method CSV and Markdown tables beside the paper's Tables 1-2.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from lionlora.config import add_config_options


def register(actions: argparse._SubParsersAction) -> None:
    from lionlora.eval.camera.config import CameraEvalConfig
    from lionlora.eval.camera.tables import TableConfig

    p = actions.add_parser("poses", help="RotErr/TransErr/CamMC/ATE of predicted cameras against ground-truth cameras")
    p.add_argument("--pred", type=Path, required=True, help="predicted cameras (cameras.json / transforms.json)")
    p.add_argument("--gt", type=Path, required=True, help="ground-truth cameras, one per predicted camera")
    p.add_argument("--out", type=Path, required=True, help="output JSON")
    p.add_argument("--convention", default="cami2v", help="metric convention (default: cami2v)")
    p.add_argument("--reduce", default="sum", choices=["sum", "mean"], help="sum or mean over frames (default: sum)")
    p.set_defaults(func=_poses, out_kind="file")

    c = actions.add_parser(
        "camera", help="recover a video's cameras with pycolmap (GLOMAP) and score them against the ground truth"
    )
    src = c.add_mutually_exclusive_group(required=True)
    src.add_argument("--video", type=Path, help="video file")
    src.add_argument("--frames", type=Path, help="folder of frames, taken in sorted file-name order")
    c.add_argument("--gt", type=Path, required=True, help="ground-truth cameras, one per frame")
    c.add_argument("--out", type=Path, required=True, help="output JSON")
    c.add_argument(
        "--cameras",
        type=Path,
        default=None,
        help="where to write the recovered cameras (default: cameras.json beside OUT)",
    )
    c.add_argument(
        "--source-frames",
        action="store_true",
        help="the input is the whole source clip of a generated video and --gt the cameras written beside "
        "that video: score the clip frames they list (metadata source_frames), resized to their size "
        "(the noise floor of what the video shows)",
    )
    add_config_options(c, CameraEvalConfig, skip=("fix_intrinsics",))
    c.add_argument(
        "--fix-intrinsics",
        dest="cfg_fix_intrinsics",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fix the intrinsics to the ground truth's (a PINHOLE camera, not refined); "
        f"--no-fix-intrinsics lets SfM estimate them (default: {CameraEvalConfig().fix_intrinsics})",
    )
    c.set_defaults(func=_camera, out_kind="file")

    t = actions.add_parser("table", help="per-method CSV and Markdown tables of camera metrics beside the paper's")
    t.add_argument(
        "--results", type=Path, required=True, help="folder with one sub-folder of per-video JSONs per method"
    )
    t.add_argument("--out", type=Path, required=True, help="output folder")
    add_config_options(t, TableConfig)
    t.set_defaults(func=_table, out_kind="folder")


def _poses(args: argparse.Namespace) -> int:
    from lionlora.eval.camera.evaluate import evaluate_poses
    from lionlora.io.cameras_json import read_cameras
    from lionlora.io.files import write_json

    result = evaluate_poses(
        read_cameras(args.pred),
        read_cameras(args.gt),
        args.convention,
        args.reduce,
        pred_source=str(args.pred),
        gt_source=str(args.gt),
    )
    write_json(args.out, result)
    print(
        " ".join(f"{k}={result[k]:.4f}" for k in ("rot_err", "trans_err", "cam_mc", "ate"))
        + f" over {result['n_frames']} frames ({result['convention']}, {result['reduce']})"
    )
    return 0


def _camera(args: argparse.Namespace) -> int:
    from lionlora.config import config_from_args
    from lionlora.eval.camera.config import CameraEvalConfig
    from lionlora.eval.camera.evaluate import cameras_path, evaluate_camera, write_result
    from lionlora.io.files import check_output

    cfg = config_from_args(CameraEvalConfig, args)
    threads = getattr(args, "threads", None)  # `lionlora --threads N`: pycolmap's count too
    if threads is not None and cfg.num_threads == -1:
        cfg = dataclasses.replace(cfg, num_threads=threads)
    source = args.video if args.video is not None else args.frames
    cameras = check_output(args.cameras or cameras_path(args.out))  # both outputs checked before any work
    result = evaluate_camera(source, args.gt, cfg, cameras_out=cameras, source_frames=args.source_frames)
    write_result(args.out, result)
    line = f"{source}: {result['status']}, registered {result['registered']}/{result['n_frames']}"
    if result["status"] == "ok":
        line += " " + " ".join(f"{k}={result[k]:.4f}" for k in ("rot_err", "trans_err", "cam_mc", "ate"))
    if result["reason"]:
        line += f" ({result['reason']})"
    print(line)
    return 0


def _table(args: argparse.Namespace) -> int:
    from lionlora.config import config_from_args
    from lionlora.eval.camera.tables import TableConfig, write_tables

    paths = write_tables(args.results, args.out, config_from_args(TableConfig, args))
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0
