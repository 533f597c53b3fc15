"""Download DL3DV-10K scenes from DL3DV's gated Hugging Face dataset repos.

DL3DV publishes one zip per scene, ``{batch}/{hash}.zip``, in ``DL3DV/DL3DV-ALL-{resolution}``
(480P: images_8, 960P: images_4, 2K: images_2, 4K: images; each with transforms.json). The
archive holds one folder, ``{hash}/``, with the scene; :func:`fetch_scenes` unpacks it into
``ROOT/{batch}/{hash}/``, the layout :func:`lionlora.scenes.load_scene` reads.

For each scene: skip it when ``ROOT/{batch}/{hash}/transforms.json`` exists; else read the file's
sha256 and size from the hub (the LFS metadata of a HEAD request), download into
``ROOT/.fetch/{batch}/{hash}.{sha256}.part`` (appending: an interrupted download resumes with an
HTTP Range request, in this run or the next), check the sha256 (a mismatch deletes the part and
starts over, up to ``retries`` times), then unpack into a temporary folder beside the scene and
rename it into place. A scene that cannot be had gets a row with its reason in
``ROOT/fetch_report.csv``; the others go on.
"""

from __future__ import annotations

import logging
import re
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from tqdm import tqdm

from lionlora.errors import InputError, LionLoraError
from lionlora.io.files import atomic_dir, sha256_file, write_csv
from lionlora.scenes.scene_list import SceneRef

log = logging.getLogger(__name__)

RESOLUTIONS = ("480P", "960P", "2K", "4K")
REPORT = "fetch_report.csv"
REPORT_COLUMNS = ("hash", "batch", "status", "reason")
PARTS = ".fetch"  # downloads in progress and verified archives waiting to be unpacked


class AccessError(LionLoraError):
    """No hub token, or the token has no access to the gated dataset repo."""


class SceneUnavailable(Exception):
    """One scene cannot be had; the message is the reason recorded in the report."""


@dataclass
class FetchResult:
    """What happened to one scene: status ``fetched``, ``present`` or ``failed`` (with a reason)."""

    hash: str
    batch: str
    status: str
    reason: str = ""


def dataset_repo(resolution: str) -> str:
    """The DL3DV dataset repo of a resolution (``DL3DV/DL3DV-ALL-960P``)."""
    if resolution not in RESOLUTIONS:
        raise InputError("--resolution", "", f"one of {', '.join(RESOLUTIONS)}", got=resolution)
    return f"DL3DV/DL3DV-ALL-{resolution}"


def dataset_page(repo: str) -> str:
    """The hub page of a dataset repo, where access to a gated repo is requested."""
    from huggingface_hub import constants

    return f"{constants.ENDPOINT}/datasets/{repo}"


def scene_folder(root: str | Path, ref: SceneRef) -> Path:
    """Where :func:`fetch_scenes` puts scene ``ref``: ``root/batch/hash``."""
    if not ref.batch:
        raise InputError(ref.hash, "batch", "the scene's DL3DV batch (a 'batch' column in the hash list)", got="none")
    return Path(root) / ref.batch / ref.hash


def check_access(repo: str, token: str | None) -> None:
    """Raise :class:`AccessError` naming the dataset page when there is no token or no access."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    page = dataset_page(repo)
    if not token:
        raise AccessError(
            f"no Hugging Face token (set HF_TOKEN or run `hf auth login`); {repo} is gated: request access at {page}"
        )
    try:
        HfApi().auth_check(repo, repo_type="dataset", token=token)
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise AccessError(f"no access to the gated dataset {repo} (HTTP {status}): request access at {page}") from None
    except Exception as exc:  # the HTTP client's connection errors and timeouts
        raise AccessError(f"cannot reach the hub to check access to {page}: {exc!r}") from None


def fetch_scenes(
    refs: list[SceneRef],
    root: str | Path,
    resolution: str = "960P",
    jobs: int = 1,
    token: str | None = None,
    retries: int = 3,
) -> list[FetchResult]:
    """Fetch every scene of ``refs`` into ``root``; write and return the per-scene results.

    Raises:
        AccessError: no token, or no access to the repo (nothing is written then).
    """
    from huggingface_hub import get_token

    repo = dataset_repo(resolution)
    token = token or get_token()
    check_access(repo, token)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)

    def one(ref: SceneRef) -> FetchResult:
        return fetch_scene(ref, root, repo, token, retries)

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        results = list(tqdm(pool.map(one, refs), total=len(refs), desc="DL3DV scenes", unit="scene"))
    update_report(root / REPORT, results)
    _remove_empty_dirs(root / PARTS)
    return results


def fetch_scene(ref: SceneRef, root: Path, repo: str, token: str, retries: int = 3) -> FetchResult:
    """Fetch one scene; failures become a ``failed`` result with the reason."""
    batch = ref.batch or ""
    try:
        target = scene_folder(root, ref)
        if (target / "transforms.json").is_file():
            return FetchResult(ref.hash, batch, "present")
        archive = download_archive(repo, f"{batch}/{ref.hash}.zip", root / PARTS, token, retries)
    except (SceneUnavailable, InputError) as exc:
        return _failed(ref, str(exc))
    try:
        unpack_scene(archive, target)
    except (SceneUnavailable, InputError) as exc:  # the archive is useless: drop it
        archive.unlink()
        return _failed(ref, str(exc))
    except OSError as exc:  # disk full, permissions: no scene folder; the verified archive stays
        return _failed(ref, f"unpack failed: {exc}")
    archive.unlink()
    return FetchResult(ref.hash, batch, "fetched")


def _failed(ref: SceneRef, reason: str) -> FetchResult:
    log.warning("%s/%s: %s", ref.batch, ref.hash, reason)
    return FetchResult(ref.hash, ref.batch or "", "failed", reason)


@dataclass(frozen=True)
class _Remote:
    """A file on the hub: its resolve url, where to download it, its LFS sha256 and size."""

    url: str
    location: str
    sha256: str
    size: int | None


def _file_metadata(repo: str, path: str, token: str) -> _Remote:
    """The hub's metadata of ``path`` (a HEAD request), or SceneUnavailable with the reason."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RemoteEntryNotFoundError

    url = hf_hub_url(repo, path, repo_type="dataset")
    try:
        meta = get_hf_file_metadata(url, token=token)
    except GatedRepoError:
        raise SceneUnavailable(f"no access to the gated repo {repo}: request access at {dataset_page(repo)}") from None
    except RemoteEntryNotFoundError:
        raise SceneUnavailable(f"not found: {path} is not in {repo}") from None
    except HfHubHTTPError as exc:
        raise SceneUnavailable(f"hub error for {path}: {exc}".splitlines()[0]) from None
    except Exception as exc:  # the HTTP client's connection errors and timeouts
        raise SceneUnavailable(f"hub unreachable for {path}: {exc!r}") from None
    if not meta.etag or not re.fullmatch(r"[0-9a-f]{64}", meta.etag):
        raise SceneUnavailable(f"no LFS sha256 for {path} in the hub's metadata (etag {meta.etag!r})")
    return _Remote(url, meta.location or url, meta.etag, meta.size)


def download_archive(repo: str, path: str, parts: Path, token: str, retries: int = 3) -> Path:
    """Download ``path`` of ``repo`` into ``parts``, resuming a partial file; verified by sha256.

    Returns the verified archive. Raises SceneUnavailable (not found, no access, checksum
    mismatch after ``retries`` downloads, transfers that keep failing).
    """
    meta = _file_metadata(repo, path, token)
    sha = meta.sha256
    final = parts / f"{path}.{sha}"
    if final.is_file():  # verified earlier, not yet unpacked (e.g. the disk was full)
        return final
    part = final.with_name(final.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, retries + 1):
        _transfer_resuming(repo, path, meta, part, token)
        if sha256_file(part) == sha:
            part.replace(final)
            return final
        log.warning("%s: sha256 differs from the hub's (download %d of %d)", path, attempt, retries)
        part.unlink()
    raise SceneUnavailable(f"checksum mismatch after {retries} downloads (hub sha256 {sha})")


def _transfer_resuming(repo: str, path: str, meta, part: Path, token: str, max_stalls: int = 5) -> None:
    """Complete ``part``, resuming after dropped connections; give up after ``max_stalls`` tries without progress."""
    stalls = 0
    while True:
        before = part.stat().st_size if part.exists() else 0
        try:
            _transfer(meta, part, token)
            return
        except Exception as exc:  # the HTTP client's own errors, OSError, short transfers
            _raise_if_hub_refuses(exc, repo, path)
            stalls = 0 if part.exists() and part.stat().st_size > before else stalls + 1
            text = (str(exc).splitlines() or [repr(exc)])[0]
            if stalls >= max_stalls:
                raise SceneUnavailable(f"transfer failed {max_stalls} times without progress: {text}") from None
            log.warning("%s: %s; resuming", path, text)
            time.sleep(0.5 * stalls)


def _raise_if_hub_refuses(exc: Exception, repo: str, path: str) -> None:
    from huggingface_hub.errors import GatedRepoError, RemoteEntryNotFoundError

    if isinstance(exc, GatedRepoError):
        raise SceneUnavailable(f"no access to the gated repo {repo}: request access at {dataset_page(repo)}") from None
    if isinstance(exc, RemoteEntryNotFoundError):
        raise SceneUnavailable(f"not found: {path} is not in {repo}") from None


def _transfer(meta, part: Path, token: str) -> None:
    """Append the rest of the file to ``part``: an HTTP Range request when it holds bytes already."""
    from huggingface_hub import constants
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    headers = build_hf_headers(token=token)
    headers["Accept-Encoding"] = "identity"
    if urlparse(meta.location).netloc != urlparse(meta.url).netloc:
        headers.pop("authorization", None)  # a signed CDN url takes no hub token
    with open(part, "ab") as f:
        done = f.tell()
        if meta.size is not None and done >= meta.size:
            if done == meta.size:
                return
            f.truncate(0)
            done = 0
        if done:
            headers["Range"] = f"bytes={done}-"
        with get_session().stream(
            "GET", meta.location, headers=headers, timeout=constants.HF_HUB_DOWNLOAD_TIMEOUT, follow_redirects=True
        ) as response:
            hf_raise_for_status(response)
            if done and response.status_code != 206:  # the server ignored the range: start over
                f.truncate(0)
            for block in response.iter_bytes():  # as received: a dropped connection loses nothing
                f.write(block)
        if meta.size is not None and f.tell() != meta.size:
            raise OSError(f"short transfer: {f.tell()} of {meta.size} bytes")


def _members(zf: zipfile.ZipFile, archive: Path) -> tuple[list[zipfile.ZipInfo], str]:
    """The archive's members and the one top folder to strip (DL3DV: ``{hash}/``), or ``""``."""
    infos = zf.infolist()
    for info in infos:
        p = PurePosixPath(info.filename)
        if p.is_absolute() or ".." in p.parts:
            raise SceneUnavailable(f"not a DL3DV scene archive: unsafe member path {info.filename!r} in {archive.name}")
    tops = {PurePosixPath(i.filename).parts[0] for i in infos if i.filename.strip("/")}
    nested = len(tops) == 1 and all("/" in i.filename.strip("/") or i.is_dir() for i in infos)
    return infos, (tops.pop() + "/" if nested else "")


def unpack_scene(archive: Path, target: Path) -> Path:
    """Unpack a scene archive into ``target`` atomically (temporary folder, then rename).

    Raises SceneUnavailable when the file is not a zip or holds no transforms.json; OSError
    (disk full) leaves no ``target`` behind.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise SceneUnavailable(f"not a zip: {archive.name} is not a zip archive") from None
    with zf:
        infos, prefix = _members(zf, archive)
        with atomic_dir(target, marker="transforms.json") as tmp:
            for info in infos:
                name = info.filename[len(prefix) :]
                if not name or info.is_dir():
                    continue
                dest = tmp / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as out:
                    _copy(src, out)
            if not (tmp / "transforms.json").is_file():
                raise SceneUnavailable(f"not a DL3DV scene archive: no transforms.json in {archive.name}")
    return target


def _copy(src, dst, chunk: int = 1 << 20) -> None:
    while block := src.read(chunk):
        dst.write(block)


def update_report(path: Path, results: list[FetchResult]) -> Path:
    """Merge ``results`` into the report: a row per scene, the latest outcome of each, locked."""
    import csv

    from filelock import FileLock

    with FileLock(str(path.with_name(f".{path.name}.lock"))):
        rows = {}
        if path.is_file():
            with open(path, newline="") as f:
                rows = {(r["batch"], r["hash"]): r for r in csv.DictReader(f)}
        rows.update({(r.batch, r.hash): asdict(r) for r in results})
        write_csv(path, sorted(rows.values(), key=lambda r: (r["batch"], r["hash"])), REPORT_COLUMNS)
    return path


def _remove_empty_dirs(folder: Path) -> None:
    if not folder.is_dir():
        return
    for d in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()
    if not any(folder.iterdir()):
        folder.rmdir()
