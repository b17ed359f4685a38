"""`heatmap_<metric>`: a pair metric (query language by target language) for the report's best
hybrid at the largest N, the baseline at the same size, and their difference. Cells, colour bars
and the CSV are in points (x100), so every number in the figure is in one unit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.languages import language_order, pair_matrix
from analysis.metrics import file_stem
from analysis.plot_languages import compared_groups, group_label
from analysis.series import group_trial_ids
from analysis.style import figure, house_style, save
from analysis.tables import Results

ANNOTATE_UP_TO = 12  # languages; beyond this, numbers in cells are unreadable at paper size
SCALE = 100.0  # cells in points: 42 rather than 0.42
WIDTH = 7.2  # inches: a two-column paper's text width


def _panel(ax, matrix: pd.DataFrame, title: str, cmap: str, limits: tuple[float, float]):
    """One heatmap, cells annotated while they stay legible; returns the image for a colour bar."""
    image = ax.imshow(matrix.to_numpy(float), cmap=cmap, vmin=limits[0], vmax=limits[1])
    ticks = np.arange(len(matrix))
    ax.set_xticks(ticks, matrix.columns, rotation=90)
    ax.set_yticks(ticks, matrix.index)
    ax.tick_params(labelsize=6.5 if len(ticks) <= ANNOTATE_UP_TO else 5)
    ax.set_xlabel("target language b")
    ax.set_title(title, loc="left", fontsize=7.5)
    ax.grid(False)
    if len(ticks) <= ANNOTATE_UP_TO:
        mid = (limits[0] + limits[1]) / 2
        for (i, j), v in np.ndenumerate(matrix.to_numpy(float)):
            if np.isfinite(v):
                dark = v < mid if cmap == "cividis" else abs(v - mid) > 0.6 * (limits[1] - mid)
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=5,
                        color="white" if dark else "black")  # fmt: skip
    return image


@house_style
def plot_pair_heatmaps(
    results: Results, metric: str, pick: tuple[str, float], out_dir: Path
) -> list[Path] | None:
    """Draw and save the three heatmaps of pair metric `metric` for `pick` (series, N) and the
    baseline at that N; None when there is nothing to plot."""
    groups = compared_groups(results, metric, pick)
    ids = [group_trial_ids(results.trials, g) for _, g in groups]
    langs = results.per_language.loc[results.per_language["metric"] == metric, ["lang_a", "lang_b"]]
    langs = langs[langs["lang_b"].astype(str) != ""]
    if not groups or langs.empty:
        return None
    order = language_order([*langs["lang_a"], *langs["lang_b"]], results.languages)
    mats = [SCALE * pair_matrix(results.per_language, metric, i, order) for i in ids]
    if not np.isfinite(mats[0].to_numpy(float)).any():
        return None
    top = max(float(np.nanmax(m.to_numpy(float))) for m in mats)
    panels = [
        (
            mats[0],
            "best\n" + group_label(groups[0][1]).replace(", ", "\n"),
            "cividis",
            (0.0, top),
        )
    ]
    if len(mats) > 1:
        diff = mats[0] - mats[1]
        span = float(np.nanmax(np.abs(diff.to_numpy(float)))) or 1e-9
        panels += [
            (
                mats[1],
                "baseline\n" + group_label(groups[1][1]).replace(", ", "\n"),
                "cividis",
                (0.0, top),
            ),
            (diff, "difference\nbest − baseline\n", "PuOr", (-span, span)),
        ]
    fig = figure(WIDTH if len(panels) > 1 else 3.4, 3.0)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    images = [_panel(ax, *panel) for ax, panel in zip(axes, panels, strict=True)]
    axes[0].set_ylabel("query language a")
    unit = f"{metric} ×{SCALE:g}"
    fig.colorbar(images[0], ax=axes[: min(2, len(axes))].tolist(), shrink=0.75, label=unit)
    if len(images) > 2:
        fig.colorbar(images[2], ax=axes[2], shrink=0.75, label=f"Δ {unit}")
    fig.suptitle(f"{unit} by language pair", x=0.01, ha="left", fontsize=9)
    names = ["best", "baseline", "difference"][: len(panels)]
    frames = [
        matrix.rename_axis(index="lang_a", columns="lang_b").stack(future_stack=True).rename(unit)
        for (matrix, *_) in panels
    ]
    data = pd.concat(
        [f.reset_index().assign(panel=name) for f, name in zip(frames, names, strict=False)]
    )
    return save(
        fig, data[["panel", "lang_a", "lang_b", unit]], out_dir, f"heatmap_{file_stem(metric)}"
    )
