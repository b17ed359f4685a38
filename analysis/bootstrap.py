"""Stratified bootstrap over trials within each data size, and small-sample-honest intervals.

With 3-5 seeds per size the plain percentile bootstrap is too narrow: the spread it sees is
estimated from a handful of trials. Two corrections, both standard:
- draws rescale each trial's deviation from its size's mean by sqrt(n/(n-1)), which makes the
  bootstrap variance of the size means unbiased (Davison and Hinkley 1997, section 3.7);
- intervals widen the percentile interval by t_{df}/z, the expanded percentile interval of
  Hesterberg (2015), with the Welch-Satterthwaite degrees of freedom of each estimate. The
  weight of each size in an estimate is read off the bootstrap itself, by regressing the
  replicated estimates on the replicated size means (a linearisation of the fit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95


@dataclass(frozen=True)
class Draws:
    """Bootstrap draws of log errors, with what the intervals need about the strata."""

    values: np.ndarray  # [reps, n]: draws of the log errors
    means: np.ndarray  # [reps, G]: per-size means of each draw
    dof: np.ndarray  # [G]: trials per size minus one


def draw(sizes: np.ndarray, loge: np.ndarray, reps: int, rng: np.random.Generator) -> Draws:
    """Resample trials within each size, rescaling deviations from the size's mean."""
    values = np.empty((reps, len(loge)))
    strata = np.unique(sizes)
    dof = np.empty(len(strata))
    for j, n in enumerate(strata):
        idx = np.flatnonzero(sizes == n)
        vals = loge[idx]
        mean = vals.mean()
        k = np.sqrt(len(idx) / (len(idx) - 1)) if len(idx) > 1 else 0.0
        values[:, idx] = mean + k * (vals[rng.integers(0, len(idx), (reps, len(idx)))] - mean)
        dof[j] = len(idx) - 1
    means = np.stack([values[:, sizes == n].mean(1) for n in strata], axis=1)
    return Draws(values, means, dof)


def interval(estimates: np.ndarray, draws: Draws) -> tuple[np.ndarray, np.ndarray]:
    """Expanded percentile interval of each column of `estimates [reps, m]` (NaN without draws)."""
    if len(estimates) < 2:
        nan = np.full(estimates.shape[1], np.nan)
        return nan, nan
    q = 100 * (1 - LEVEL) / 2
    lo, mid, hi = np.percentile(estimates, [q, 50, 100 - q], axis=0)
    centred = draws.means - draws.means.mean(0)
    design = np.column_stack([np.ones(len(centred)), centred])
    coef = np.linalg.lstsq(design, estimates, rcond=None)[0][1:]  # [G, m]
    share = coef**2 * centred.var(0)[:, None]
    spread = draws.dof > 0
    total = share[spread].sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = total**2 / (share[spread] ** 2 / draws.dof[spread, None]).sum(0)
    df = np.where(np.isfinite(df), np.maximum(df, 1.0), np.inf)
    widen = stats.t.ppf(1 - q / 100, df) / stats.norm.ppf(1 - q / 100)
    return mid - (mid - lo) * widen, mid + (hi - mid) * widen
