"""The studied arms against the baseline on a pair of metrics, per data size, and how the gap
moves with N (a weighted least-squares slope against log10 N, with its interval)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.metrics import value_range
from analysis.selection import best_alpha, paired_means
from analysis.series import baseline_arm, studied_label
from analysis.style import format_size
from analysis.uncertainty import Estimate, difference, estimate_of, linear


@dataclass(frozen=True)
class SizeRow:
    """One data size: the best alpha there, its values, the baseline's and the gaps (studied - baseline)."""

    n: float
    alpha: float
    x: Estimate
    y: Estimate
    base_x: Estimate | None
    base_y: Estimate | None

    @property
    def gap_x(self) -> Estimate | None:
        """Best alpha minus the baseline on x."""
        return difference(self.x, self.base_x) if self.base_x else None

    @property
    def gap_y(self) -> Estimate | None:
        """Best alpha minus the baseline on y."""
        return difference(self.y, self.base_y) if self.base_y else None


@dataclass(frozen=True)
class Comparison:
    """Best alpha per N against the baseline on metrics x (monolingual) and y (cross-lingual)."""

    x: str
    y: str
    studied: str  # label of the studied arm(s), e.g. "hybrid"
    baseline: str | None  # label of the baseline arm, e.g. "CLIP"
    rows: list[SizeRow]

    def gaps(self, axis: str) -> tuple[np.ndarray, list[Estimate]]:
        """Sizes and gaps on 'x' or 'y' where the baseline has that size."""
        pairs = [(r.n, getattr(r, f"gap_{axis}")) for r in self.rows]
        pairs = [(n, g) for n, g in pairs if g is not None and np.isfinite(g.value)]
        return np.array([n for n, _ in pairs], float), [g for _, g in pairs]

    def slope(self, axis: str) -> Estimate | None:
        """Change of the gap on 'x' or 'y' per 10x N (`log_slope`), None with fewer than 2 sizes."""
        return log_slope(*self.gaps(axis))


def compare(trials: pd.DataFrame, x: str, y: str) -> Comparison | None:
    """The per-N comparison on (x, y); None when the studied arms have no data on both."""
    points = paired_means(trials, x, y)
    best = best_alpha(points, x, y)
    if best.empty:
        return None
    arm, label = baseline_arm(trials) or (None, None)
    base = points[points["arm"] == arm].set_index("data_size")
    rows = []
    for _, b in best.iterrows():
        n = b["data_size"]
        at = base.loc[n] if n in base.index else None
        bx, by = value_range(x), value_range(y)
        rows.append(SizeRow(float(n), float(b["alpha"]), estimate_of(b, "_x", bx), estimate_of(b, "_y", by),
                            None if at is None else estimate_of(at, "_x", bx),
                            None if at is None else estimate_of(at, "_y", by)))  # fmt: skip
    return Comparison(x, y, studied_label(trials), label, rows)


def log_slope(sizes: np.ndarray, values: list[Estimate]) -> Estimate | None:
    """Weighted least-squares slope of `values` against log10 N (per 10x N), with its interval.

    Weights are 1/SE^2; the slope is a linear combination of the values, so its SE and degrees of
    freedom follow from theirs (`analysis.uncertainty.linear`). With 3+ sizes, scatter beyond the
    SEs (reduced chi-square above 1) widens the interval by its square root and caps the degrees of
    freedom at k - 2. Without SEs: ordinary least squares, interval from the residuals.
    """
    k = len(values)
    if k < 2:
        return None
    x = np.log10(np.asarray(sizes, float))
    g = np.array([v.value for v in values])
    se = np.array([v.se for v in values])
    weighted = bool(np.all(np.isfinite(se) & (se > 0)))
    w = 1 / se**2 if weighted else np.ones(k)
    xbar = (w * x).sum() / w.sum()
    sxx = (w * (x - xbar) ** 2).sum()
    coefs = w * (x - xbar) / sxx
    est = linear(coefs, values) if weighted else Estimate(float(coefs @ g))
    if k == 2:
        return est
    resid = g - (w * g).sum() / w.sum() - est.value * (x - xbar)
    scatter = float((w * resid**2).sum() / (k - 2))
    if not weighted:
        return Estimate(est.value, float(np.sqrt(scatter / sxx)), k - 2.0)
    if scatter > 1:
        return Estimate(est.value, est.se * float(np.sqrt(scatter)), min(est.df, k - 2.0))
    return est


def size_table(cmp: Comparison) -> pd.DataFrame:
    """The report's per-N table: best alpha, its values, the baseline's and the gaps, with intervals."""
    x, y, base = cmp.x, cmp.y, cmp.baseline
    rows = []
    for r in cmp.rows:
        row = {"N": format_size(r.n), "best α": f"{r.alpha:g}", f"{x} (best α)": r.x.text(),
               f"{y} (best α)": r.y.text()}  # fmt: skip
        if base:
            row |= {
                f"{x} ({base})": r.base_x.text() if r.base_x else "–",
                f"{y} ({base})": r.base_y.text() if r.base_y else "–",
                f"Δ {x}": r.gap_x.text(signed=True) if r.gap_x else "–",
                f"Δ {y}": r.gap_y.text(signed=True) if r.gap_y else "–",
            }
        rows.append(row)
    return pd.DataFrame(rows)
