"""Pinhole intrinsics and camera trajectories in the toolkit's one convention.

See :mod:`lionlora.geometry` for the convention (OpenCV camera-to-world, pixel-edge origin).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from lionlora.errors import CameraError
from lionlora.geometry.se3 import check_rigid, relative_to_first


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of an image of ``width x height`` pixels.

    ``dist`` holds OpenCV distortion coefficients (k1, k2, p1, p2) when the source has them;
    the renderers and metrics of this toolkit assume undistorted (pinhole) images.
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    dist: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        vals = (self.fx, self.fy, self.cx, self.cy)
        if not all(np.isfinite(v) for v in vals) or self.fx <= 0 or self.fy <= 0:
            raise CameraError("intrinsics", "fx/fy", "finite positive focal lengths", got=(self.fx, self.fy))
        if int(self.width) <= 0 or int(self.height) <= 0:
            raise CameraError("intrinsics", "width/height", "positive image size", got=(self.width, self.height))

    @property
    def K(self) -> np.ndarray:
        """3x3 calibration matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def is_portrait(self) -> bool:
        return self.height > self.width

    @property
    def has_distortion(self) -> bool:
        return any(abs(d) > 0 for d in self.dist)

    def scaled(self, width: int, height: int) -> Intrinsics:
        """Intrinsics of the same camera for an image resized to ``width x height``.

        With the pixel-edge origin, resizing by factors (sx, sy) maps every coordinate
        (including the principal point) by multiplication.
        """
        sx = width / self.width
        sy = height / self.height
        return replace(
            self,
            fx=self.fx * sx,
            fy=self.fy * sy,
            cx=self.cx * sx,
            cy=self.cy * sy,
            width=int(width),
            height=int(height),
        )

    def check_image_size(self, width: int, height: int, images: str, source: str) -> None:
        """Raise :class:`CameraError` naming ``source`` (the camera file) unless images of
        ``width x height`` (from ``images``) show this camera: the same size, or the same aspect
        ratio within a pixel (the images resized uniformly)."""
        if abs(width * self.height - height * self.width) > max(self.width, self.height):
            raise CameraError(
                source,
                "w/h",
                f"the size of {images} ({width}x{height}) or its aspect ratio",
                got=f"{self.width}x{self.height}",
            )

    def cropped(self, x0: float, y0: float, width: int, height: int) -> Intrinsics:
        """Intrinsics after cropping the window starting at pixel (x0, y0)."""
        return replace(self, cx=self.cx - x0, cy=self.cy - y0, width=int(width), height=int(height))

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """Project camera-frame points ``[..., 3]`` (OpenCV) to pixels ``[..., 2]``."""
        p = np.asarray(points_cam, dtype=np.float64)
        z = p[..., 2]
        return np.stack([self.fx * p[..., 0] / z + self.cx, self.fy * p[..., 1] / z + self.cy], -1)

    def rays(self) -> np.ndarray:
        """Camera-frame ray directions (z = 1) through every pixel centre: ``[H, W, 3]``."""
        u = np.arange(self.width) + 0.5
        v = np.arange(self.height) + 0.5
        uu, vv = np.meshgrid(u, v)
        return np.stack([(uu - self.cx) / self.fx, (vv - self.cy) / self.fy, np.ones_like(uu)], -1)

    @staticmethod
    def from_fov(fov_x_deg: float, width: int, height: int) -> Intrinsics:
        """Square-pixel intrinsics with the given horizontal field of view, centred.

        Raises:
            CameraError: a field of view outside (0, 180) degrees (a pinhole cannot see 180).
        """
        if not 0.0 < fov_x_deg < 180.0:
            raise CameraError("intrinsics", "fov_x", "a horizontal field of view in (0, 180) degrees", got=fov_x_deg)
        f = 0.5 * width / np.tan(np.deg2rad(fov_x_deg) / 2)
        return Intrinsics(f, f, width / 2, height / 2, width, height)


@dataclass
class Trajectory:
    """A sequence of cameras sharing one set of intrinsics.

    Attributes:
        c2w: camera-to-world poses, OpenCV convention. ``[N, 4, 4]`` float64.
        intrinsics: the shared pinhole intrinsics.
        names: optional per-frame names (image file paths), ``len == N``.
    """

    c2w: np.ndarray
    intrinsics: Intrinsics
    names: list[str] | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.c2w = np.asarray(self.c2w, dtype=np.float64)
        if self.c2w.ndim != 3 or self.c2w.shape[1:] != (4, 4):
            raise CameraError("trajectory", "c2w", "an [N, 4, 4] array", got=f"shape {self.c2w.shape}")
        if self.names is not None and len(self.names) != len(self.c2w):
            raise CameraError("trajectory", "names", f"{len(self.c2w)} names", got=len(self.names))

    def __len__(self) -> int:
        return self.c2w.shape[0]

    @property
    def centers(self) -> np.ndarray:
        """Camera centres in world coordinates ``[N, 3]``."""
        return self.c2w[:, :3, 3]

    @property
    def rotations(self) -> np.ndarray:
        """Camera-to-world rotations ``[N, 3, 3]``."""
        return self.c2w[:, :3, :3]

    def validate(self, source: str) -> Trajectory:
        """Check every pose is finite and rigid; raise :class:`CameraError` naming the frame."""
        check_rigid(self.c2w, source, "frames")
        return self

    def relative(self) -> Trajectory:
        """The same trajectory expressed relative to its first camera."""
        return replace(self, c2w=relative_to_first(self.c2w))

    def subset(self, indices) -> Trajectory:
        idx = np.asarray(indices, dtype=int)
        names = None if self.names is None else [self.names[i] for i in idx]
        return replace(self, c2w=self.c2w[idx], names=names)

    def with_image_size(self, width: int, height: int) -> Trajectory:
        """The same cameras with intrinsics rescaled for images of ``width x height``."""
        return replace(self, intrinsics=self.intrinsics.scaled(width, height))

    def path_length(self) -> float:
        """Sum of distances between consecutive camera centres."""
        if len(self) < 2:
            return 0.0
        return float(np.linalg.norm(np.diff(self.centers, axis=0), axis=1).sum())


def look_at(eye: np.ndarray, target: np.ndarray, down: np.ndarray) -> np.ndarray:
    """OpenCV camera-to-world pose at ``eye`` looking at ``target``.

    Args:
        eye, target: points ``[3]`` in world coordinates.
        down: the world direction that should appear downwards in the image (``[3]``); it
            need not be perpendicular to the viewing direction, only not parallel to it.
    """
    eye = np.asarray(eye, dtype=np.float64)
    z = np.asarray(target, dtype=np.float64) - eye
    nz = np.linalg.norm(z)
    if nz < 1e-12:
        raise CameraError("look_at", "target", "a target distinct from the eye", got=target)
    z = z / nz
    x = np.cross(np.asarray(down, dtype=np.float64), z)
    nx = np.linalg.norm(x)
    if nx < 1e-9:
        raise CameraError("look_at", "down", "a down vector not parallel to the viewing direction", got=down)
    x = x / nx
    y = np.cross(z, x)
    T = np.eye(4)
    T[:3, 0], T[:3, 1], T[:3, 2], T[:3, 3] = x, y, z, eye
    return T
