"""`tradeoff_<x>_vs_<y>`: monolingual against cross-lingual accuracy as data grows, against CLIP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from analysis.labels import Label, place_labels, polyline_samples
from analysis.metrics import describe, file_stem, lower_is_better
from analysis.series import aggregate, hybrid_alphas, reference, series_order, usable_trials
from analysis.style import BASELINES, OKABE_ITO, figure, format_size, save, series_style

PANELS_PER_ROW = 5
_METRIC_COLORS = (OKABE_ITO[3], OKABE_ITO[4])  # blue for x, vermillion for y


def paired_means(trials: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Seed means and sds of `x` and `y` per series and size, on the trials that have both."""
    both = trials[np.isfinite(trials[x].to_numpy(float)) & np.isfinite(trials[y].to_numpy(float))]
    keys = ["series", "arm", "alpha", "data_size"]
    ax, ay = aggregate(both, x), aggregate(both, y)
    out = ax.merge(ay, on=[*keys, "n_seeds"], suffixes=("_x", "_y"))
    return out.sort_values(keys, na_position="first").reset_index(drop=True)


def _score(frame: pd.DataFrame, x: str, y: str) -> np.ndarray:
    """Balanced score used to pick the best alpha: mean of both metrics, each signed so higher is better."""
    sx = -1.0 if lower_is_better(x) else 1.0
    sy = -1.0 if lower_is_better(y) else 1.0
    return (sx * frame["mean_x"].to_numpy(float) + sy * frame["mean_y"].to_numpy(float)) / 2


def pareto(points: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Rows not dominated in (x, y) by any other row, sorted by x."""
    sx = -1.0 if lower_is_better(x) else 1.0
    sy = -1.0 if lower_is_better(y) else 1.0
    px, py = sx * points["mean_x"].to_numpy(float), sy * points["mean_y"].to_numpy(float)
    dominated = ((px[None, :] >= px[:, None]) & (py[None, :] >= py[:, None])) & (
        (px[None, :] > px[:, None]) | (py[None, :] > py[:, None])
    )
    return points[~dominated.any(axis=1)].sort_values("mean_x")


def best_alpha(points: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per data size, the hybrid row with the best balanced score of x and y."""
    hybrid = points[points["arm"] == "hybrid"]
    if hybrid.empty:
        return hybrid
    hybrid = hybrid.assign(score=_score(hybrid, x, y))
    return hybrid.loc[hybrid.groupby("data_size")["score"].idxmax()].sort_values("data_size")


def _main_panel(
    ax, points: pd.DataFrame, trials: pd.DataFrame, x: str, y: str
) -> tuple[list[pd.DataFrame], list[Label], np.ndarray]:
    """Polylines per series through increasing N, the Pareto frontier and the pretrained point.

    Returns the plotted rows, and the N labels of each line's ends with what they must keep off,
    to be placed once the layout is final.
    """
    alphas = hybrid_alphas(trials)
    rows, handles, labels, marks = [], [], [], [np.empty((0, 2))]
    front = pareto(points, x, y)
    if len(front) > 1:
        handles += ax.plot(front["mean_x"], front["mean_y"], color="#BBBBBB", linewidth=6, alpha=0.6,
                           solid_capstyle="round", zorder=1, label="Pareto frontier (all arms, all N)")  # fmt: skip
    rows.append(front.assign(panel="all N", kind="pareto"))
    for series, arm, alpha in series_order(usable_trials(trials)):
        line = points[points["series"] == series].sort_values("data_size")
        if line.empty:
            continue
        st = series_style(arm, alpha, alphas)
        ax.plot(
            line["mean_x"], line["mean_y"], linestyle=st["linestyle"], color=st["color"], zorder=2
        )
        # Marker area grows with N, so the direction of each polyline reads without arrows.
        scale = np.log(line["data_size"].to_numpy(float))
        span = np.ptp(scale) or 1.0
        ax.scatter(line["mean_x"], line["mean_y"], s=10 + 40 * (scale - scale.min()) / span,
                   marker=st["marker"], color=st["color"], zorder=3)  # fmt: skip
        handles.append(Line2D([], [], label=series, **st))
        labels += [Label(end["mean_x"], end["mean_y"], format_size(end["data_size"]), st["color"])
                   for end in (line.iloc[0], line.iloc[-1])]  # fmt: skip
        marks.append(
            polyline_samples(line["mean_x"].to_numpy(float), line["mean_y"].to_numpy(float))
        )
        rows.append(line.assign(panel="all N", kind="series"))
    rx, ry = reference(trials, x), reference(trials, y)
    if rx is not None and ry is not None:
        st = BASELINES["pretrained"]
        handles.append(ax.scatter([rx], [ry], marker=st["marker"], s=90, color=st["color"], zorder=3,
                                  label="pretrained (no training)"))  # fmt: skip
        rows.append(pd.DataFrame({"panel": ["all N"], "kind": "reference", "series": "pretrained",
                                  "arm": "pretrained", "mean_x": rx, "mean_y": ry}))  # fmt: skip
    ax.set_xlabel(describe(x))
    ax.set_ylabel(describe(y))
    ax.set_title(
        "Seed means; one line per arm through increasing N (larger marker = larger N)", loc="left"
    )
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return rows, labels, np.vstack(marks)


def _size_panel(ax, points: pd.DataFrame, n: float, best: pd.DataFrame) -> list[pd.DataFrame]:
    """Both metrics against alpha at one size, CLIP as horizontal lines, the best alpha starred."""
    at = points[points["data_size"] == n]
    hybrid = at[at["arm"] == "hybrid"].sort_values("alpha")
    rows = [hybrid.assign(panel=f"N={n:g}", kind="alpha")]
    for col, color in zip(("x", "y"), _METRIC_COLORS, strict=True):
        ax.errorbar(hybrid["alpha"], hybrid[f"mean_{col}"], yerr=np.nan_to_num(hybrid[f"sd_{col}"]),
                    color=color, marker="o", markersize=3.5, capsize=2, elinewidth=0.8)  # fmt: skip
        clip = at[at["arm"] == "clip"]
        if len(clip):
            ax.axhline(clip[f"mean_{col}"].iloc[0], color=color, linestyle="--", linewidth=1.0)
    clip = at[at["arm"] == "clip"]
    if len(clip):
        rows.append(clip.assign(panel=f"N={n:g}", kind="baseline"))
    pick = best[best["data_size"] == n]
    if len(pick):
        row = pick.iloc[0]
        for col in ("x", "y"):
            ax.plot(row["alpha"], row[f"mean_{col}"], marker="*", markersize=11, color="#000000",
                    markerfacecolor="none", markeredgewidth=1.0, zorder=4)  # fmt: skip
        ax.set_title(f"N = {format_size(n)}\nbest α = {row['alpha']:g}", loc="left", fontsize=8)
        rows.append(pick.drop(columns="score").assign(panel=f"N={n:g}", kind="best"))
    ax.set_xticks(sorted(hybrid["alpha"].unique()))
    return rows


def _size_legend(x: str, y: str, clip: bool) -> list[Line2D]:
    """Legend of the per-size panels: one colour per metric, dashed CLIP, the best-alpha star."""
    solid = [Line2D([], [], color=c, marker="o", markersize=3.5, label=f"{m} (hybrid)")
             for m, c in ((x, _METRIC_COLORS[0]), (y, _METRIC_COLORS[1]))]  # fmt: skip
    dashed = [Line2D([], [], color=c, linestyle="--", label=f"{m} (CLIP)")
              for m, c in ((x, _METRIC_COLORS[0]), (y, _METRIC_COLORS[1]))]  # fmt: skip
    star = Line2D([], [], color="#000000", marker="*", markersize=9, markerfacecolor="none", linestyle="",
                  label="best α (highest mean of both)")  # fmt: skip
    return [*solid, *(dashed if clip else []), star]


def plot_tradeoff(trials: pd.DataFrame, x: str, y: str, out_dir: Path) -> list[Path]:
    """Draw and save the trade-off figure of metrics `x` (mono) and `y` (cross); returns its paths."""
    points = paired_means(trials, x, y)
    # Per-size panels compare alphas: with fewer than two there is nothing to choose between.
    alphas = points.loc[points["arm"] == "hybrid", "alpha"].nunique()
    sizes = (
        sorted(points.loc[points["arm"] == "hybrid", "data_size"].unique()) if alphas > 1 else []
    )
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
            rows += _size_panel(ax, points, n, best)
        for ax in axes[len(sizes) :]:
            ax.set_visible(False)
        axes[0].set_ylabel("metric value")
        bottom.supxlabel("α (share of monolingual batches)", fontsize=8.5)
        bottom.legend(
            handles=_size_legend(x, y, (points["arm"] == "clip").any()), loc="outside right upper"
        )
        bottom.suptitle("Per data size: which α balances both metrics best (mean of the two)",
                        x=0.01, ha="left", fontsize=9)  # fmt: skip
    fig.draw_without_rendering()  # fixes the layout, so labels are placed where they will be drawn
    place_labels(main, labels, marks)
    data = pd.concat(rows, ignore_index=True)
    cols = [
        "panel",
        "kind",
        "series",
        "arm",
        "alpha",
        "data_size",
        "mean_x",
        "sd_x",
        "mean_y",
        "sd_y",
        "n_seeds",
    ]
    data = data.reindex(columns=cols).rename(
        columns={"mean_x": x, "sd_x": f"{x}_sd", "mean_y": y, "sd_y": f"{y}_sd"}
    )
    return save(fig, data, out_dir, f"tradeoff_{file_stem(x)}_vs_{file_stem(y)}")
