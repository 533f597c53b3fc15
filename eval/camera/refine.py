"""Sub-pixel refinement of matched keypoints along their tracks (Lucas-Kanade), before mapping.

SIFT places a keypoint to a fraction of the pixel size of the scale it was found at, and at the
sizes the evaluation extracts at that error is a large part of the noise floor (about 0.2 px here,
the median move below). After matching, the verified matches of the COLMAP database join into
tracks: the connected components of the match graph. A track with two keypoints in one frame is
ambiguous and left as it is. In every other track the observation in the track's middle frame is
the reference, and each other observation moves to where pyramidal Lucas-Kanade (OpenCV) finds the
reference's neighbourhood in its frame, starting from its SIFT position. One reference per track
keeps the observations of a track consistent with each other: nothing is chained, so nothing
drifts. A move is kept only when the backward flow returns to the reference within
``max_fb_error`` px and the move is at most ``max_shift`` px; otherwise the SIFT position stays.
The keypoints are rewritten in the database, so the mapper sees the same matches at the refined
positions.

Coordinates: COLMAP puts the centre of the top-left pixel at (0.5, 0.5), OpenCV at (0, 0).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lionlora.flow import lk_forward_backward


@dataclass
class RefineStats:
    """What one refinement did: tracks refined, their observations other than the reference, how
    many of those moved, the median move in pixels and the wall time."""

    tracks: int = 0
    observations: int = 0
    refined: int = 0
    median_shift: float = 0.0
    seconds: float = 0.0

    @property
    def fraction_refined(self) -> float:
        return self.refined / self.observations if self.observations else 0.0


@dataclass
class Tracks:
    """Observations grouped by track: ``image[i]``, ``keypoint[i]`` (index in that image) and
    ``track[i]`` (a track id; equal ids form one track)."""

    image: np.ndarray
    keypoint: np.ndarray
    track: np.ndarray


def match_tracks(keypoint_counts: dict[int, int], matches: dict[tuple[int, int], np.ndarray]) -> Tracks:
    """Tracks of the match graph: keypoints are nodes, each match ``(k1, k2)`` of an image pair
    ``(i1, i2)`` an edge. Keypoints with no match are not returned."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ids = sorted(keypoint_counts)
    offset = dict(zip(ids, np.cumsum([0] + [keypoint_counts[i] for i in ids[:-1]])))
    total = sum(keypoint_counts.values())
    edges = [(m[:, 0] + offset[a], m[:, 1] + offset[b]) for (a, b), m in matches.items() if len(m)]
    if not edges or total == 0:
        return Tracks(*(np.zeros(0, np.int64) for _ in range(3)))
    u, v = (np.concatenate(e) for e in zip(*edges))
    graph = coo_matrix((np.ones(len(u)), (u, v)), shape=(total, total))
    _, label = connected_components(graph, directed=False)
    node_image = np.repeat(ids, [keypoint_counts[i] for i in ids])
    node_local = np.concatenate([np.arange(keypoint_counts[i]) for i in ids])
    matched = np.zeros(total, bool)
    matched[u] = matched[v] = True
    return Tracks(node_image[matched], node_local[matched], label[matched])


def reference_jobs(tracks: Tracks, frame_of: dict[int, int]) -> tuple[dict[tuple[int, int], np.ndarray], int]:
    """Per (reference image, target image): ``[K, 2]`` keypoint indices (reference, target) of the
    observations to refine, and the number of tracks they come from. The reference of a track is
    its observation in the middle frame (by frame order, the lower middle of an even count); tracks
    seen twice in one image are skipped."""
    order = np.lexsort(([frame_of[i] for i in tracks.image], tracks.track))
    image, keypoint, track = tracks.image[order], tracks.keypoint[order], tracks.track[order]
    starts = np.flatnonzero(np.r_[True, track[1:] != track[:-1]])
    ends = np.r_[starts[1:], len(track)]
    jobs: dict[tuple[int, int], list[tuple[int, int]]] = {}
    used = 0
    for s, e in zip(starts, ends):
        if e - s < 2 or len(np.unique(image[s:e])) != e - s:
            continue
        used += 1
        ref = s + (e - s - 1) // 2
        for t in range(s, e):
            if t != ref:
                jobs.setdefault((int(image[ref]), int(image[t])), []).append((int(keypoint[ref]), int(keypoint[t])))
    return {pair: np.asarray(idx, np.int64) for pair, idx in jobs.items()}, used


def lk_refine(
    ref_gray: np.ndarray,
    tgt_gray: np.ndarray,
    ref_xy: np.ndarray,
    tgt_xy: np.ndarray,
    window: int,
    max_shift: float,
    max_fb_error: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Refined target positions ``[K, 2]`` (OpenCV pixel coordinates) and which were accepted."""
    import cv2

    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 0.001)
    xy, fb, found = lk_forward_backward(
        ref_gray, tgt_gray, ref_xy, tgt_xy, winSize=(window, window), maxLevel=1, criteria=criteria
    )
    moved = np.linalg.norm(xy - tgt_xy, axis=1)
    return xy.astype(np.float64), found & (fb <= max_fb_error) & (moved <= max_shift)


def refine_keypoints(
    pycolmap, db_path: Path, gray: dict[str, np.ndarray], window: int, max_shift: float, max_fb_error: float
) -> RefineStats:
    """Refine the keypoints of ``db_path`` (verified matches) in place; ``gray`` maps image names
    to their uint8 grey frames, in frame order."""
    t0 = time.perf_counter()
    db = pycolmap.Database.open(db_path)
    try:
        names = {im.image_id: im.name for im in db.read_all_images()}
        keypoints = {i: db.read_keypoints(i) for i in names}
        matches = {}
        for pair_id, geometry in zip(*db.read_two_view_geometries()):
            pair = tuple(int(i) for i in pycolmap.pair_id_to_image_pair(pair_id))
            matches[pair] = np.asarray(geometry.inlier_matches, np.int64).reshape(-1, 2)
        tracks = match_tracks({i: len(k) for i, k in keypoints.items()}, matches)
        rank = {name: r for r, name in enumerate(gray)}
        frame_of = {i: rank[name] for i, name in names.items()}
        jobs, used = reference_jobs(tracks, frame_of)
        stats, shifts = RefineStats(tracks=used), []
        new = {i: k.copy() for i, k in keypoints.items()}
        for (ref, tgt), idx in jobs.items():
            ref_xy = keypoints[ref][idx[:, 0], :2].astype(np.float64) - 0.5
            tgt_xy = keypoints[tgt][idx[:, 1], :2].astype(np.float64) - 0.5
            xy, ok = lk_refine(gray[names[ref]], gray[names[tgt]], ref_xy, tgt_xy, window, max_shift, max_fb_error)
            new[tgt][idx[ok, 1], :2] = xy[ok] + 0.5
            stats.observations += len(idx)
            stats.refined += int(ok.sum())
            shifts.append(np.linalg.norm(xy[ok] - tgt_xy[ok], axis=1))
        for i, k in new.items():
            db.update_keypoints(i, k)
    finally:
        db.close()
    shifts = np.concatenate(shifts) if shifts else np.zeros(0)
    stats.median_shift = float(np.median(shifts)) if len(shifts) else 0.0
    stats.seconds = time.perf_counter() - t0
    return stats
