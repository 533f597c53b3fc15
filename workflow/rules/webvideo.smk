# Web-video curation: static-camera videos with enough motion, cut into clips (lionlora filter).
# Input: `webvideos.input` is a folder of downloaded videos, or "demo" for the labelled synthetic
# set (made from scikit-image photographs, with broken files) generated under RESULTS.
# The stage is planned only when `webvideos.input` is set (the paper's videos are not published).

if webvideos_planned():

    rule webvideo_demo_videos:
        output:
            directory(f"{RESULTS}/webvideos_input"),
        log:
            f"{RESULTS}/logs/webvideo_demo_videos.log",
        benchmark:
            f"{RESULTS}/benchmarks/webvideo_demo_videos.tsv"
        params:
            opts=" ".join(f"--{k} {v}" for k, v in config["webvideos"]["demo"].items()),
        threads: job_threads("webvideo_demo_videos")
        resources:
            **job_resources("webvideo_demo_videos"),
        conda:
            software_env("webvideo_demo_videos")
        shell:
            "lionlora -q --threads {threads} filter-demo-videos --out {output} {params.opts} > {log} 2>&1"

    rule webvideo_filter:
        input:
            webvideo_input(),
        output:
            report(
                f"{RESULTS}/webvideos/manifest.csv",
                caption="../report/webvideos.rst",
                category="Data",
                labels={"table": "web-video manifest"},
            ),
        log:
            f"{RESULTS}/logs/webvideo_filter.log",
        benchmark:
            f"{RESULTS}/benchmarks/webvideo_filter.tsv"
        params:
            out=lambda wc, output: os.path.dirname(output[0]),
            opts=cli_set("filter"),
            gpu=gpu_prefix("webvideo_filter"),
        threads: job_threads("webvideo_filter")
        resources:
            **job_resources("webvideo_filter"),
        conda:
            software_env("webvideo_filter")
        shell:
            "{params.gpu} lionlora -q --threads 1 filter --input {input} --out {params.out} {params.opts} > {log} 2>&1"

    ALL_TARGETS.append(f"{RESULTS}/webvideos/manifest.csv")

else:
    print("webvideo stage not planned: set webvideos.input to a folder of videos (or 'demo')", file=sys.stderr)
