"""Data stages: the embedded scene, 3DGS reconstruction, trajectories and rendering, web-video curation.

Each stage is a small package with a typed config and one entry function that the CLI calls.
"""
