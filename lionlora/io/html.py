"""Markdown tables as standalone HTML pages (the Snakemake report shows HTML, not Markdown)."""

from __future__ import annotations

from pathlib import Path

from lionlora.errors import InputError
from lionlora.io.files import write_text

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:1em}} table{{border-collapse:collapse;margin:1em 0}}
th,td{{border:1px solid #bbb;padding:2px 8px;text-align:right}} th{{background:#eee}}</style>
</head><body>
{body}
</body></html>
"""


def markdown_to_html(md_path: str | Path, out: str | Path) -> Path:
    """Render a Markdown file (headings, tables, lists) to one HTML page, written atomically."""
    import markdown

    md_path = Path(md_path)
    if not md_path.is_file():
        raise InputError(md_path, "", "an existing Markdown file", got="no such file")
    body = markdown.markdown(md_path.read_text(encoding="utf-8"), extensions=["tables"])
    return write_text(out, _PAGE.format(title=md_path.stem, body=body))
