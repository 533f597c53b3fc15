"""`lionlora scene fetch`: the real huggingface_hub client against a local stand-in for the hub.

The archives are real DL3DV-format scenes (the embedded scene, zipped the way DL3DV ships them:
``{hash}/transforms.json``, ``{hash}/images_4/...``).
"""

import csv
import errno
import hashlib
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.fake_hub import TOKEN, FakeHub, HubFile

REPO_960 = "DL3DV/DL3DV-ALL-960P"
LIONLORA = [str(Path(sys.executable).parent / "lionlora")]
H = {
    name: hashlib.sha256(name.encode()).hexdigest() for name in ("good", "other", "missing", "corrupt", "junk", "shut")
}


@pytest.fixture(scope="module")
def scene_dir(tmp_path_factory) -> Path:
    """A small embedded scene (8 frames, images_4 only), written by `lionlora scene synth`."""
    out = tmp_path_factory.mktemp("fetch_scene") / "embedded"
    sets = ["frames=8", "downsamples=[4]", "supersample=1", "points=500"]
    cmd = [*LIONLORA, "-q", "scene", "synth", "--out", str(out)] + [a for s in sets for a in ("--set", s)]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def scene_zip(scene_dir) -> bytes:
    """The embedded scene as DL3DV ships a 960P scene: one folder with transforms.json and images_4."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.write(scene_dir / "transforms.json", "SCENE/transforms.json")
        for img in sorted((scene_dir / "images_4").iterdir()):
            zf.write(img, f"SCENE/images_4/{img.name}")
    return buf.getvalue()


def dl3dv_zip(scene_zip: bytes, hash_: str) -> bytes:
    """The scene archive with its top folder named after the hash, as in DL3DV's zips."""
    src = zipfile.ZipFile(io.BytesIO(scene_zip))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for info in src.infolist():
            zf.writestr(info.filename.replace("SCENE/", f"{hash_}/", 1), src.read(info))
    return buf.getvalue()


@pytest.fixture
def hub():
    with FakeHub() as h:
        yield h


def env_for(hub, tmp_path, token=TOKEN) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf_home"), HF_HUB_DISABLE_TELEMETRY="1")
    if token:
        env["HF_TOKEN"] = token
    return env


def write_hashes(path: Path, rows: list[tuple[str, str]]) -> Path:
    # DL3DV-valid.csv's own columns, a subset of its rows
    lines = ["batch,hash,file_size,frame_count"] + [f"{b},{h},1,24" for b, h in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def fetch(hub, tmp_path, rows, root, *extra, token=TOKEN):
    hashes = write_hashes(tmp_path / "hashes.csv", rows)
    cmd = [*LIONLORA, "-q", "scene", "fetch", "--hashes", str(hashes), "--root", str(root), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env=env_for(hub, tmp_path, token), timeout=300)


def report(root: Path) -> dict[str, dict]:
    with open(root / "fetch_report.csv", newline="") as f:
        return {r["hash"]: r for r in csv.DictReader(f)}


def assert_scene_matches(scene_dir: Path, fetched: Path) -> None:
    from lionlora.scenes import load_scene

    scene = load_scene(fetched, downsample=4)
    assert len(scene) == len(list((scene_dir / "images_4").iterdir()))
    for p in scene.image_paths:
        assert p.read_bytes() == (scene_dir / "images_4" / p.name).read_bytes()
    assert (fetched / "transforms.json").read_bytes() == (scene_dir / "transforms.json").read_bytes()


def test_good_missing_corrupt_junk_and_gated_scenes(hub, tmp_path, scene_zip, scene_dir):
    good = dl3dv_zip(scene_zip, H["good"])
    hub.files[(REPO_960, f"1K/{H['good']}.zip")] = HubFile(good)
    hub.files[(REPO_960, f"2K/{H['other']}.zip")] = HubFile(dl3dv_zip(scene_zip, H["other"]))
    # the hub announces another sha256 than the bytes it serves: every download is corrupt
    hub.files[(REPO_960, f"1K/{H['corrupt']}.zip")] = HubFile(good, advertise=hashlib.sha256(b"x").hexdigest())
    hub.files[(REPO_960, f"1K/{H['junk']}.zip")] = HubFile(b"this is not a zip archive" * 100)
    hub.files[(REPO_960, f"1K/{H['shut']}.zip")] = HubFile(good, gated=True)
    rows = [("1K", H[n]) for n in ("good", "missing", "corrupt", "junk", "shut")] + [("2K", H["other"])]
    root = tmp_path / "DL3DV"

    out = fetch(hub, tmp_path, rows, root, "--jobs", "2")

    assert out.returncode == 1, out.stderr
    assert "2 fetched, 0 already present, 4 failed" in out.stdout
    assert_scene_matches(scene_dir, root / "1K" / H["good"])
    assert_scene_matches(scene_dir, root / "2K" / H["other"])
    rep = report(root)
    assert rep[H["good"]]["status"] == "fetched" and rep[H["other"]]["status"] == "fetched"
    assert rep[H["missing"]]["reason"].startswith("not found:")
    assert rep[H["corrupt"]]["reason"].startswith("checksum mismatch after 3 downloads")
    assert len(hub.gets(f"1K/{H['corrupt']}.zip")) == 3
    assert rep[H["junk"]]["reason"].startswith("not a zip:")
    assert (
        rep[H["shut"]]["reason"]
        == f"no access to the gated repo {REPO_960}: request access at {hub.url}/datasets/{REPO_960}"
    )
    # failed scenes leave no folder, and no temporary folders are left anywhere under the root
    assert sorted(p.name for p in (root / "1K").iterdir()) == [H["good"]]
    assert not list(root.rglob("*.tmp")) and not list(root.rglob("*.part"))
    # every request carried the user's token
    assert {r.authorization for r in hub.requests if "/datasets/" in r.path} == {f"Bearer {TOKEN}"}

    # a second run skips the complete scenes (no download) and keeps their rows
    n_gets = len(hub.gets(f"1K/{H['good']}.zip"))
    again = fetch(hub, tmp_path, [("1K", H["good"]), ("1K", H["missing"])], root)
    assert again.returncode == 1
    assert len(hub.gets(f"1K/{H['good']}.zip")) == n_gets
    rep = report(root)
    assert rep[H["good"]]["status"] == "present" and rep[H["other"]]["status"] == "fetched"
    assert len(rep) == 6


@pytest.mark.parametrize("token", [None, "hf_token_without_access"])
def test_no_token_or_no_access_names_the_page_and_writes_nothing(hub, tmp_path, scene_zip, token):
    hub.files[(REPO_960, f"1K/{H['good']}.zip")] = HubFile(dl3dv_zip(scene_zip, H["good"]))
    hub.no_access.add(REPO_960)
    root = tmp_path / "DL3DV"

    out = fetch(hub, tmp_path, [("1K", H["good"])], root, token=token)

    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lionlora scene fetch: error:"), out.stderr
    assert f"{hub.url}/datasets/{REPO_960}" in lines[0]
    assert not root.exists()
    assert not hub.gets(f"1K/{H['good']}.zip")
    if token:  # the hub answered 403 GatedRepo to the access check
        assert "HTTP 403" in lines[0]


def test_transfer_cut_midway_resumes_with_a_range_request(hub, tmp_path, scene_zip, scene_dir):
    data = dl3dv_zip(scene_zip, H["good"])
    cut = len(data) // 3
    hub.files[(REPO_960, f"1K/{H['good']}.zip")] = HubFile(data, cut=cut)
    root = tmp_path / "DL3DV"

    out = fetch(hub, tmp_path, [("1K", H["good"])], root)

    assert out.returncode == 0, out.stderr
    gets = hub.gets(f"1K/{H['good']}.zip")
    assert [g.range for g in gets] == [None, f"bytes={cut}-"]
    assert hub.sent[f"1K/{H['good']}.zip"] == len(data)  # nothing sent twice
    assert_scene_matches(scene_dir, root / "1K" / H["good"])


def test_killed_run_resumes_where_it_stopped(hub, tmp_path, scene_zip, scene_dir):
    data = dl3dv_zip(scene_zip, H["good"])
    stall = len(data) // 2
    f = hub.files[(REPO_960, f"1K/{H['good']}.zip")] = HubFile(data, stall=stall)
    root = tmp_path / "DL3DV"
    hashes = write_hashes(tmp_path / "hashes.csv", [("1K", H["good"])])
    cmd = [*LIONLORA, "-q", "scene", "fetch", "--hashes", str(hashes), "--root", str(root)]
    proc = subprocess.Popen(cmd, env=env_for(hub, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert f.stalled.wait(120), "the download never started"
        part = next(iter((root / ".fetch").rglob("*.part")), None)
        deadline = time.time() + 30
        while (part is None or part.stat().st_size < stall) and time.time() < deadline:
            time.sleep(0.1)
            part = next(iter((root / ".fetch").rglob("*.part")), None)
        assert part is not None and part.stat().st_size == stall
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        f.release.set()
    assert not (root / "1K" / H["good"]).exists()

    out = fetch(hub, tmp_path, [("1K", H["good"])], root)

    assert out.returncode == 0, out.stderr
    assert [g.range for g in hub.gets(f"1K/{H['good']}.zip")] == [None, f"bytes={stall}-"]
    assert hub.sent[f"1K/{H['good']}.zip"] == len(data)
    assert_scene_matches(scene_dir, root / "1K" / H["good"])
    assert not (root / ".fetch").exists()


def test_disk_full_during_unpack_leaves_no_scene_folder(tmp_path, scene_zip, monkeypatch):
    from lionlora.scenes import SceneRef
    from lionlora.scenes import fetch as fetch_mod

    archive = tmp_path / "parts" / "scene.zip"
    archive.parent.mkdir()
    archive.write_bytes(dl3dv_zip(scene_zip, H["good"]))
    written = []

    def copy_until_full(src, dst, chunk=1 << 20):
        if len(written) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(dst.name)
        dst.write(src.read())

    monkeypatch.setattr(fetch_mod, "_copy", copy_until_full)
    monkeypatch.setattr(fetch_mod, "download_archive", lambda *a, **k: archive)
    root = tmp_path / "DL3DV"

    result = fetch_mod.fetch_scene(SceneRef(H["good"], "1K"), root, REPO_960, TOKEN)

    assert result.status == "failed"
    assert result.reason == f"unpack failed: [Errno {errno.ENOSPC}] {os.strerror(errno.ENOSPC)}"
    assert len(written) == 3
    assert list((root / "1K").iterdir()) == []  # neither the scene nor its temporary folder
    assert archive.is_file()  # the verified archive is kept for the next run

    monkeypatch.setattr(fetch_mod, "_copy", lambda src, dst, chunk=0: dst.write(src.read()))
    assert fetch_mod.fetch_scene(SceneRef(H["good"], "1K"), root, REPO_960, TOKEN).status == "fetched"
    assert (root / "1K" / H["good"] / "transforms.json").is_file()
    assert not archive.exists()


def test_archive_with_unsafe_paths_is_refused(tmp_path):
    from lionlora.scenes.fetch import SceneUnavailable, unpack_scene

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("abc/transforms.json", "{}")
        zf.writestr("../escape.txt", "x")
    with pytest.raises(SceneUnavailable, match="unsafe member path"):
        unpack_scene(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path.parent / "escape.txt").exists()


def test_a_scene_without_batch_is_reported(tmp_path):
    from lionlora.scenes import SceneRef
    from lionlora.scenes.fetch import fetch_scene

    result = fetch_scene(SceneRef(H["good"]), tmp_path, REPO_960, TOKEN)
    assert result.status == "failed" and "batch" in result.reason


# -- the workflow: rule scene_fetch in the paper config ------------------------------------------


EVAL_HASH = (
    "0123456789abcdef0123456789abcdee"  # the held-out evaluation scene (scenes.dl3dv.eval_hash_list), already on disk
)


def paper_overrides(tmp_path, root: Path, rows: list[tuple[str, str]], scene_dir: Path) -> Path:
    import shutil

    write_hashes(tmp_path / "scenes.csv", rows)
    write_hashes(tmp_path / "eval.csv", [("1K", EVAL_HASH)])
    shutil.copytree(scene_dir, root / "1K" / EVAL_HASH)
    over = tmp_path / "over.yaml"
    over.write_text(
        f"results: {tmp_path / 'results'}\n"
        f"scenes:\n  dl3dv: {{root: {root}, hash_list: {tmp_path / 'scenes.csv'}, "
        f"eval_hash_list: {tmp_path / 'eval.csv'}, fetch: {{resolution: 960P}}}}\n"
    )
    return over


def snakemake(over: Path, *args, env=None):
    """Snakemake on the paper config with the overrides ``over``."""
    from tests.conftest import REPO

    cmd = [str(Path(sys.executable).parent / "snakemake"), *args, "--configfile", "configs/paper.yaml", str(over)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=600)


def test_paper_config_plans_fetch_only_for_missing_scenes(tmp_path, scene_dir):
    import re
    import shutil

    root = tmp_path / "DL3DV"
    present = [("1K", H["good"]), ("1K", H["other"])]
    for batch, h in present:
        shutil.copytree(scene_dir, root / batch / h)
    over = paper_overrides(tmp_path, root, [*present, ("2K", H["missing"])], scene_dir)

    out = snakemake(over, "-n", "--cores", "8", "--resources", "downloads=4")

    assert out.returncode == 0, out.stderr + out.stdout
    text = out.stdout + out.stderr
    counts = {k: int(v) for k, v in re.findall(r"^(\w+)\s+(\d+)$", text, re.M)}
    assert "scene_fetch" in counts, text[-3000:]
    assert counts["scene_fetch"] == 1
    assert counts["scene_check"] == counts["reconstruct"] == 4  # 3 training scenes + 1 evaluation scene
    assert counts["render_clip"] == 4 * 14  # 8 primitives + 6 fused per scene
    assert f"wildcards: batch=2K, hash={H['missing']}" in text


def test_workflow_fetches_missing_scenes_one_transfer_at_a_time(hub, tmp_path, scene_dir, scene_zip):
    rows = [("1K", H["good"]), ("2K", H["other"])]
    for batch, h in rows:
        hub.files[(REPO_960, f"{batch}/{h}.zip")] = HubFile(dl3dv_zip(scene_zip, h))
    hub.pace = 0.02
    root = tmp_path / "DL3DV"
    over = paper_overrides(tmp_path, root, rows, scene_dir)
    targets = [str(root / b / h) for b, h in rows]

    out = snakemake(over, *targets, "--cores", "2", "--resources", "downloads=1", env=env_for(hub, tmp_path))

    assert out.returncode == 0, out.stderr[-3000:]
    for batch, h in rows:
        assert_scene_matches(scene_dir, root / batch / h)
    assert hub.max_active == 1  # two jobs could run (2 cores) but one download at a time
    assert report(root).keys() == {h for _, h in rows}  # both jobs' rows, merged
