"""Magnitudes of the camera primitives (``TrajectoryConfig``)."""

from __future__ import annotations

from dataclasses import dataclass

from lionlora.config import is_finite_number, opt
from lionlora.errors import ConfigError

#: Camera translations in the start camera's OpenCV frame (x right, y down, z forward).
TRANSLATIONS = {
    "pan_left": (-1.0, 0.0, 0.0),
    "pan_right": (1.0, 0.0, 0.0),
    "pan_up": (0.0, -1.0, 0.0),
    "pan_down": (0.0, 1.0, 0.0),
    "dolly_in": (0.0, 0.0, 1.0),
    "dolly_out": (0.0, 0.0, -1.0),
}
#: Orbits: sign of the rotation about the start camera's down axis (+y); +1 moves the camera left.
ORBITS = {"orbit_left": 1.0, "orbit_right": -1.0}
PRIMITIVES = tuple(TRANSLATIONS) + tuple(ORBITS)
OPPOSITES = {
    ("pan_left", "pan_right"),
    ("pan_up", "pan_down"),
    ("dolly_in", "dolly_out"),
    ("orbit_left", "orbit_right"),
}


@dataclass
class TrajectoryConfig:
    """Per-primitive magnitudes, relative to the start view's median depth ``D``.

    The defaults move the camera by about half the median depth at S = 1 for every primitive:
    pans and dollies by ``0.5 D``, orbits by 30 degrees on a circle of radius ``D`` (a chord of
    ``0.52 D``).
    """

    k: dict[str, float] = opt(
        {name: 0.5 for name in TRANSLATIONS}, "translation distance / median depth, per pan_* and dolly_* primitive"
    )
    angle_deg: dict[str, float] = opt(
        {name: 30.0 for name in ORBITS}, "orbit angle in degrees per orbit_* primitive (radius = median depth)"
    )

    def __post_init__(self) -> None:
        for field, table, allowed in (("k", self.k, TRANSLATIONS), ("angle_deg", self.angle_deg, ORBITS)):
            for name, value in table.items():
                if name not in allowed:
                    raise ConfigError(
                        "TrajectoryConfig", f"{field}.{name}", f"a primitive among {list(allowed)}", got=name
                    )
                if not is_finite_number(value) or value <= 0:
                    raise ConfigError("TrajectoryConfig", f"{field}.{name}", "a positive number", got=value)
                table[name] = float(value)
        for name in TRANSLATIONS:
            self.k.setdefault(name, 0.5)
        for name in ORBITS:
            self.angle_deg.setdefault(name, 30.0)
        for name, value in self.angle_deg.items():
            if value >= 180.0:
                raise ConfigError(
                    "TrajectoryConfig", f"angle_deg.{name}", "an orbit angle below 180 degrees", got=value
                )
