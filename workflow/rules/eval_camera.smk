# Camera-control evaluation: SfM poses of the ground-truth clips (the noise floor) and of each
# method's generated videos, scored against the ground-truth cameras, then tables beside the paper.
#
# Config: `eval_camera` (options of `lionlora eval camera`), `eval_table` (options of
# `lionlora eval table`) and `eval_targets` (which primitives and methods the table collects).
# One folder per video: RESULTS/eval/{method}/{scene}__{primitive}/camera.json, with the recovered
# cameras.json beside it when any frame registered (not a declared output: a failed row has none).
# pycolmap runs on the rule's threads (`lionlora --threads`).
# The noise floor scores the true renders of what the generated videos show: the clip frames that
# the first generated method's GT cameras list, at its size (`eval camera --source-frames`); with
# no generated methods, the whole clip.


rule eval_camera_floor:
    input:
        video=f"{RESULTS}/clips/{{scene}}/{{primitive}}/clip.mp4",
        gt=floor_gt,
    output:
        f"{RESULTS}/eval/{eval_floor()}/{{scene}}__{{primitive}}/camera.json",
    log:
        f"{RESULTS}/logs/eval_camera/{eval_floor()}/{{scene}}__{{primitive}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/eval_camera_floor/{{scene}}__{{primitive}}.tsv"
    params:
        opts=cli_set("eval_camera"),
        frames=floor_frames_flag(),
    threads: job_threads("eval_camera_floor")
    resources:
        **job_resources("eval_camera_floor"),
    conda:
        software_env("eval_camera_floor")
    shell:
        "lionlora -q --threads {threads} eval camera --video {input.video} --gt {input.gt} --out {output} "
        "{params.frames} {params.opts} > {log} 2>&1"


rule eval_camera_generated:
    input:
        video=f"{RESULTS}/generated/{{method}}/{{scene}}__{{primitive}}/clip.mp4",
        gt=f"{RESULTS}/generated/{{method}}/{{scene}}__{{primitive}}/cameras.json",
    output:
        f"{RESULTS}/eval/{{method}}/{{scene}}__{{primitive}}/camera.json",
    wildcard_constraints:
        method=rf"(?!{eval_floor()}$)[A-Za-z0-9_.-]+",
    log:
        f"{RESULTS}/logs/eval_camera/{{method}}/{{scene}}__{{primitive}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/eval_camera_generated/{{method}}/{{scene}}__{{primitive}}.tsv"
    params:
        opts=cli_set("eval_camera"),
    threads: job_threads("eval_camera_generated")
    resources:
        **job_resources("eval_camera_generated"),
    conda:
        software_env("eval_camera_generated")
    shell:
        "lionlora -q --threads {threads} eval camera --video {input.video} --gt {input.gt} --out {output} "
        "{params.opts} > {log} 2>&1"


rule eval_camera_table:
    input:
        camera_eval_results(),
        fvd_results() + motion_results(),
    output:
        csv=report(
            f"{RESULTS}/tables/camera_metrics.csv",
            caption="../report/camera_metrics.rst",
            category="Tables",
            labels={"table": "camera metrics per method"},
        ),
        per_video=report(
            f"{RESULTS}/tables/per_video.csv",
            caption="../report/per_video.rst",
            category="Tables",
            labels={"table": "camera metrics per video"},
        ),
        md=f"{RESULTS}/tables/camera_tables.md",
    log:
        f"{RESULTS}/logs/eval_camera/table.log",
    benchmark:
        f"{RESULTS}/benchmarks/eval_camera_table.tsv"
    params:
        results=lambda wc, input: os.path.dirname(os.path.dirname(os.path.dirname(input[0]))),
        out=lambda wc, output: os.path.dirname(output.md),
        opts=cli_set("eval_table"),
    threads: job_threads("eval_camera_table")
    resources:
        **job_resources("eval_camera_table"),
    conda:
        software_env("eval_camera_table")
    shell:
        "lionlora --threads {threads} eval table --results {params.results} --out {params.out} {params.opts}"
        " > {log} 2>&1"


rule tables_html:
    input:
        f"{RESULTS}/tables/camera_tables.md",
    output:
        report(
            f"{RESULTS}/tables/camera_tables.html",
            caption="../report/camera_tables.rst",
            category="Tables",
            labels={"table": "Tables 1-3 beside the paper"},
        ),
    log:
        f"{RESULTS}/logs/tables_html.log",
    benchmark:
        f"{RESULTS}/benchmarks/tables_html.tsv"
    threads: job_threads("tables_html")
    resources:
        **job_resources("tables_html"),
    conda:
        software_env("tables_html")
    shell:
        "lionlora -q --threads {threads} report-html --md {input} --out {output} > {log} 2>&1"


if camera_eval_results():
    ALL_TARGETS.extend([f"{RESULTS}/tables/camera_tables.md", f"{RESULTS}/tables/camera_tables.html"])
