# Training pairs (contract 1) -> RESULTS/pairs/manifest.csv, from the basic camera clips and, when
# pairs.include_webvideos is true, the accepted clips of RESULTS/webvideos/manifest.csv.


rule pairs:
    input:
        clips=[f"{d}/cameras.json" for d in pairs_clip_dirs()],
        webvideos=pairs_webvideos(),
    output:
        f"{RESULTS}/pairs/manifest.csv",
    log:
        f"{RESULTS}/logs/pairs.log",
    benchmark:
        f"{RESULTS}/benchmarks/pairs.tsv"
    params:
        out=lambda wc, output: os.path.dirname(output[0]),
        dirs=" ".join(shlex.quote(d) for d in pairs_clip_dirs()),
        web=" ".join(f"--webvideos {shlex.quote(m)}" for m in pairs_webvideos()),
        opts=cli_set("pairs"),
    threads: job_threads("pairs")
    resources:
        **job_resources("pairs"),
    conda:
        software_env("pairs")
    shell:
        "lionlora -q --threads {threads} pairs --out {params.out} --clips {params.dirs} {params.web} {params.opts}"
        " > {log} 2>&1"


ALL_TARGETS.append(f"{RESULTS}/pairs/manifest.csv")
