"""Figure style (paper-size fonts, Okabe-Ito colours) and saving a figure with its plotted data."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

# Okabe and Ito (2008): distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000")
HYBRID_COLORS = OKABE_ITO[:6]  # black is CLIP's; yellow is too faint on white
BASELINES = {
    "clip": {"color": "#000000", "marker": "s", "linestyle": "--"},
    "clip-en": {"color": "#7F7F7F", "marker": "D", "linestyle": "-."},
    "pretrained": {"color": "#7F7F7F", "marker": "*", "linestyle": ":"},
}
HYBRID_MARKERS = ("o", "v", "^", "<", ">", "p", "h", "X")
RC = {
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.4,
    "lines.markersize": 4.5,
    "svg.fonttype": "none",  # text stays text in SVG: editable and searchable in a paper
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
}


def figure(width: float, height: float) -> Figure:
    """A new figure (no pyplot, so no global state) with the house style."""
    matplotlib.rcParams.update(RC)
    return Figure(figsize=(width, height), layout="constrained")


def series_style(arm: str, alpha: float, alphas: list[float]) -> dict:
    """Colour, marker and line style of a series; hybrid alphas take Okabe-Ito colours in order."""
    if arm in BASELINES:
        return dict(BASELINES[arm])
    if arm != "hybrid" or not np.isfinite(alpha) or alpha not in alphas:
        return {"color": OKABE_ITO[5], "marker": "P", "linestyle": "-"}
    i = alphas.index(alpha)
    if len(alphas) <= len(HYBRID_COLORS):
        color = HYBRID_COLORS[i]
    else:  # too many alphas for a qualitative palette: a colour-blind-safe sequential map
        color = matplotlib.colormaps["cividis"](i / (len(alphas) - 1))
    return {"color": color, "marker": HYBRID_MARKERS[i % len(HYBRID_MARKERS)], "linestyle": "-"}


def save(fig: Figure, data: pd.DataFrame, out_dir: Path, name: str) -> list[Path]:
    """Write `name`.png, .svg and the CSV of exactly the plotted series."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.png", out_dir / f"{name}.svg", out_dir / f"{name}.csv"]
    fig.savefig(paths[0])
    fig.savefig(paths[1])
    data.to_csv(paths[2], index=False)
    return paths


def format_size(n: float) -> str:
    """Compact item count: 500, 2k, 1.5M."""
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return f"{n:.0f}"


def size_axis(ax: Axes, sizes: np.ndarray, label: bool = True) -> None:
    """Log-scale data-size axis with one tick per trained size (no crowded minor labels)."""
    sizes = np.unique(np.asarray(sizes, dtype=float))
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(sizes))
    ax.xaxis.set_major_formatter(FixedFormatter([format_size(n) for n in sizes]))
    ax.xaxis.set_minor_locator(NullLocator())
    if len(sizes):
        ax.set_xlim(sizes.min() / 1.25, sizes.max() * 1.25)
    if label:
        ax.set_xlabel("training items N (log scale)")
