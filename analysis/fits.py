"""Scaling-law fits per arm/alpha and metric, with bootstrap intervals, a hold-out check and flags."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from analysis import bootstrap
from analysis.laws import PARAMS, FitLaw, get_law
from analysis.metrics import from_error, lower_is_better, to_error
from analysis.series import sized
from analysis.uncertainty import eval_se

FLAT = 0.02  # size means within 2 % of their mean magnitude: the metric does not change with N
MONOTONE = 0.75  # |Spearman rho| of size means vs N for a steady trend (4 sizes: one swap at most)


@dataclass(frozen=True)
class ScalingFit:
    """One fitted law: the point estimate and its bootstrap replicates (raw parameters)."""

    law: FitLaw
    n_ref: float
    theta: np.ndarray
    boot: np.ndarray
    draws: bootstrap.Draws | None = None
    underdetermined: bool = False

    def params(self, theta: np.ndarray | None = None) -> np.ndarray:
        """(E_inf, B, c) in the paper's parametrisation, one row per parameter vector."""
        return self.law.natural(np.atleast_2d(self.theta if theta is None else theta), self.n_ref)

    def error(self, sizes: np.ndarray, theta: np.ndarray | None = None) -> np.ndarray:
        """Predicted error at `sizes`, one row per parameter vector."""
        t = np.atleast_2d(self.theta if theta is None else theta)
        return self.law.predict(t, np.log(np.asarray(sizes, dtype=float)), self.n_ref)

    def intervals(self) -> tuple[np.ndarray, np.ndarray]:
        """95 % intervals of (E_inf, B, c), clipped to the law's bounds."""
        if self.draws is None:
            nan = np.full(len(PARAMS), np.nan)
            return nan, nan
        lo, hi = bootstrap.interval(self.params(self.boot), self.draws)
        for name, (low, high) in self.law.bounds.items():
            i = PARAMS.index(name)
            lo[i], hi[i] = max(lo[i], low), min(hi[i], high)
        return lo, hi

    def band(self, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise 95 % interval of the predicted error (NaN without replicates)."""
        if self.draws is None:
            nan = np.full(len(sizes), np.nan)
            return nan, nan
        lo, hi = bootstrap.interval(self.error(sizes, self.boot), self.draws)
        return np.maximum(lo, 0.0), hi


def fit_law(sizes: np.ndarray, errors: np.ndarray, law: str | FitLaw) -> ScalingFit:
    """Point fit of one law to per-trial errors (no bootstrap)."""
    return _fit(np.asarray(sizes, float), np.log(errors)[None, :], get_law(law))


def _fit(sizes: np.ndarray, loge: np.ndarray, law: FitLaw) -> ScalingFit:
    """Fit every row of `loge`; the first row is the data, the rest bootstrap draws."""
    theta, n_ref = law.fit(np.log(sizes), loge)
    return ScalingFit(law, n_ref, theta[0], theta[1:])


def interval_method(sizes: np.ndarray) -> str:
    """The bootstrap that suits the design: residual when some size has a single seed."""
    return "residual" if pd.Series(sizes).value_counts().min() == 1 else "stratified"


def eval_sd_log(
    sizes: np.ndarray, errors: np.ndarray, eval_se: np.ndarray | None
) -> np.ndarray | None:
    """Per distinct size (sorted): the evaluation SE of its seed mean in log-error units (the mean
    of its trials' SEs over their mean error); None where no trial has an interval."""
    if eval_se is None or not np.isfinite(eval_se).any():
        return None
    frame = pd.DataFrame({"n": sizes, "e": errors, "se": np.nan_to_num(np.asarray(eval_se, float))})
    per = frame.groupby("n").mean()
    return (per["se"] / per["e"]).to_numpy(float)


def fit_with_bootstrap(
    sizes: np.ndarray,
    errors: np.ndarray,
    law: FitLaw,
    reps: int,
    rng: np.random.Generator,
    eval_se: np.ndarray | None = None,
) -> ScalingFit:
    """Point fit plus `reps` refits on bootstrap draws (see `interval_method`), all in one
    vectorised call; with `eval_se` (each trial's evaluation SE in error units) every draw also
    shifts each size by its evaluation error."""
    sizes = np.asarray(sizes, dtype=float)
    loge = np.log(errors)
    point = _fit(sizes, loge[None, :], law)
    if not reps:
        return point
    sd = eval_sd_log(sizes, errors, eval_se)
    if interval_method(sizes) == "residual":
        fitted = np.log(point.error(sizes)[0])
        shifts = None if sd is None else bootstrap.eval_shifts(sizes, sd, reps, rng)
        draws = bootstrap.residual(fitted, loge, law.k, reps, rng, shifts)
    else:
        draws = bootstrap.stratified(sizes, loge, reps, rng, sd)
    return replace(_fit(sizes, np.vstack([loge[None, :], draws.values]), law), draws=draws)


def trend(sizes: np.ndarray, values: np.ndarray, metric: str) -> str:
    """How the metric's size means move with N: 'flat', 'improves', 'worsens' or 'mixed'."""
    means = pd.Series(np.asarray(values, float)).groupby(np.asarray(sizes)).mean()
    if np.ptp(means) <= FLAT * np.abs(means).mean():
        return "flat"
    rho = stats.spearmanr(means.index, means.to_numpy()).statistic
    rho = -rho if lower_is_better(metric) else rho
    return "improves" if rho >= MONOTONE else "worsens" if rho <= -MONOTONE else "mixed"


def _holdout(sizes: np.ndarray, errors: np.ndarray, metric: str, law: FitLaw) -> dict:
    """Fit without the largest size and predict it, in metric units."""
    top = sizes.max()
    keep = sizes < top
    if len(np.unique(sizes[keep])) < law.k:
        return {}
    fit = fit_law(sizes[keep], errors[keep], law)
    pred = float(from_error(metric, fit.error(np.array([top]))[0, 0]))
    obs = float(from_error(metric, errors[~keep].mean()))
    return {
        "holdout_size": int(top),
        "holdout_pred": pred,
        "holdout_obs": obs,
        "holdout_abs_err": abs(pred - obs),
    }


def _interval_flags(
    fit: ScalingFit, lo: np.ndarray, hi: np.ndarray, errors: np.ndarray
) -> list[str]:
    """Reasons why the intervals do not bound the parameters (not finite, or the law's own)."""
    estimated = [PARAMS.index(p) for p in fit.law.params]
    if not np.all(np.isfinite(np.concatenate([lo[estimated], hi[estimated]]))):
        return ["bootstrap intervals are not finite"]
    return fit.law.flags(lo, hi, errors)


def _design(counts: pd.Series, k: int) -> str:
    """'4 sizes × 1 seed for 3 parameters', the shape of the data behind a fit."""
    lo, hi = int(counts.min()), int(counts.max())
    seeds = f"{lo} seed{'s' * (lo > 1)}" if lo == hi else f"{lo}-{hi} seeds"
    return f"{len(counts)} sizes × {seeds} for {k} parameters"


def fit_one(
    sizes: np.ndarray,
    errors: np.ndarray,
    metric: str,
    law: str | FitLaw,
    reps: int,
    rng: np.random.Generator,
    eval_se: np.ndarray | None = None,
) -> tuple[dict, ScalingFit | None]:
    """Fit one series; returns its fits.csv row (estimates, intervals, hold-out, flags) and the fit.
    `eval_se`: each trial's evaluation SE (error units), counted in the bootstrap draws."""
    law = get_law(law)
    k = law.k
    counts = pd.Series(sizes).value_counts()
    distinct = len(counts)
    design = _design(counts, k)
    row = {
        "form": law.name,
        "n_trials": len(sizes),
        "n_sizes": distinct,
        "min_seeds": int(counts.min()),
        "trend": trend(sizes, from_error(metric, errors), metric),
        "eval_sampling": eval_sd_log(sizes, errors, eval_se) is not None,
    }
    if distinct < k:
        row.update(
            underdetermined=True,
            reason=f"only {distinct} distinct data sizes: the {law.name} law needs at least {k} to be fitted",
        )
        return row, None
    reasons = []
    if distinct == k:
        reasons.append(f"{design}: nothing is left to test the law (add sizes)")
    method = interval_method(sizes) if reps else ""
    left = len(sizes) - k  # residual degrees of freedom: what the residual bootstrap resamples
    if method == "residual" and left < 1:
        reasons.append(
            "one trial per size and no residual left, so no intervals (add seeds or sizes)"
        )
        method, reps = "", 0
    fit = fit_with_bootstrap(sizes, errors, law, reps, rng, eval_se)
    row.update(dict(zip(PARAMS, fit.params()[0], strict=True)))
    if reps:
        lo, hi = fit.intervals()
        row.update(
            {f"{p}_{s}": v[i] for i, p in enumerate(PARAMS) for s, v in (("lo", lo), ("hi", hi))}
        )
        flags = _interval_flags(fit, lo, hi, errors)
        if method == "residual" and (flags or left == 1):
            # Say why: the noise estimate rests on these few residuals (1 is never enough).
            dof = f"{left} degree{'s' * (left > 1)} of freedom"
            flags.insert(0, f"{design} leave {dof} for the noise (add sizes or seeds)")
        reasons += flags
    for p in set(PARAMS) - set(law.params):  # fixed by the law, not estimated
        row.update({p: np.nan, f"{p}_lo": np.nan, f"{p}_hi": np.nan})
    row.update(_holdout(sizes, errors, metric, law))
    row.update(underdetermined=bool(reasons), reason="; ".join(reasons), bootstrap=reps,
               interval_method=method, eval_sampling=bool(reps) and row["eval_sampling"])  # fmt: skip
    return row, fit


def fit_all(
    trials: pd.DataFrame,
    metrics: list[str],
    law: str | FitLaw = "saturating",
    bootstrap: int = 200,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[tuple[str, str], ScalingFit]]:
    """Fit every (metric, arm/alpha) series of the trained arms; returns fits.csv and the fits by (metric, series)."""
    law = get_law(law)
    rng = np.random.default_rng(seed)
    rows, fits = [], {}
    data = sized(trials)
    for metric in metrics:
        if metric not in data:
            continue
        for (series, arm, alpha), grp in data.groupby(
            ["series", "arm", "alpha"], dropna=False, sort=True
        ):
            grp = grp[np.isfinite(grp[metric].to_numpy(float))]
            if grp.empty:
                continue
            sizes = grp["data_size"].to_numpy(float)
            errors = to_error(metric, grp[metric])
            row, fit = fit_one(sizes, errors, metric, law, bootstrap, rng, eval_se(grp, metric))
            rows.append({"metric": metric, "series": series, "arm": arm, "alpha": alpha, **row})
            if fit is not None:
                fits[(metric, series)] = replace(fit, underdetermined=row["underdetermined"])
    return pd.DataFrame(rows, columns=FIT_COLUMNS), fits


FIT_COLUMNS = [
    "metric", "series", "arm", "alpha", "form", "n_trials", "n_sizes", "min_seeds",
    "E_inf", "E_inf_lo", "E_inf_hi", "B", "B_lo", "B_hi", "c", "c_lo", "c_hi",
    "holdout_size", "holdout_pred", "holdout_obs", "holdout_abs_err",
    "trend", "underdetermined", "reason", "bootstrap", "interval_method", "eval_sampling",
]  # fmt: skip
