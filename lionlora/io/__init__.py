"""File formats at the toolkit's edges: camera files, videos, atomic writes."""
