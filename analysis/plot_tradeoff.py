"""`tradeoff_<x>_vs_<y>`: monolingual against cross-lingual accuracy as data grows, against the
baselines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from analysis.labels import Label, place_labels, polyline_samples
from analysis.metrics import describe, file_stem
from analysis.selection import best_alpha, paired_means, pareto
from analysis.series import (
    baseline_arm,
    references,
    series_order,
    studied_alphas,
    studied_label,
)
from analysis.style import (
    OKABE_ITO,
    REFERENCE_STYLE,
    figure,
    format_size,
    house_style,
    save,
    series_styles,
)

PANELS_PER_ROW = 5
_METRIC_COLORS = (OKABE_ITO[3], OKABE_ITO[4])  # blue for x, vermillion for y


def _main_panel(
    ax, points: pd.DataFrame, trials: pd.DataFrame, x: str, y: str
) -> tuple[list[pd.DataFrame], list[Label], np.ndarray]:
    """Polylines per series through increasing N, the Pareto frontier and the reference points.

    Returns the plotted rows, and the N labels of each line's ends with what they must keep off,
    to be placed once the layout is final.
    """
    order = series_order(trials)
    styles = series_styles(order, studied_alphas(trials))
    rows, handles, labels, marks = [], [], [], [np.empty((0, 2))]
    front = pareto(points, x, y)
    if len(front) > 1:
        handles += ax.plot(front["mean_x"], front["mean_y"], color="#BBBBBB", linewidth=6, alpha=0.6,
                           solid_capstyle="round", zorder=1, label="Pareto frontier (all arms, all N)")  # fmt: skip
    rows.append(front.assign(panel="all N", kind="pareto"))
    for series in order:
        line = points[points["series"] == series.name].sort_values("data_size")
        if line.empty:
            continue
        st = styles[series.name]
        ax.plot(
            line["mean_x"], line["mean_y"], linestyle=st["linestyle"], color=st["color"], zorder=2
        )
        # Marker area grows with N, so the direction of each polyline reads without arrows.
        scale = np.log(line["data_size"].to_numpy(float))
        span = np.ptp(scale) or 1.0
        ax.scatter(line["mean_x"], line["mean_y"], s=10 + 40 * (scale - scale.min()) / span,
                   marker=st["marker"], color=st["color"], zorder=3)  # fmt: skip
        handles.append(Line2D([], [], label=series.name, **st))
        labels += [Label(end["mean_x"], end["mean_y"], format_size(end["data_size"]), st["color"])
                   for end in (line.iloc[0], line.iloc[-1])]  # fmt: skip
        marks.append(
            polyline_samples(line["mean_x"].to_numpy(float), line["mean_y"].to_numpy(float))
        )
        rows.append(line.assign(panel="all N", kind="series"))
    ry = dict(references(trials, y))
    for name, rx in references(trials, x):
        if name not in ry:
            continue
        st = REFERENCE_STYLE
        # Reference lines through the untrained model: which side of it each arm ends up on.
        ref_line = {"color": st["color"], "linestyle": st["linestyle"], "linewidth": 0.9}
        ax.axvline(rx, zorder=1, **ref_line)
        ax.axhline(ry[name], zorder=1, **ref_line)
        handles.append(ax.scatter([rx], [ry[name]], marker=st["marker"], s=90, color=st["color"],
                                  zorder=3, label=f"{name} (no training)"))  # fmt: skip
        rows.append(pd.DataFrame({"panel": ["all N"], "kind": "reference", "series": name,
                                  "mean_x": rx, "mean_y": ry[name]}))  # fmt: skip
    ax.set_xlabel(describe(x))
    ax.set_ylabel(describe(y))
    ax.set_title(
        "Seed means; one line per arm through increasing N (larger marker = larger N)", loc="left"
    )
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return rows, labels, np.vstack(marks)


def _size_panel(
    ax, points: pd.DataFrame, n: float, best: pd.DataFrame, base: str | None
) -> list[pd.DataFrame]:
    """Both metrics against alpha at one size, baseline `base` as horizontal lines, the best
    alpha starred."""
    at = points[points["data_size"] == n]
    studied = at[~at["is_baseline"]].sort_values("alpha")
    baseline = at[at["arm"] == base]
    rows = [studied.assign(panel=f"N={n:g}", kind="alpha")]
    for col, color in zip(("x", "y"), _METRIC_COLORS, strict=True):
        mean = studied[f"mean_{col}"].to_numpy(float)
        yerr = np.nan_to_num(np.stack([mean - studied[f"lo_{col}"], studied[f"hi_{col}"] - mean]))
        ax.errorbar(studied["alpha"], mean, yerr=yerr, color=color, marker="o", markersize=3.5,
                    capsize=2, elinewidth=0.8)  # fmt: skip
        if len(baseline):
            ax.axhline(baseline[f"mean_{col}"].iloc[0], color=color, linestyle="--", linewidth=1.0)
    if len(baseline):
        rows.append(baseline.assign(panel=f"N={n:g}", kind="baseline"))
    pick = best[best["data_size"] == n]
    if len(pick):
        row = pick.iloc[0]
        for col in ("x", "y"):
            ax.plot(row["alpha"], row[f"mean_{col}"], marker="*", markersize=11, color="#000000",
                    markerfacecolor="none", markeredgewidth=1.0, zorder=4)  # fmt: skip
        ax.set_title(f"N = {format_size(n)}\nbest α = {row['alpha']:g}", loc="left", fontsize=8)
        rows.append(pick.drop(columns="score").assign(panel=f"N={n:g}", kind="best"))
    ax.set_xticks(sorted(studied["alpha"].unique()))
    return rows


def _size_legend(x: str, y: str, studied: str, base: str | None) -> list[Line2D]:
    """Legend of the per-size panels: one colour per metric, the dashed baseline, the best-alpha star."""
    solid = [Line2D([], [], color=c, marker="o", markersize=3.5, label=f"{m} ({studied}, 95 % interval)")
             for m, c in ((x, _METRIC_COLORS[0]), (y, _METRIC_COLORS[1]))]  # fmt: skip
    dashed = [Line2D([], [], color=c, linestyle="--", label=f"{m} ({base})")
              for m, c in ((x, _METRIC_COLORS[0]), (y, _METRIC_COLORS[1]))]  # fmt: skip
    star = Line2D([], [], color="#000000", marker="*", markersize=9, markerfacecolor="none", linestyle="",
                  label="best α (highest mean of both)")  # fmt: skip
    return [*solid, *(dashed if base else []), star]


@house_style
def draw_tradeoff(trials: pd.DataFrame, x: str, y: str) -> tuple[Figure, Axes, pd.DataFrame]:
    """The trade-off figure of metrics `x` (mono) and `y` (cross), its main panel (where the N
    labels are) and the plotted values."""
    points = paired_means(trials, x, y)
    studied = points[~points["is_baseline"]]
    # Per-size panels compare alphas: with fewer than two there is nothing to choose between.
    sizes = sorted(studied["data_size"].unique()) if studied["alpha"].nunique() > 1 else []
    base_arm, base_label = baseline_arm(trials) or (None, None)
    rows_n = -(-len(sizes) // PANELS_PER_ROW)
    fig = figure(7.2, 3.6 + 1.9 * rows_n)
    top, bottom = fig.subfigures(2, 1, height_ratios=[3.6, 1.9 * rows_n]) if sizes else (fig, None)
    main = top.add_subplot()
    rows, labels, marks = _main_panel(main, points, trials, x, y)
    if sizes:
        best = best_alpha(points, x, y)
        axes = bottom.subplots(
            rows_n, min(len(sizes), PANELS_PER_ROW), sharey=True, squeeze=False
        ).ravel()
        for ax, n in zip(axes, sizes, strict=False):
            rows += _size_panel(ax, points, n, best, base_arm)
        for ax in axes[len(sizes) :]:
            ax.set_visible(False)
        axes[0].set_ylabel("metric value")
        bottom.supxlabel("α (share of monolingual batches)", fontsize=8.5)
        legend = _size_legend(x, y, studied_label(trials), base_label)
        bottom.legend(handles=legend, loc="outside right upper")
        bottom.suptitle("Per data size: which α balances both metrics best (mean of the two)",
                        x=0.01, ha="left", fontsize=9)  # fmt: skip
    fig.draw_without_rendering()  # fixes the layout, so labels are placed where they will be drawn
    place_labels(main, labels, marks)
    data = pd.concat(rows, ignore_index=True)
    values = {f"{stat}_{col}": name if stat == "mean" else f"{name}_{stat}"
              for col, name in (("x", x), ("y", y)) for stat in ("mean", "sd", "lo", "hi")}  # fmt: skip
    cols = ["panel", "kind", "series", "arm", "alpha", "data_size", *values, "n_seeds"]
    return fig, main, data.reindex(columns=cols).rename(columns=values)


@house_style
def plot_tradeoff(trials: pd.DataFrame, x: str, y: str, out_dir: Path) -> list[Path]:
    """Draw and save the trade-off figure of metrics `x` (mono) and `y` (cross); returns its paths."""
    fig, _, data = draw_tradeoff(trials, x, y)
    return save(fig, data, out_dir, f"tradeoff_{file_stem(x)}_vs_{file_stem(y)}")
