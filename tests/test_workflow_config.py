"""One config system checked at plan time: every key of every section through its stage dataclass.

A misspelled key anywhere fails `snakemake -n` with one line naming the key and the closest
valid name; values are checked by the dataclass's own checks; the workflow's defaults are the
dataclass's (train.model) and the rules pass their threads on.
"""

import re
import shutil

import pytest

from tests.conftest import REPO
from tests.test_workflow import snakemake


def plan(tmp_path, text, *args):
    (tmp_path / "over.yaml").write_text(text)
    return snakemake(
        "-n",
        *args,
        "--configfile",
        "configs/demo.yaml",
        str(tmp_path / "over.yaml"),
        "--config",
        f"results={tmp_path}/r",
    )


def error_line(out):
    lines = [ln for ln in (out.stdout + out.stderr).splitlines() if ln.startswith("config error:")]
    assert out.returncode != 0 and len(lines) == 1, out.stdout + out.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("yaml", "key", "near"),
    [
        ("train:\n  adapter:\n    rnak: 4\n", "train.adapter.rnak", "train.adapter.rank"),  # a nested adapter option
        ("train:\n  learning_rat: 4\n", "train.learning_rat", "train.learning_rate"),  # a stage option
        ("render:\n  fpss: 8\n", "render.fpss", "render.fps"),  # render, once render.options
        ("pairs:\n  scale_step: 3\n", "pairs.scale_step", "pairs.scale_steps"),
        ("filter:\n  klt:\n    widnow: 9\n", "filter.klt.widnow", "filter.klt.window"),  # a nested dataclass
        ("eval_quality:\n  fvd:\n    batch_sise: 2\n", "eval_quality.fvd.batch_sise", "eval_quality.fvd.batch_size"),
        ("scenes:\n  source: embedded\n  embeded: {seed: 1}\n", "scenes.embeded", "scenes.embedded"),
        ("generate:\n  motion:\n    scale: [0.5, 1.0]\n", "generate.motion.scale", "generate.motion.scales"),
        ("clip:\n  frams: 49\n", "clip.frams", "clip.frames"),  # a section of the workflow's own keys
        ("trian:\n  steps: 2\n", "trian", "train"),  # a section name
        ("jobs:\n  trian_lora: {threads: 2}\n", "jobs.trian_lora", "jobs.train_lora"),  # a rule name
    ],
)
def test_a_misspelled_key_fails_the_dry_run_naming_the_closest_key(tmp_path, yaml, key, near):
    line = error_line(plan(tmp_path, yaml))
    assert f"'{key}'" in line and f"did you mean '{near}'?" in line, line


def test_a_bad_value_fails_through_the_dataclass_check(tmp_path):
    line = error_line(plan(tmp_path, "train:\n  adapter:\n    rank: 0\n"))
    assert "rank" in line and ">= 1" in line


def test_options_the_workflow_sets_are_refused(tmp_path):
    line = error_line(plan(tmp_path, "train:\n  out: somewhere\n"))
    assert "train.out is set by the workflow" in line


def test_schema_errors_are_one_line_with_the_key(tmp_path):
    line = error_line(plan(tmp_path, "generate:\n  methods: [lion]\n"))
    assert line.startswith("config error: config: generate.methods.0:") and "'lion'" in line


def test_train_model_defaults_to_the_dataclass_default(tmp_path):
    # a copy of the workflow whose default config has no train.model: the CLI's default model
    from lionlora.apps.train import TrainConfig

    shutil.copytree(REPO / "workflow", tmp_path / "workflow")
    demo = (REPO / "configs" / "demo.yaml").read_text()
    assert "\n  model: pretrained " in demo
    (tmp_path / "configs").mkdir()
    shutil.copy(REPO / "configs" / "demo_captions.csv", tmp_path / "configs")  # scenes.captions
    (tmp_path / "configs" / "demo.yaml").write_text(demo.replace("\n  model: pretrained ", "\n  # model: pretrained "))
    out = snakemake("-n", "-p", "--config", f"results={tmp_path}/r", cwd=tmp_path)
    assert out.returncode == 0, out.stderr + out.stdout
    models = set(re.findall(r"lionlora -q --threads \d+ train --model (\S+)", out.stdout + out.stderr))
    assert models == {TrainConfig.model}, models


def test_every_rule_passes_its_threads(tmp_path):
    out = plan(tmp_path, "jobs:\n  eval_camera_floor: {threads: 2, mem_mb: 1234}\n", "-p", "--cores", "4")
    assert out.returncode == 0, out.stderr
    text = out.stdout + out.stderr
    commands = [c for c in re.findall(r"^Shell command: (.*)$", text, re.M) if c != "None"]  # None: rule all
    assert commands and all(re.search(r"lionlora (-q )?--threads \d+ ", c) for c in commands)
    floor = [c for c in commands if " eval camera " in c and "/clips/" in c]
    assert floor and all("--threads 2 " in c for c in floor)
    assert re.search(r"rule eval_camera_floor:(?:.|\n)*?resources: [^\n]*mem_mb=1234", text)


def test_lint_finds_nothing(tmp_path):
    out = snakemake("--lint", "--config", f"results={tmp_path}/r")
    text = out.stdout + out.stderr
    assert out.returncode == 0 and "Lints for" not in text and "good condition" in text, text
