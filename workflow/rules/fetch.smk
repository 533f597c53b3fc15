# DL3DV acquisition: with `scenes.dl3dv.fetch` set, every scene of `scenes.dl3dv.hash_list` that
# is not yet under `scenes.dl3dv.root` is downloaded from DL3DV's gated hub repo (your HF token) by
# `lionlora scene fetch`, one job per scene. Each job takes one unit of the `downloads` resource:
# `--resources downloads=N` (the profiles set 4) bounds the parallel transfers.
# A scene already on disk is never fetched again (the rule has no input to make it out of date).

FETCH = (config["scenes"].get("dl3dv") or {}).get("fetch") if config["scenes"]["source"] == "dl3dv" else None

if FETCH:

    rule scene_fetch:
        output:
            directory(f"{config['scenes']['dl3dv']['root']}/{{batch}}/{{hash}}"),
        log:
            f"{RESULTS}/logs/scene_fetch/{{batch}}/{{hash}}.log",
        wildcard_constraints:
            batch=r"[A-Za-z0-9_.-]+",
            hash=r"[0-9a-f]{16,128}",
        benchmark:
            f"{RESULTS}/benchmarks/scene_fetch/{{batch}}/{{hash}}.tsv"
        threads: job_threads("scene_fetch")
        resources:
            downloads=1,
            **job_resources("scene_fetch"),
        conda:
            software_env("scene_fetch")
        params:
            root=config["scenes"]["dl3dv"]["root"],
            rows=lambda wc: f"{RESULTS}/logs/scene_fetch/{wc.batch}/{wc.hash}.csv",
            resolution=FETCH.get("resolution", "960P"),
        shell:
            "printf 'hash,batch\\n%s,%s\\n' {wildcards.hash} {wildcards.batch} > {params.rows}"
            " && lionlora -q scene fetch --hashes {params.rows} --root {params.root}"
            " --resolution {params.resolution} > {log} 2>&1"
