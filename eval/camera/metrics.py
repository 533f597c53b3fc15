"""Camera-trajectory error metrics, vectorised over batches of trajectories.

Pure numpy on the toolkit's convention (OpenCV camera-to-world ``c2w`` 4x4 float64, see
:mod:`lionlora.geometry`); nothing here reads files, plots or knows about the command line.

Convention ``cami2v`` (the default, the protocol of CamI2V and LiON-LoRA)
--------------------------------------------------------------------------
Given ground-truth and predicted cameras matched by frame order, ``[..., N, 4, 4]`` each:

* both sequences are made relative to their first frame: ``rel_i = inv(c2w_0) @ c2w_i``;
  ``R_i`` and ``t_i`` are the rotation and translation of ``rel_i`` (``t_i`` is the camera centre
  of frame ``i`` in the first camera's frame);
* each trajectory's translations are divided by its own scale ``s = max_i ||t_i||``;
* per frame: ``rot = arccos(clip((trace(R_gt^T R_pred) - 1) / 2, -1, 1))`` (radians),
  ``trans = ||t_gt / s_gt - t_pred / s_pred||``, ``cam_mc = ||[R | t/s]_gt - [R | t/s]_pred||_F``
  (3x4 Frobenius norm);
* ``RotErr``, ``TransErr``, ``CamMC`` are the **sum** over the N frames (``reduce="sum"``) or the
  mean over the N frames (``reduce="mean"``, i.e. the sum divided by N; the first frame, which is
  the identity in both, counts as one of the N);
* ``ATE`` is the RMSE over frames of ``||s R c_pred_i + t - c_gt_i||`` after the least-squares
  Sim(3) (Umeyama) alignment of the predicted relative centres ``c_pred_i = t_pred_i`` onto the
  ground-truth relative centres divided by ``s_gt``. It is in units of the ground truth's largest
  displacement and is the same for both reductions (it already is a mean).

Degenerate trajectories get finite, documented values, never NaN
-----------------------------------------------------------------
* A trajectory that does not move (``s <= STATIC_EPS``) has normalised translations of zero.
  TransErr then measures how far the other trajectory moved (at most 1 per frame and sequence).
* A static prediction cannot be scaled onto anything: its Sim(3) alignment has scale 0 and puts
  every centre on the ground truth's centroid, so ATE is the RMS spread of the ground truth.
* A static ground truth is matched exactly by the scale-0 alignment: ATE is 0 (Sim(3) ATE cannot
  see motion when the reference has none; TransErr does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lionlora.errors import CameraError
from lionlora.geometry.se3 import relative_to_first, umeyama_batched
from lionlora.records.camera import METRICS as CAMERA_METRICS

#: Below this scale (in the trajectory's own units) a trajectory counts as not moving.
STATIC_EPS = 1e-9

#: Metric keys, in table order (defined with the result record that stores them).
METRICS = CAMERA_METRICS

REDUCTIONS = ("sum", "mean")


@dataclass(frozen=True)
class Convention:
    """How camera errors are defined; recorded with every result."""

    name: str
    relative_to: str  # which frame both sequences are expressed in
    rotation_unit: str  # unit of RotErr
    translation_scale: str  # how each trajectory's translations are normalised
    description: str


#: The named conventions; ``cami2v`` is the one of the paper's tables.
CONVENTIONS: dict[str, Convention] = {
    "cami2v": Convention(
        name="cami2v",
        relative_to="first frame: inv(c2w_0) @ c2w_i",
        rotation_unit="radians",
        translation_scale="max_i ||t_i|| of each trajectory (0 -> translations of 0)",
        description="CamI2V/LiON-LoRA: relative to frame 0, radians, translations over their "
        "largest norm, ATE after Sim(3) alignment onto the scaled ground truth",
    ),
}


def check_convention(convention: str, reduce: str, source: str = "metrics") -> Convention:
    """The :class:`Convention` named ``convention``; raise :class:`CameraError` on unknown names."""
    if convention not in CONVENTIONS:
        raise CameraError(source, "convention", f"one of {sorted(CONVENTIONS)}", got=convention)
    if reduce not in REDUCTIONS:
        raise CameraError(source, "reduce", f"one of {list(REDUCTIONS)}", got=reduce)
    return CONVENTIONS[convention]


def _check_pair(c2w_gt: np.ndarray, c2w_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gt = np.asarray(c2w_gt, dtype=np.float64)
    pred = np.asarray(c2w_pred, dtype=np.float64)
    for name, arr in (("gt", gt), ("pred", pred)):
        if arr.ndim < 3 or arr.shape[-2:] != (4, 4):
            raise CameraError(name, "c2w", "camera-to-world poses [..., N, 4, 4]", got=f"shape {arr.shape}")
    if gt.shape != pred.shape:
        raise CameraError(
            "pred", "c2w", f"the ground truth's shape {gt.shape} (one camera per frame)", got=f"shape {pred.shape}"
        )
    if gt.shape[-3] < 2:
        raise CameraError("gt", "c2w", "at least 2 frames per trajectory", got=gt.shape[-3])
    for name, arr in (("gt", gt), ("pred", pred)):
        bad = ~np.isfinite(arr).all(axis=(-2, -1))
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise CameraError(name, f"c2w{list(idx)}", "a finite matrix", got="NaN or inf entries")
    return gt, pred


def normalized_translations(rel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Translations of relative poses ``[..., N, 4, 4]`` divided by their largest norm.

    Returns:
        ``t / s`` ``[..., N, 3]`` (zeros where the trajectory does not move) and ``s`` ``[...]``.
    """
    t = rel[..., :3, 3]
    s = np.linalg.norm(t, axis=-1).max(axis=-1)
    moving = s > STATIC_EPS
    tn = t / np.where(moving, s, 1.0)[..., None, None]
    return np.where(moving[..., None, None], tn, 0.0), s


def per_frame_errors(c2w_gt: np.ndarray, c2w_pred: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame errors of the ``cami2v`` convention.

    Args:
        c2w_gt: ground-truth camera-to-world poses ``[..., N, 4, 4]``.
        c2w_pred: predicted poses, same shape, matched by frame order.
    Returns:
        ``rot`` (radians), ``trans``, ``cam_mc`` ``[..., N]`` and ``ate_sq`` ``[..., N]`` (squared
        centre errors after Sim(3) alignment).
    Raises:
        CameraError: mismatched shapes, fewer than 2 frames, NaN or inf entries.
    """
    gt, pred = _check_pair(c2w_gt, c2w_pred)
    rel_gt, rel_pred = relative_to_first(gt), relative_to_first(pred)
    R_gt, R_pred = rel_gt[..., :3, :3], rel_pred[..., :3, :3]
    tn_gt, _ = normalized_translations(rel_gt)
    tn_pred, _ = normalized_translations(rel_pred)
    # trace(A^T B) is the sum of the elementwise product
    cos = ((R_gt * R_pred).sum(axis=(-2, -1)) - 1.0) / 2.0
    rot = np.arccos(np.clip(cos, -1.0, 1.0))
    dt = tn_gt - tn_pred
    trans = np.linalg.norm(dt, axis=-1)
    cam_mc = np.sqrt(((R_gt - R_pred) ** 2).sum(axis=(-2, -1)) + (dt**2).sum(axis=-1))
    centres = rel_pred[..., :3, 3]
    scale, R, t = umeyama_batched(centres, tn_gt)
    aligned = scale[..., None, None] * np.einsum("...ij,...nj->...ni", R, centres) + t[..., None, :]
    ate_sq = ((aligned - tn_gt) ** 2).sum(axis=-1)
    return {"rot": rot, "trans": trans, "cam_mc": cam_mc, "ate_sq": ate_sq}


def camera_errors(
    c2w_gt: np.ndarray, c2w_pred: np.ndarray, convention: str = "cami2v", reduce: str = "sum"
) -> dict[str, np.ndarray]:
    """RotErr, TransErr, CamMC and ATE of trajectories ``[..., N, 4, 4]``.

    Args:
        c2w_gt, c2w_pred: camera-to-world poses, matched by frame order.
        convention: a key of :data:`CONVENTIONS`.
        reduce: ``"sum"`` or ``"mean"`` over frames (ATE is an RMSE either way).
    Returns:
        ``rot_err``, ``trans_err``, ``cam_mc``, ``ate``: arrays of the batch shape ``[...]``.
    """
    check_convention(convention, reduce)
    err = per_frame_errors(c2w_gt, c2w_pred)
    agg = np.sum if reduce == "sum" else np.mean
    return {
        "rot_err": agg(err["rot"], axis=-1),
        "trans_err": agg(err["trans"], axis=-1),
        "cam_mc": agg(err["cam_mc"], axis=-1),
        "ate": np.sqrt(err["ate_sq"].mean(axis=-1)),
    }
