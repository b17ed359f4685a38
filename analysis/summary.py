"""The generated answer to the research question, in numbers: best alpha per N, the gap to the
baseline as N grows, fitted exponents with intervals (or, plainly, why a series has none) and
hold-out errors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.laws import get_law
from analysis.selection import best_alpha, paired_means
from analysis.series import aggregate, baseline_arm, studied_label
from analysis.style import format_size


def _num(v: float, digits: int = 3) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def _signed(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:+.3f}"


def gap_table(trials: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per N: the best alpha, its x and y, the baseline's (`baseline_arm`), and the differences
    (studied minus baseline)."""
    points = paired_means(trials, x, y)
    best = best_alpha(points, x, y)
    arm, name = baseline_arm(trials) or (None, "baseline")
    base = points[points["arm"] == arm].set_index("data_size")
    rows = []
    for _, b in best.iterrows():
        n = b["data_size"]
        cx, cy = (base.loc[n, c] if n in base.index else np.nan for c in ("mean_x", "mean_y"))
        rows.append({"N": int(n), "best α": b["alpha"], x: b["mean_x"], y: b["mean_y"],
                     f"{name} {x}": cx, f"{name} {y}": cy, f"Δ {x}": b["mean_x"] - cx,
                     f"Δ {y}": b["mean_y"] - cy})  # fmt: skip
    return pd.DataFrame(rows)


def _trend(d: float) -> str:
    return "widens" if d > 0 else "narrows" if d < 0 else "holds"


def _gap_sentence(table: pd.DataFrame, x: str, y: str, names: tuple[str, str]) -> str | None:
    """How the mono and cross gap to the baseline moves from the smallest to the largest N;
    `names` are the studied arms' and the baseline's."""
    both = table.dropna(subset=[f"Δ {x}", f"Δ {y}"])
    if both.empty:
        return None
    first, last = both.iloc[0], both.iloc[-1]
    text = (f"Against {names[1]}, the best {names[0]}'s gap on {x} / {y} is {_signed(first[f'Δ {x}'])} / "
            f"{_signed(first[f'Δ {y}'])} at N={format_size(first['N'])}")  # fmt: skip
    if len(both) == 1:
        return text + "."
    dx, dy = last[f"Δ {x}"] - first[f"Δ {x}"], last[f"Δ {y}"] - first[f"Δ {y}"]
    return (f"{text} and {_signed(last[f'Δ {x}'])} / {_signed(last[f'Δ {y}'])} at "
            f"N={format_size(last['N'])}: the {x} gap {_trend(dx)} by {abs(dx):.3f} and the {y} gap "
            f"{_trend(dy)} by {abs(dy):.3f} over a {last['N'] / first['N']:.0f}x increase in data.")  # fmt: skip


def _best_sentence(table: pd.DataFrame, x: str, y: str) -> str:
    picks = ", ".join(f"N={format_size(r['N'])}: α={r['best α']:g}" for _, r in table.iterrows())
    return f"Best α per data size (highest mean of {x} and {y}): {picks}."


def _at_bound(r) -> bool:
    """An exponent pinned to its law's bound: the law fits, but says nothing about the rate."""
    return get_law(r["form"]).at_bound("c", r["c"])


def _series_scaling(r, means: pd.Series) -> str:
    """One series' scaling in words: the exponent with its interval, or plainly why there is none."""
    name = r["series"]
    span = (f"{means.iloc[0]:.3f} at N={format_size(means.index[0])} to "
            f"{means.iloc[-1]:.3f} at N={format_size(means.index[-1])}")  # fmt: skip
    if r["trend"] == "flat":
        return f"{name} does not change with N (saturated: {span}), no exponent"
    if r["trend"] == "worsens":
        return f"{name} gets worse as N grows ({span}), no exponent"
    if r["trend"] == "mixed":
        return (f"{name} has no steady trend with N (between {means.min():.3f} and "
                f"{means.max():.3f}), no exponent")  # fmt: skip
    if _at_bound(r):
        return f"{name} improves ({span}) but c sits at its bound {r['c']:g}: the exponent is not identified"
    ci = (
        f" [{_num(r['c_lo'], 2)}, {_num(r['c_hi'], 2)}]"
        if np.isfinite(r.get("c_lo", np.nan))
        else ""
    )
    return f"{name} c={_num(r['c'], 2)}{ci}" + (
        " (underdetermined)" if r["underdetermined"] else ""
    )


def _fit_sentences(trials: pd.DataFrame, fits: pd.DataFrame) -> list[str]:
    """Exponents with intervals (or why none) per metric, and the hold-out error of each metric's fits."""
    out = []
    for metric, group in fits.groupby("metric", sort=False):
        means = aggregate(trials, metric).set_index(["series", "data_size"])["mean"]
        parts = [_series_scaling(r, means.loc[r["series"]].sort_index())
                 for _, r in group.iterrows() if np.isfinite(r.get("c", np.nan))]  # fmt: skip
        if parts:
            out.append(f"{metric}, scaling per series: " + "; ".join(parts) + ".")
        held = group["holdout_abs_err"].dropna()
        if len(held):
            size = format_size(group["holdout_size"].dropna().iloc[0])
            out.append(f"{metric}: fitted without N={size}, the laws predict it within "
                       f"{held.median():.3f} (median) / {held.max():.3f} (worst) absolute error.")  # fmt: skip
    return out


def summarise(
    trials: pd.DataFrame, fits: pd.DataFrame, pairs: list[tuple[str, str]]
) -> tuple[list[str], dict]:
    """Summary sentences, and the per-N gap table of each trade-off pair."""
    sentences, tables = [], {}
    names = (studied_label(trials), (baseline_arm(trials) or ("", "the baseline"))[1])
    for x, y in pairs:
        table = gap_table(trials, x, y)
        if table.empty:
            continue
        tables[(x, y)] = table
        sentences.append(_best_sentence(table, x, y))
        gap = _gap_sentence(table, x, y, names)
        if gap:
            sentences.append(gap)
    sentences += _fit_sentences(trials, fits)
    return sentences, tables
