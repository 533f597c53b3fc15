"""The camera-evaluation rules plan the noise floor, the methods' videos and the table."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def test_eval_camera_rules_plan(tmp_path):
    results = tmp_path / "results"
    for folder in (
        "clips/embedded_eval/dolly_in",
        "clips/embedded_eval/dolly_in+orbit_left",
        "generated/lionlora/embedded_eval__dolly_in",
        "generated/lionlora/embedded_eval__dolly_in+orbit_left",
    ):
        (results / folder).mkdir(parents=True)
        (results / folder / "clip.mp4").touch()
        (results / folder / "cameras.json").touch()
    (tmp_path / "cfg.yaml").write_text(
        f"results: {results}\neval_camera:\n  trials: 2\n"
        "eval_targets:\n  primitives: [dolly_in, dolly_in+orbit_left]\n  methods: [lionlora]\n"
    )
    out = subprocess.run(
        [
            str(SNAKEMAKE),
            "-n",
            "-p",
            "--cores",
            "1",
            "--configfile",
            "configs/demo.yaml",
            str(tmp_path / "cfg.yaml"),
            "--until",
            "eval_camera_table",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr + out.stdout
    text = out.stdout
    for rule, count in (("eval_camera_floor", 2), ("eval_camera_generated", 2), ("eval_camera_table", 1)):
        assert f"{rule}" in text and any(ln.split() == [rule, str(count)] for ln in text.splitlines()), rule
    assert f"--out {results}/eval/gt/embedded_eval__dolly_in+orbit_left/camera.json" in text
    assert f"--out {results}/eval/lionlora/embedded_eval__dolly_in/camera.json" in text
    floor_gt = f"--gt {results}/generated/lionlora/embedded_eval__dolly_in/cameras.json"
    assert f"--video {results}/clips/embedded_eval/dolly_in/clip.mp4 {floor_gt} --out {results}/eval/gt/" in text
    assert text.count("--source-frames") == 2  # the floor's two jobs only
    assert "--set trials=2" in text
    assert f"eval table --results {results}/eval --out {results}/tables" in text
