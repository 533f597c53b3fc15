# Training pairs (contract 1) -> RESULTS/pairs/manifest.csv, from the basic camera clips and, when
# pairs.include_webvideos is true, the accepted clips of RESULTS/webvideos/manifest.csv.


def pairs_clip_dirs():
    prims = (config.get("pairs") or {}).get("primitives") or clip_primitives(("primitives",))
    return [f"{RESULTS}/clips/{s}/{p}" for s in scene_ids() for p in prims]


def pairs_options():
    """Options of `lionlora pairs`: pairs.options with the clip lengths and sample count."""
    clip = config.get("clip") or {}
    shared = {"camera_frames": clip["frames"]} if "frames" in clip else {}
    if "sample_frames" in clip:
        shared["sample_frames"] = clip["sample_frames"]
    if "clip_frames" in (config.get("filter") or {}):  # web-video clips are cut to this length
        shared["motion_frames"] = config["filter"]["clip_frames"]
    # camera pairs are captioned like the videos generated from their scenes (common.smk: scene_prompt_of)
    shared["camera_prompt"] = str((config.get("generate") or {}).get("prompt", ""))
    if config["scenes"].get("captions"):
        shared["captions"] = config["scenes"]["captions"]
    return stage_options("pairs", shared)


def pairs_webvideos():
    """The web-video manifest, when the web-video stage is planned and pairs.include_webvideos holds."""
    planned = bool((config.get("webvideos") or {}).get("input"))
    wanted = (config.get("pairs") or {}).get("include_webvideos", True)
    return [f"{RESULTS}/webvideos/manifest.csv"] if planned and wanted else []


rule pairs:
    input:
        clips=[f"{d}/cameras.json" for d in pairs_clip_dirs()],
        webvideos=pairs_webvideos(),
    output:
        f"{RESULTS}/pairs/manifest.csv",
    log:
        f"{RESULTS}/logs/pairs.log",
    params:
        out=f"{RESULTS}/pairs",
        dirs=" ".join(shlex.quote(d) for d in pairs_clip_dirs()),
        web=" ".join(f"--webvideos {shlex.quote(m)}" for m in pairs_webvideos()),
        opts=cli_set(pairs_options()),
    shell:
        "{LIONLORA} -q pairs --out {params.out} --clips {params.dirs} {params.web} {params.opts} > {log} 2>&1"


ALL_TARGETS.append(f"{RESULTS}/pairs/manifest.csv")
