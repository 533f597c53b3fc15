"""`snakemake --report` holds the tables (Markdown rendered), the figures with their captions and
the per-rule runtimes.

A tiny run builds it: the last rules of the demo (eval motion, Figs. 6 and 10, the camera table
and its HTML page) run for real on small inputs written here: motion videos of a square moving
S-proportionally (so the flow is measured, not made up) and per-video camera results.
"""

import re
import zipfile

import numpy as np

from lionlora.io.files import write_json
from lionlora.io.video import write_video
from tests.test_camera_tables import video
from tests.test_workflow import snakemake

SCALES = (0.3, 0.65, 1.0)


def moving_square(speed, frames=9, h=64, w=96):
    out = np.full((frames, h, w, 3), 40, np.uint8)
    for t in range(frames):
        x = int(10 + speed * t)
        out[t, 20:40, x : x + 16] = (230, 200, 60)
        out[t, 45:55, 5:90:10] = 120  # static texture
    return out


def write_inputs(results):
    for method, gain in (("lin", 6.0), ("flat", 0.5)):
        folder = results / "generated" / method / "motion"
        folder.mkdir(parents=True)
        rows = []
        for s in SCALES:
            write_video(folder / f"S{s:.3f}.mp4", moving_square(gain * s), fps=8)
            rows.append(f"S{s:.3f}.mp4,{s}")
        (folder / "manifest.csv").write_text("video,scale\n" + "\n".join(rows) + "\n")
    for folder in ("clips/embedded/dolly_in", "generated/lionlora/embedded__dolly_in"):
        (results / folder).mkdir(parents=True)
        (results / folder / "clip.mp4").touch()
        (results / folder / "cameras.json").touch()
    write_json(results / "eval" / "gt" / "embedded__dolly_in" / "camera.json", video("ok", "dolly_in", 0.01))
    write_json(results / "eval" / "lionlora" / "embedded__dolly_in" / "camera.json", video("ok", "dolly_in", 1.0))


def test_report_holds_tables_figures_and_runtimes(tmp_path):
    results = tmp_path / "r"
    write_inputs(results)
    (tmp_path / "tiny.yaml").write_text(f"""results: {results}
generate: {{motion: {{image: ""}}}}
webvideos: {{input: ""}}
train: {{adapters: [], model: demo}}  # the random-init model: nothing here needs the pretrained one
eval_targets: {{primitives: [dolly_in], methods: [lionlora]}}
eval_table: {{baseline: lionlora, bootstrap: 200}}
eval_quality:
  methods: []
  motion_methods: [lin, flat]
  series: {{lin: {{label: LiON-LoRA, step: 2}}, flat: {{label: LiON-LoRA, step: 4}}}}
  fig6: [lin, flat]
  fig10: [lin, flat]
  motion: {{flow: {{backend: dis, height: 64, width: 96, stride: 1}}, min_videos: 3}}
""")
    targets = [
        f"{results}/tables/camera_tables.html",
        f"{results}/figures/fig6_correlation_vs_step.png",
        f"{results}/figures/fig10_magnitude_vs_scale.png",
    ]
    args = ("--configfile", "configs/demo.yaml", str(tmp_path / "tiny.yaml"))
    out = snakemake("--cores", "2", *args, "--", *targets)
    assert out.returncode == 0, out.stderr[-4000:]
    assert "eval_camera_table" in out.stderr and "eval_motion" in out.stderr
    report = tmp_path / "report.zip"  # (the report covers the default target: the config above plans
    out = snakemake(*args, "--report", str(report))  # no other rule whose outputs go into a report)
    assert out.returncode == 0, out.stderr[-4000:]
    with zipfile.ZipFile(report) as z:
        names = z.namelist()
        text = "\n".join(z.read(n).decode("utf-8", "replace") for n in names if n.endswith((".html", ".js", ".json")))
    for name in (
        "camera_tables.html",
        "camera_metrics.csv",
        "per_video.csv",
        "fig6_correlation_vs_step.png",
        "fig10_magnitude_vs_scale.png",
    ):
        assert any(n.endswith(name) for n in names), (name, names)
    page = next(z for z in names if z.endswith("camera_tables.html"))
    with zipfile.ZipFile(report) as z:
        html = z.read(page).decode()
    assert "<table>" in html and "<th>" in html  # the Markdown table, rendered
    assert "optical-flow magnitude against the scaling value S" in text  # a figure caption (fig10.rst)
    assert "Tables 1-3 of the paper beside this run" in text  # a table caption
    assert re.search(r"eval_motion", text) and "runtime" in text.lower()  # per-rule runtimes
