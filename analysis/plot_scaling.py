"""`scaling_<metric>`: a metric against data size: seed means with their 95 % intervals (seeds and
evaluation sampling, `analysis.uncertainty`), fitted laws with bootstrap bands, baselines and
references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from analysis.fits import ScalingFit
from analysis.metrics import describe, file_stem, from_error, lower_is_better
from analysis.series import aggregate, references, series_order, studied_alphas
from analysis.style import REFERENCE_STYLE, figure, house_style, save, series_styles, size_axis
from analysis.uncertainty import has_eval_intervals

CURVE_POINTS = 80


def _curve(
    fit: ScalingFit, metric: str, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fitted metric and its band on a log grid over the series' sizes (metric units)."""
    grid = np.geomspace(sizes.min(), sizes.max(), CURVE_POINTS)
    value = from_error(metric, fit.error(grid)[0])
    lo, hi = (from_error(metric, b) for b in fit.band(grid))
    band = np.stack([np.fmin(lo, hi), np.fmax(lo, hi)])
    if not lower_is_better(metric):  # an accuracy: a band past [0, 1] only hides the data
        band = np.clip(band, 0.0, 1.0)
    return grid, value, band


def _title(trials: pd.DataFrame, metric: str, agg: pd.DataFrame, fits: list[ScalingFit]) -> str:
    """What the figure draws, exactly: which intervals the points have, which law, which bands."""
    if not agg["se"].notna().any():
        points = "seed means (one seed, no per-query intervals: no error bars)"
    elif has_eval_intervals(trials, metric):
        seeds = "seeds + evaluation" if agg["n_seeds"].max() > 1 else "evaluation; one seed"
        points = f"seed means, 95 % intervals ({seeds})"
    else:
        points = "seed means, 95 % intervals (seeds only)"
    if not fits:
        return f"{metric}: {points}; no fitted law"
    law = " / ".join(sorted({f.law.title for f in fits}))
    target = "the value" if lower_is_better(metric) else "1 − value"
    banded = any(f.draws is not None and not f.underdetermined for f in fits)
    band = "with its 95 % bootstrap band" if banded else "(no bootstrap band)"
    return f"{metric}: {points};\n{law} fit of {target} {band}"


@house_style
def plot_scaling(
    trials: pd.DataFrame, metric: str, fits: dict[tuple[str, str], ScalingFit], out_dir: Path
) -> list[Path]:
    """Draw and save the scaling figure of `metric`; returns the PNG, SVG and CSV paths."""
    agg = aggregate(trials, metric)
    order = series_order(trials)
    styles = series_styles(order, studied_alphas(trials))
    fig = figure(5.6, 4.4)
    ax = fig.add_subplot()
    rows, handles = [], []
    for s in order:
        series, arm, alpha = s.name, s.arm, s.alpha
        pts = agg[agg["series"] == series].sort_values("data_size")
        if pts.empty:
            continue
        st = styles[series]
        sizes, mean, lo, hi = (pts[c].to_numpy(float) for c in ("data_size", "mean", "lo", "hi"))
        yerr = np.nan_to_num(np.stack([mean - lo, hi - mean]))
        ax.errorbar(sizes, mean, yerr=yerr, fmt=st["marker"], color=st["color"],
                    capsize=2, elinewidth=0.8, markersize=4, zorder=3)  # fmt: skip
        keys = {"series": series, "arm": arm, "alpha": alpha}
        rows.append(pts.assign(kind="points"))
        fit = fits.get((metric, series))
        label = series
        if fit is not None:
            grid, value, band = _curve(fit, metric, sizes)
            weak = fit.underdetermined
            ax.plot(
                grid,
                value,
                linestyle=st["linestyle"],
                color=st["color"],
                alpha=0.5 if weak else 1.0,
            )
            if not weak:  # an underdetermined fit's band spans the axis and hides the others
                ax.fill_between(grid, band[0], band[1], color=st["color"], alpha=0.12, linewidth=0)
            rows.append(
                pd.DataFrame(
                    {
                        **keys,
                        "data_size": grid,
                        "mean": value,
                        "lo": band[0],
                        "hi": band[1],
                        "kind": "fit",
                    }
                )
            )
            if weak:
                label += " (fit underdetermined: no band)"
            elif "c" in fit.law.params:
                label += f" (c={fit.params()[0, 2]:.2f})"
        else:
            ax.plot(sizes, mean, linestyle=st["linestyle"], color=st["color"], alpha=0.6)
            label += " (no fit)"
        handles.append(Line2D([], [], label=label, **st))
    st = REFERENCE_STYLE
    for name, ref in references(trials, metric):
        ax.axhline(ref, color=st["color"], linestyle=st["linestyle"], linewidth=1.2)
        handles.append(
            Line2D(
                [], [], color=st["color"], linestyle=st["linestyle"], label=f"{name} (no training)"
            )
        )
        rows.append(pd.DataFrame({"series": [name], "mean": ref, "kind": "reference"}))
    size_axis(ax, agg["data_size"].to_numpy(float))
    ax.set_ylabel(describe(metric).replace(" (", "\n("))
    ax.set_title(_title(trials, metric, agg, [f for (m, _), f in fits.items() if m == metric]),
                 loc="left")  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncol=2)
    data = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    cols = [
        "series",
        "arm",
        "alpha",
        "kind",
        "data_size",
        "mean",
        "sd",
        "se",
        "lo",
        "hi",
        "n_seeds",
    ]
    data = data.reindex(columns=cols).rename(columns={"mean": metric})
    return save(fig, data, out_dir, f"scaling_{file_stem(metric)}")
