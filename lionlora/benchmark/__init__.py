"""The benchmark: a portable suite of samples any method can generate, scoring of any folder of
videos beside the paper's tables, and generation for the suite from LiON-LoRA or diffusers LoRAs.

An application layer: it builds on :mod:`lionlora.eval` (camera metrics, tables, FVD) and
:mod:`lionlora.apps` (generation); the commands are ``lionlora benchmark suite|run|generate``.
"""
