"""`languages_<metric>`: per-language bars of the best studied group against the baseline at the
same size, grouped by resource level."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.languages import by_language, language_order, resources
from analysis.metrics import describe, file_stem
from analysis.series import aggregate, baseline_group, group_trial_ids
from analysis.style import BASELINE_STYLES, OKABE_ITO, figure, format_size, house_style, save
from analysis.tables import Results

_ROLE_COLORS = {"best": OKABE_ITO[1], "baseline": BASELINE_STYLES[0]["color"]}


def compared_groups(
    results: Results, metric: str, pick: tuple[str, float]
) -> list[tuple[str, pd.Series]]:
    """('best', group) of `pick` (series, N: the report's best hybrid) and ('baseline', group)
    at the same N, as rows of `aggregate`, where they have `metric`."""
    agg = aggregate(results.trials, metric)
    best = agg[(agg["series"] == pick[0]) & (agg["data_size"] == pick[1])]
    if best.empty:
        return []
    base = baseline_group(results.trials, metric, pick[1])
    return [("best", best.iloc[0])] + ([("baseline", base)] if base is not None else [])


def group_label(group: pd.Series) -> str:
    """Legend text of a group, e.g. 'hybrid α=0.5, N=4k (2 seeds)'."""
    seeds = int(group["n_seeds"])
    return (
        f"{group['series']}, N={format_size(group['data_size'])} ({seeds} seed{'s' * (seeds != 1)})"
    )


@house_style
def plot_language_bars(
    results: Results, metric: str, pick: tuple[str, float], out_dir: Path
) -> list[Path] | None:
    """Draw and save the per-language bars of `metric` for `pick` (series, N) and the baseline;
    None when there is nothing to plot."""
    groups = compared_groups(results, metric, pick)
    values = [
        by_language(results.per_language, metric, group_trial_ids(results.trials, g))
        for _, g in groups
    ]
    if not values or values[0].empty:
        return None
    order = language_order([lang for v in values for lang in v.index], results.languages)
    level = resources(order, results.languages)
    fig = figure(min(max(4.5, 0.35 * len(order) + 1.5), 7.2), 3.2)
    ax = fig.add_subplot()
    pos = np.arange(len(order))
    width = 0.8 / len(groups)
    rows = []
    for i, ((role, group), vals) in enumerate(zip(groups, values, strict=True)):
        color = _ROLE_COLORS[role]
        y = vals.reindex(order).to_numpy(float)
        ax.bar(
            pos + (i - (len(groups) - 1) / 2) * width,
            y,
            width,
            color=color,
            label=group_label(group),
        )
        rows.append(pd.DataFrame({"role": role, "series": group["series"], "data_size": group["data_size"],
                                  "lang": order, "resource": [level[x] for x in order], metric: y}))  # fmt: skip
    # Shade every other resource block and name it above the bars.
    blocks = (
        pd.Series([level[x] for x in order])
        .ne(pd.Series([level[x] for x in order]).shift())
        .cumsum()
    )
    for k, idx in pd.Series(pos).groupby(blocks.to_numpy()):
        if k % 2 == 0:
            ax.axvspan(idx.min() - 0.5, idx.max() + 0.5, color="#000000", alpha=0.05, linewidth=0)
        ax.text((idx.min() + idx.max()) / 2, 1.01, level[order[idx.min()]], ha="center",
                va="bottom", transform=ax.get_xaxis_transform(), fontsize=7.5)  # fmt: skip
    pairs = (
        results.per_language.loc[results.per_language["metric"] == metric, "lang_b"] != ""
    ).any()
    ax.set_xticks(pos, order)
    ax.set_xlim(-0.6, len(order) - 0.4)
    ax.set_xlabel(
        ("query language, mean over targets" if pairs else "language") + "; blocks: resource level"
    )
    ax.set_ylabel(describe(metric).replace(" (", "\n("))
    ax.grid(axis="x", visible=False)
    fig.legend(loc="outside lower center", ncols=len(groups))
    return save(fig, pd.concat(rows, ignore_index=True), out_dir, f"languages_{file_stem(metric)}")
