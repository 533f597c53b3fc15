"""Exact ray casting of the embedded room (numpy): colour and depth for any pinhole camera."""

from __future__ import annotations

import cv2
import numpy as np

from lionlora.geometry.camera import Intrinsics
from lionlora.pipelines.synth.layout import Room

_CHUNK = 1 << 11  # rays per block: the [rays, quads] temporaries stay in the L2 cache


def _sample(texture: np.ndarray, s: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Bilinear, wrapping lookup of ``texture`` ``[H, W, 3]`` at texel coordinates ``s, r`` ``[M]``."""
    h, w = texture.shape[:2]
    s = s - 0.5
    r = r - 0.5
    s0 = np.floor(s)
    r0 = np.floor(r)
    fs = (s - s0)[:, None].astype(np.float32)
    fr = (r - r0)[:, None].astype(np.float32)
    i0 = s0.astype(np.int64) % w
    j0 = r0.astype(np.int64) % h
    i1 = (i0 + 1) % w
    j1 = (j0 + 1) % h
    top = texture[j0, i0] * (1 - fs) + texture[j0, i1] * fs
    bot = texture[j1, i0] * (1 - fs) + texture[j1, i1] * fs
    return top * (1 - fr) + bot * fr


def surface_color(room: Room, quad: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Colour ``[M, 3]`` float32 of points at quad-local coordinates ``(a, b)`` on quads ``quad``."""
    out = np.zeros((quad.shape[0], 3), np.float32)
    ulen = np.linalg.norm(room.u, axis=1)
    vlen = np.linalg.norm(room.v, axis=1)
    for t in np.unique(room.texture[quad]):
        sel = room.texture[quad] == t
        q = quad[sel]
        tex = room.textures[t]
        th, tw = tex.shape[:2]
        rep_u = a[sel] * ulen[q] / room.tile[q] + room.offset[q, 0]
        rep_v = b[sel] * vlen[q] / (room.tile[q] * th / tw) + room.offset[q, 1]
        out[sel] = _sample(tex, rep_u * tw, rep_v * th) * room.tint[q]
    return out


def cast(room: Room, eye: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Intersect rays ``eye + t * dirs`` (``dirs`` ``[M, 3]``) with the room.

    Returns:
        t of the nearest hit ``[M]`` (inf where nothing is hit), its quad index ``[M]`` and the
        quad-local coordinates ``a, b`` ``[M]``.
    """
    n = np.cross(room.u, room.v)  # [Q, 3] (unnormalised)
    uu = (room.u**2).sum(1)
    vv = (room.v**2).sum(1)
    oc = eye[None, :] - room.origin  # [Q, 3]
    num = -(oc * n).sum(1)  # [Q]
    ocu = (oc * room.u).sum(1)
    ocv = (oc * room.v).sum(1)
    M = dirs.shape[0]
    t_best = np.full(M, np.inf)
    q_best = np.zeros(M, np.int64)
    for start in range(0, M, _CHUNK):
        d = dirs[start : start + _CHUNK]
        den = d @ n.T  # [m, Q]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = num[None, :] / den
        a = (ocu[None, :] + t * (d @ room.u.T)) / uu[None, :]
        b = (ocv[None, :] + t * (d @ room.v.T)) / vv[None, :]
        ok = (np.abs(den) > 1e-12) & (t > 1e-6) & (a >= 0) & (a <= 1) & (b >= 0) & (b <= 1)
        t = np.where(ok, t, np.inf)
        q = t.argmin(1)
        t_best[start : start + _CHUNK] = t[np.arange(len(q)), q]
        q_best[start : start + _CHUNK] = q
    hit = np.isfinite(t_best)
    p = eye[None, :] + np.where(hit, t_best, 0.0)[:, None] * dirs
    rel = p - room.origin[q_best]
    a = (rel * room.u[q_best]).sum(1) / uu[q_best]
    b = (rel * room.v[q_best]).sum(1) / vv[q_best]
    return t_best, q_best, a, b


def render_view(
    room: Room, c2w: np.ndarray, intrinsics: Intrinsics, supersample: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Render colour and depth of the room seen by one camera.

    Args:
        room: the scene.
        c2w: OpenCV camera-to-world pose ``[4, 4]``.
        intrinsics: pinhole intrinsics of the output image.
        supersample: render at this factor and area-average (anti-aliasing).
    Returns:
        ``rgb`` uint8 ``[H, W, 3]`` and ``depth`` float32 ``[H, W]`` (z in the camera frame; the
        minimum over the supersampled block, inf where nothing is hit).
    """
    K = intrinsics.scaled(intrinsics.width * supersample, intrinsics.height * supersample)
    rays = K.rays().reshape(-1, 3)  # camera frame, z = 1
    dirs = rays @ c2w[:3, :3].T
    t, q, a, b = cast(room, c2w[:3, 3], dirs)
    color = np.zeros((rays.shape[0], 3), np.float32)
    hit = np.isfinite(t)
    color[hit] = surface_color(room, q[hit], a[hit], b[hit])
    H, W = intrinsics.height, intrinsics.width
    color = color.reshape(H * supersample, W * supersample, 3)
    depth = t.reshape(H * supersample, W * supersample).astype(np.float32)  # t is z because rays have z = 1
    if supersample > 1:
        color = cv2.resize(color, (W, H), interpolation=cv2.INTER_AREA)
        depth = depth.reshape(H, supersample, W, supersample).min(axis=(1, 3))
    rgb = np.clip(color * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return rgb, depth
