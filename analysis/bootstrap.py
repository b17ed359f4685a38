"""Bootstrap draws for the scaling fits, and small-sample-honest intervals.

Two ways to draw, chosen by the design:
- stratified (every size has 2+ seeds): resample trials within each size; each trial's
  deviation from its size's mean is rescaled by sqrt(n/(n-1)), which makes the bootstrap
  variance of the size means unbiased (Davison and Hinkley 1997, section 3.7);
- residual (some size has a single seed, so resampling it would see no noise): resample the
  point fit's centred log residuals, rescaled by sqrt(n/(n-k)) for the k fitted parameters,
  onto the fitted values (Davison and Hinkley 1997, section 6.2.3) and refit.
Each draw can also shift all trials of a size together by a normal draw of that size's
evaluation SE (`eval_shifts`): the eval set is shared by all trials, so the seed mean keeps its
evaluation error however many seeds there are.
Intervals widen the percentile interval by t_{df}/z, the expanded percentile interval of
Hesterberg (2015). Stratified: Welch-Satterthwaite degrees of freedom per estimate, the weight
of each size read off the bootstrap itself by regressing the replicated estimates on the
replicated size means (a linearisation of the fit). Residual: df = n - k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95


@dataclass(frozen=True)
class Draws:
    """Bootstrap draws of log errors, with what the intervals need about their degrees of freedom."""

    values: np.ndarray  # [reps, n]: draws of the log errors
    method: str  # "stratified" or "residual"
    dof: np.ndarray  # stratified: [G] trials per size minus one; residual: [1] n - k
    means: np.ndarray | None = None  # stratified: [reps, G] per-size means of each draw
    eval_var: np.ndarray | None = None  # stratified: [G] variance of the evaluation shifts


def eval_shifts(
    sizes: np.ndarray, sd: np.ndarray, reps: int, rng: np.random.Generator
) -> np.ndarray:
    """[reps, n] normal shifts, one per draw and size (sd `sd[j]` for the j-th of the sorted
    distinct sizes), the same for every trial of that size."""
    _, index = np.unique(sizes, return_inverse=True)
    return (rng.standard_normal((reps, len(sd))) * sd)[:, index]


def stratified(
    sizes: np.ndarray,
    loge: np.ndarray,
    reps: int,
    rng: np.random.Generator,
    eval_sd: np.ndarray | None = None,
) -> Draws:
    """Resample trials within each size, rescaling deviations from the size's mean; with
    `eval_sd` (per distinct size, log units) also shift each size by its evaluation error."""
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
    if eval_sd is not None:
        values += eval_shifts(sizes, eval_sd, reps, rng)
    means = np.stack([values[:, sizes == n].mean(1) for n in strata], axis=1)
    return Draws(values, "stratified", dof, means, None if eval_sd is None else eval_sd**2)


def residual(
    fitted: np.ndarray,
    loge: np.ndarray,
    k: int,
    reps: int,
    rng: np.random.Generator,
    shifts: np.ndarray | None = None,
) -> Draws:
    """Fitted log errors plus the fit's residuals resampled with replacement (needs n > k),
    plus `shifts [reps, n]` (evaluation errors, `eval_shifts`) where given."""
    n = len(loge)
    r = loge - fitted
    r = (r - r.mean()) * np.sqrt(n / (n - k))
    values = fitted + r[rng.integers(0, n, (reps, n))]
    if shifts is not None:
        values += shifts
    return Draws(values, "residual", np.array([n - k], float))


def _welch_dof(estimates: np.ndarray, draws: Draws) -> np.ndarray:
    """Welch-Satterthwaite degrees of freedom of each estimate from the per-size spread; the
    evaluation shifts' part of it is known (infinitely many degrees of freedom)."""
    centred = draws.means - draws.means.mean(0)
    design = np.column_stack([np.ones(len(centred)), centred])
    coef = np.linalg.lstsq(design, estimates, rcond=None)[0][1:]  # [G, m]
    known = np.zeros(centred.shape[1]) if draws.eval_var is None else draws.eval_var
    share = coef**2 * np.maximum(centred.var(0) - known, 0.0)[:, None]
    spread = draws.dof > 0
    total = share[spread].sum(0) + (coef**2 * known[:, None]).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = total**2 / (share[spread] ** 2 / draws.dof[spread, None]).sum(0)
    return np.where(np.isfinite(df), np.maximum(df, 1.0), np.inf)


def interval(estimates: np.ndarray, draws: Draws) -> tuple[np.ndarray, np.ndarray]:
    """Expanded percentile interval of each column of `estimates [reps, m]` (NaN without draws)."""
    if len(estimates) < 2:
        nan = np.full(estimates.shape[1], np.nan)
        return nan, nan
    q = 100 * (1 - LEVEL) / 2
    lo, mid, hi = np.percentile(estimates, [q, 50, 100 - q], axis=0)
    if draws.method == "residual":
        df = np.full(estimates.shape[1], draws.dof[0])
    else:
        df = _welch_dof(estimates, draws)
    widen = stats.t.ppf(1 - q / 100, df) / stats.norm.ppf(1 - q / 100)
    return mid - (mid - lo) * widen, mid + (hi - mid) * widen
