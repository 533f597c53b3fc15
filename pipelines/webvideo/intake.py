"""Find the input videos of a folder (recursively) without touching them.

Files with a supported extension (:data:`lionlora.io.video.VIDEO_EXTENSIONS`, any case) are
inputs. Files with another common video extension (:data:`OTHER_VIDEO_EXTENSIONS`) are inputs too,
so that they get a manifest row saying they are unsupported instead of vanishing. Hidden files and
folders (name starting with ``.``) and everything under an excluded folder (the output folder when
it lies inside the input) are skipped. Inputs are only read: never modified, moved or renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lionlora.errors import InputError
from lionlora.io.video import VIDEO_EXTENSIONS, walk_files

OTHER_VIDEO_EXTENSIONS = (
    ".flv",
    ".wmv",
    ".m4v",
    ".mpg",
    ".mpeg",
    ".3gp",
    ".ts",
    ".m2ts",
    ".mts",
    ".ogv",
    ".vob",
    ".asf",
    ".rm",
    ".rmvb",
    ".f4v",
    ".divx",
    ".gif",
)


@dataclass(frozen=True)
class InputVideo:
    """One input file and its identity (a changed file has another size or modification time).

    Attributes:
        path: the file.
        rel: its path relative to the input folder, POSIX style (the manifest's ``video``).
        bytes: size in bytes.
        mtime_ns: modification time in nanoseconds.
    """

    path: Path
    rel: str
    bytes: int
    mtime_ns: int

    @property
    def supported(self) -> bool:
        return self.path.suffix.lower() in VIDEO_EXTENSIONS


def discover(folder: str | Path, exclude: list[str | Path] = ()) -> list[InputVideo]:
    """Input videos under ``folder``, sorted by relative path.

    Args:
        folder: the input folder.
        exclude: folders to skip (e.g. the output folder).
    Raises:
        InputError: ``folder`` is not an existing folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "", "an existing folder of videos", got="no such folder")
    found = []
    for path in walk_files(folder, set(VIDEO_EXTENSIONS) | set(OTHER_VIDEO_EXTENSIONS), skip=exclude):
        st = path.stat()
        found.append(InputVideo(path, path.relative_to(folder).as_posix(), st.st_size, st.st_mtime_ns))
    return found
