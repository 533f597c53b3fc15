"""Geometry of the embedded scene: a textured room with boxes and posters, and its capture path.

World frame: x right, y down, z forward (the OpenCV camera frame of an upright camera), in
arbitrary units of about a metre. Surfaces are planar quads ``origin + a * u + b * v`` for
``a, b`` in [0, 1], each textured with a real photograph bundled in scikit-image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lionlora.geometry.camera import look_at

FLOOR_Y = 1.5
CEILING_Y = -3.0
ROOM_X = 5.0
ROOM_Z = (-4.0, 10.0)

# Photographs bundled with scikit-image (no download): name -> loader attribute.
TEXTURE_NAMES = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "brick",
    "grass",
    "gravel",
    "camera",
    "coins",
    "moon",
    "motorcycle",
)


def load_textures(max_side: int = 512) -> list[np.ndarray]:
    """The bundled photographs as float32 RGB ``[H, W, 3]`` in [0, 1], at most ``max_side`` px."""
    import cv2
    from skimage import data

    out = []
    for name in TEXTURE_NAMES:
        img = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
        img = np.asarray(img)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        img = img[..., :3].astype(np.float32) / 255.0
        s = max_side / max(img.shape[:2])
        if s < 1:
            img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
        out.append(np.ascontiguousarray(img))
    return out


@dataclass
class Room:
    """Textured quads of the scene.

    Attributes:
        origin, u, v: quad corners and edge vectors ``[Q, 3]``.
        texture: texture index per quad ``[Q]``.
        tile: world size of one texture repeat along ``u`` ``[Q]``.
        offset: texture offset in repeats ``[Q, 2]``.
        tint: RGB multiplier per quad ``[Q, 3]`` (shading and colour for grey photos).
        textures: the texture images.
    """

    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    texture: np.ndarray
    tile: np.ndarray
    offset: np.ndarray
    tint: np.ndarray
    textures: list[np.ndarray]

    @property
    def normal(self) -> np.ndarray:
        n = np.cross(self.u, self.v)
        return n / np.linalg.norm(n, axis=1, keepdims=True)

    @property
    def area(self) -> np.ndarray:
        return np.linalg.norm(np.cross(self.u, self.v), axis=1)


def _box_faces(center_xz: np.ndarray, size: np.ndarray, yaw: float) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Quads of a box standing on the floor (no bottom face)."""
    c, s = np.cos(yaw), np.sin(yaw)
    ex = np.array([c, 0.0, s]) * size[0]
    ez = np.array([-s, 0.0, c]) * size[2]
    ey = np.array([0.0, -size[1], 0.0])  # up is -y
    base = np.array([center_xz[0], FLOOR_Y, center_xz[1]]) - ex / 2 - ez / 2
    return [
        (base, ex, ey),  # front (z-)
        (base + ez, ey, ex),  # back
        (base, ey, ez),  # left
        (base + ex, ez, ey),  # right
        (base + ey, ez, ex),  # top
    ]


def build_room(seed: int, boxes: int = 7, textures: list[np.ndarray] | None = None) -> Room:
    """The room for ``seed``: walls, floor, ceiling, ``boxes`` boxes and three posters."""
    rng = np.random.default_rng(seed)
    textures = load_textures() if textures is None else textures
    nt = len(textures)
    x0, x1, z0, z1 = -ROOM_X, ROOM_X, ROOM_Z[0], ROOM_Z[1]
    h = FLOOR_Y - CEILING_Y
    quads: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [
        (np.array([x0, CEILING_Y, z1]), np.array([x1 - x0, 0, 0]), np.array([0, h, 0])),  # back wall
        (np.array([x0, CEILING_Y, z0]), np.array([0, 0, z1 - z0]), np.array([0, h, 0])),  # left wall
        (np.array([x1, CEILING_Y, z1]), np.array([0, 0, z0 - z1]), np.array([0, h, 0])),  # right wall
        (np.array([x0, FLOOR_Y, z0]), np.array([x1 - x0, 0, 0]), np.array([0, 0, z1 - z0])),  # floor
        (np.array([x0, CEILING_Y, z1]), np.array([x1 - x0, 0, 0]), np.array([0, 0, z0 - z1])),  # ceiling
    ]
    tiles = [2.5, 3.0, 3.0, 1.6, 3.5]
    placed: list[np.ndarray] = []
    for _ in range(boxes):
        for _attempt in range(50):
            cxz = np.array([rng.uniform(-3.2, 3.2), rng.uniform(2.5, 8.0)])
            if all(np.linalg.norm(cxz - p) > 1.6 for p in placed):
                break
        placed.append(cxz)
        size = rng.uniform([0.7, 0.5, 0.7], [1.5, 2.2, 1.5])
        faces = _box_faces(cxz, size, rng.uniform(0, np.pi / 2))
        quads += faces
        tiles += [float(rng.uniform(0.8, 1.6))] * len(faces)
    for _ in range(3):  # free-standing posters facing the camera path at varied depths
        w, hh = rng.uniform(1.0, 1.8), rng.uniform(0.8, 1.4)
        o = np.array([rng.uniform(-3.5, 2.0), rng.uniform(-2.5, -1.2), rng.uniform(4.0, 9.0)])
        quads.append((o, np.array([w, 0.0, rng.uniform(-0.4, 0.4)]), np.array([0.0, hh, 0.0])))
        tiles.append(w)
    q = len(quads)
    tex = rng.integers(0, nt, size=q)
    tex[:5] = rng.permutation(nt)[:5]  # distinct photographs on walls, floor and ceiling
    tint = rng.uniform(0.55, 1.0, size=(q, 1)) * rng.uniform(0.8, 1.0, size=(q, 3))
    return Room(
        origin=np.array([f[0] for f in quads], dtype=np.float64),
        u=np.array([f[1] for f in quads], dtype=np.float64),
        v=np.array([f[2] for f in quads], dtype=np.float64),
        texture=tex,
        tile=np.array(tiles, dtype=np.float64),
        offset=rng.uniform(0, 1, size=(q, 2)),
        tint=tint.astype(np.float32),
        textures=textures,
    )


def capture_path(seed: int, frames: int) -> np.ndarray:
    """A smooth hand-held-like capture: a sideways sweep with gentle bob, looking into the room.

    Returns OpenCV camera-to-world poses ``[frames, 4, 4]``.
    """
    rng = np.random.default_rng(seed + 7919)
    t = np.linspace(0.0, 1.0, frames)
    phase = rng.uniform(0, 2 * np.pi, size=3)
    eye = np.stack(
        [
            -1.8 + 3.6 * t + 0.1 * np.sin(2 * np.pi * t + phase[0]),
            -0.3 + 0.15 * np.sin(2 * np.pi * t + phase[1]),
            -1.2 + 0.8 * t + 0.1 * np.sin(np.pi * t + phase[2]),
        ],
        axis=1,
    )
    target = np.stack(
        [
            0.6 * (t - 0.5) + rng.uniform(-0.3, 0.3),
            np.full_like(t, 0.2),
            np.full_like(t, 6.0),
        ],
        axis=1,
    )
    return np.stack([look_at(e, g, down=np.array([0.0, 1.0, 0.0])) for e, g in zip(eye, target)])
