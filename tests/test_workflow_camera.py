"""The camera-dataset rules plan from the demo config: reconstruct -> render (basic + fused) -> pairs (+ web clips)."""

import re

from tests.test_workflow import snakemake


def test_demo_plans_reconstruction_clips_and_pairs(tmp_path):
    out = snakemake("-n", "-p", "--cores", "2", "--config", f"results={tmp_path}/r")
    assert out.returncode == 0, out.stderr + out.stdout
    text = out.stdout + out.stderr  # snakemake prints the shell commands on stderr
    counts = dict(re.findall(r"^(reconstruct|render_clip|pairs)\s+(\d+)$", text, re.M))
    # training scene: 8 basic + 2 fused clips; the held-out views (embedded_eval, the same splat): the 5
    # clips the generated videos are conditioned on
    assert counts == {"reconstruct": "1", "render_clip": "15", "pairs": "1"}
    assert "clips/embedded_eval/pan_left" in text and "--set start_frame=23" in text
    assert "reconstruct --scene" in text and "--set steps=300" in text
    assert "--primitive 'dolly_in+orbit_left'" in text and "--set frames=49" in text
    assert re.search(r"pairs --out \S+/pairs --clips( \S+/clips/embedded/\w+){8} ", text)
    assert "--set sample_frames=17" in text  # the pretrained tiny model's native 17 frames
    # the accepted web clips are paired too, with the filter's clip length
    assert re.search(r"--webvideos \S+/webvideos/manifest.csv", text) and "--set motion_frames=49" in text
