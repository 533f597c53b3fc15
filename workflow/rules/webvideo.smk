# Web-video curation: static-camera videos with enough motion, cut into clips (lionlora filter).
# Input: `webvideos.input` is a folder of downloaded videos, or "demo" for the labelled synthetic
# set (made from scikit-image photographs, with broken files) generated under RESULTS.
# The stage is planned only when `webvideos.input` is set (the paper's videos are not published).

if (config.get("webvideos") or {}).get("input"):

    def webvideo_input():
        source = config["webvideos"]["input"]
        return f"{RESULTS}/webvideos_input" if source == "demo" else source


    rule webvideo_demo_videos:
        output:
            directory(f"{RESULTS}/webvideos_input"),
        log:
            f"{RESULTS}/logs/webvideo_demo_videos.log",
        params:
            opts=" ".join(f"--{k} {v}" for k, v in (config["webvideos"].get("demo") or {}).items()),
        shell:
            "{LIONLORA} -q filter-demo-videos --out {output} {params.opts} > {log} 2>&1"


    rule webvideo_filter:
        input:
            webvideo_input(),
        output:
            f"{RESULTS}/webvideos/manifest.csv",
        log:
            f"{RESULTS}/logs/webvideo_filter.log",
        params:
            out=f"{RESULTS}/webvideos",
            opts=cli_set(config.get("filter")),
        shell:
            "{LIONLORA} -q filter --input {input} --out {params.out} {params.opts} > {log} 2>&1"


    ALL_TARGETS.append(f"{RESULTS}/webvideos/manifest.csv")

else:
    print("webvideo stage not planned: set webvideos.input to a folder of videos (or 'demo')", file=sys.stderr)
