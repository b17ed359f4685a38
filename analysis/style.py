"""Figure style (paper-size fonts, Okabe-Ito colours) and saving a figure with its plotted data.

Styles follow the roles the trials table gives (`is_baseline`, alpha), never arm names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

# Okabe and Ito (2008): distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000")
STUDIED_COLORS = OKABE_ITO[:6]  # black and greys are the baselines'; yellow is too faint on white
# Baselines in arm-name order: the first (the one compared against) black and dashed.
BASELINE_STYLES = (
    {"color": "#000000", "marker": "s", "linestyle": "--"},
    {"color": "#7F7F7F", "marker": "D", "linestyle": "-."},
    {"color": "#4D4D4D", "marker": "d", "linestyle": (0, (5, 1, 1, 1, 1, 1))},
)
REFERENCE_STYLE = {"color": "#7F7F7F", "marker": "*", "linestyle": ":"}  # evaluated once
STUDIED_MARKERS = ("o", "v", "^", "<", ">", "p", "h", "X")
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


Plot = TypeVar("Plot", bound=Callable)


def house_style(plot: Plot) -> Plot:
    """Run a plotting function (figure built and saved inside it) under the house style, without
    changing matplotlib's global settings for the caller."""

    @functools.wraps(plot)
    def styled(*args, **kwargs):
        with matplotlib.rc_context(RC):
            return plot(*args, **kwargs)

    return styled  # type: ignore[return-value]


def figure(width: float, height: float) -> Figure:
    """A new figure, not registered with pyplot (so nothing keeps it alive after saving)."""
    return Figure(figsize=(width, height), layout="constrained")


def series_styles(order: list, alphas: list[float]) -> dict[str, dict]:
    """Colour, marker and line style per series (`analysis.series.Series`): studied alphas take
    Okabe-Ito colours in alpha order, baselines the grey dashed styles in their order."""
    styles, baselines = {}, [s for s in order if s.baseline]
    for s in order:
        if s.baseline:
            styles[s.name] = dict(BASELINE_STYLES[baselines.index(s) % len(BASELINE_STYLES)])
        elif not np.isfinite(s.alpha) or s.alpha not in alphas:
            styles[s.name] = {"color": OKABE_ITO[5], "marker": "P", "linestyle": "-"}
        else:
            i = alphas.index(s.alpha)
            if len(alphas) <= len(STUDIED_COLORS):
                color = STUDIED_COLORS[i]
            else:  # too many alphas for a qualitative palette: a colour-blind-safe sequential map
                color = matplotlib.colormaps["cividis"](i / (len(alphas) - 1))
            marker = STUDIED_MARKERS[i % len(STUDIED_MARKERS)]
            styles[s.name] = {"color": color, "marker": marker, "linestyle": "-"}
    return styles


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
