"""Matplotlib figures (loss curves, Figs. 4-6 and 10), on the non-interactive backend, written
atomically as PNG."""

from __future__ import annotations

from pathlib import Path

from lionlora.io.files import atomic_path


def new_axes(figsize: tuple[float, float] = (7, 3.5), dpi: int = 110, nrows: int = 1, ncols: int = 1, **kwargs):
    """A figure and its axes on the non-interactive backend (a grid of axes with ``nrows``/``ncols``,
    as ``plt.subplots`` returns them)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, figsize=figsize, dpi=dpi, **kwargs)


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` to ``path`` (atomically, PNG at the figure's dpi) and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(path)


def finish(fig, ax, xlabel: str, ylabel: str, title: str, path: str | Path, legend: bool = True) -> Path:
    """Label the axes, add the legend and grid, write the figure to ``path`` (atomically, PNG at the
    figure's dpi) and close it."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if legend:
        ax.legend(fontsize=7, frameon=False)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)
