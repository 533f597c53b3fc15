"""The eval_quality rules plan FVD, motion and figures for configured methods (dry run)."""

from tests.test_workflow import snakemake


def test_eval_quality_rules_plan_configured_methods(tmp_path):
    results = tmp_path / "r"
    (results / "clips" / "embedded" / "dolly_in").mkdir(parents=True)
    (results / "generated" / "tok" / "motion").mkdir(parents=True)
    (results / "generated" / "tok" / "motion" / "manifest.csv").write_text("video,scale\n")
    (tmp_path / "cfg.yaml").write_text(f"""results: {results}
eval_quality:
  methods: [tok]
  subsets: {{basic: {{exclude: ["*+*"]}}, fused: {{include: ["*+*"]}}}}
  motion_methods: [tok]
  series: {{tok: {{label: scaling token, step: 400}}}}
  fig6: [tok]
  fig10: [tok]
""")
    out = snakemake("-n", "-p", "--configfile", "configs/demo.yaml", str(tmp_path / "cfg.yaml"))
    assert out.returncode == 0, out.stderr + out.stdout
    text = out.stdout
    for rule in ("eval_i3d_init", "eval_fvd", "eval_motion", "eval_fig6", "eval_fig10"):
        assert f"rule {rule}:" in text, rule
    assert text.count("rule eval_fvd:") == 3  # fvd.json, fvd_basic.json, fvd_fused.json
    assert "eval i3d-init --out" in text and "i3d_random_seed0.pt" in text
    assert '--set \'exclude=["motion/*", "*+*"]\'' in text  # the subset adds to the base patterns
    assert "--label 'scaling token' --step 400" in text
    assert "figures fig6 --inputs" in text and "fig10_magnitude_vs_scale.png" in text


def test_eval_quality_schema_rejects_bad_section(tmp_path):
    (tmp_path / "bad.yaml").write_text(f"results: {tmp_path}/r\neval_quality:\n  methods: tok\n")
    out = snakemake("-n", "--configfile", "configs/demo.yaml", str(tmp_path / "bad.yaml"))
    assert out.returncode != 0
    assert "methods" in out.stderr + out.stdout
