"""Data shipped with the evaluation package (the paper's published tables)."""
