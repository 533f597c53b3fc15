"""The benchmark suite's record: ``SUITE/manifest.csv`` (:class:`SuiteManifest`), read and written here only.

Columns (a contract): ``sample,scene,primitive,image,cameras,cameras_re10k,prompt,frames,height,width``.
Paths are relative to the suite folder; ``sample`` is ``{scene}__{primitive}``; every row has the
suite's frame count and size. A suite also lists the scenes it holds in ``SUITE/scenes.txt`` (one
per line) so that training runs can be checked against them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from pathlib import Path

from lionlora.errors import InputError
from lionlora.io.files import write_text

MANIFEST = "manifest.csv"
SCENES = "scenes.txt"
COLUMNS = ("sample", "scene", "primitive", "image", "cameras", "cameras_re10k", "prompt", "frames", "height", "width")
SAMPLE_FILES = {
    "image": "image.png",
    "cameras": "cameras.json",
    "cameras_re10k": "cameras_re10k.txt",
    "prompt": "prompt.txt",
}


def sample_name(scene: str, primitive: str) -> str:
    return f"{scene}__{primitive}"


@dataclass(frozen=True)
class SuiteSample:
    """One row of the manifest: what a method must generate for one (scene, primitive)."""

    sample: str
    scene: str
    primitive: str
    image: str
    cameras: str
    cameras_re10k: str
    prompt: str
    frames: int
    height: int
    width: int

    @property
    def parts(self) -> list[str]:
        """The basic primitives of the sample (a fused ``a+b`` has two)."""
        return self.primitive.split("+")


@dataclass
class SuiteManifest:
    """The rows of ``SUITE/manifest.csv``, in sample order."""

    samples: list[SuiteSample]

    def write(self, path: str | Path) -> Path:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(asdict(s) for s in self.samples)
        return write_text(path, buf.getvalue())

    @classmethod
    def read(cls, path: str | Path) -> SuiteManifest:
        """Read and check a manifest: exact columns, integer sizes, names that match, one row per sample.

        Raises:
            InputError: naming the file, the row and the column.
        """
        path = Path(path)
        if not path.is_file():
            raise InputError(
                path, "", "the suite's manifest.csv (written by lionlora benchmark suite)", got="no such file"
            )
        reader = csv.DictReader(io.StringIO(path.read_text()))
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise InputError(path, "columns", ",".join(COLUMNS), got=",".join(reader.fieldnames or ()))
        samples, seen = [], set()
        for i, row in enumerate(reader, start=2):
            values = dict(row)
            for key in ("frames", "height", "width"):
                try:
                    values[key] = int(row[key])
                except (TypeError, ValueError):
                    raise InputError(path, f"row {i}: {key}", "an integer", got=row[key]) from None
                if values[key] < 2:
                    raise InputError(path, f"row {i}: {key}", "an integer >= 2", got=values[key])
            s = SuiteSample(**values)
            if s.sample != sample_name(s.scene, s.primitive):
                raise InputError(path, f"row {i}: sample", sample_name(s.scene, s.primitive), got=s.sample)
            if s.sample in seen:
                raise InputError(path, f"row {i}: sample", "each sample once", got=s.sample)
            seen.add(s.sample)
            samples.append(s)
        if not samples:
            raise InputError(path, "", "at least one sample row", got=0)
        sizes = {(s.frames, s.height, s.width) for s in samples}
        if len(sizes) > 1:
            raise InputError(path, "frames/height/width", "the same frames and size in every row", got=sorted(sizes))
        return cls(samples)

    @property
    def scenes(self) -> list[str]:
        return sorted({s.scene for s in self.samples})

    def size(self) -> tuple[int, int, int]:
        """``(frames, height, width)`` of the suite."""
        s = self.samples[0]
        return s.frames, s.height, s.width


def expected_sample_row(scene: str, primitive: str, frames: int, height: int, width: int) -> SuiteSample:
    """The manifest row of a sample in the standard layout ``samples/{sample}/``."""
    name = sample_name(scene, primitive)
    paths = {k: f"samples/{name}/{f}" for k, f in SAMPLE_FILES.items()}
    return SuiteSample(name, scene, primitive, frames=frames, height=height, width=width, **paths)


def write_scenes(path: str | Path, scenes: list[str]) -> Path:
    return write_text(path, "".join(f"{s}\n" for s in scenes))


def read_scenes(path: str | Path) -> list[str]:
    """The scenes a suite holds (``SUITE/scenes.txt``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "", "the suite's scenes.txt (one scene per line)", got="no such file")
    return [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
