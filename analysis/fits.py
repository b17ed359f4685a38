"""Scaling-law fits per arm/alpha and metric, with bootstrap intervals, a hold-out check and flags."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analysis import bootstrap
from analysis.errors import InputError
from analysis.fitcore import C_MAX, Bounds, fit_power, fit_saturating, saturating_log
from analysis.metrics import from_error, to_error
from analysis.series import usable_trials

FORMS = {"saturating": 3, "power": 2}  # free parameters of each law
_EDGE = 1e-3  # an interval end this close to a box bound is "at the bound"


@dataclass(frozen=True)
class ScalingFit:
    """One fitted law: the point estimate and its bootstrap replicates (raw parameters)."""

    form: str
    n_ref: float
    theta: np.ndarray
    boot: np.ndarray
    draws: bootstrap.Draws | None = None
    underdetermined: bool = False

    def params(self, theta: np.ndarray | None = None) -> np.ndarray:
        """(E_inf, B, c) in the paper's parametrisation, one row per parameter vector."""
        t = np.atleast_2d(self.theta if theta is None else theta)
        if self.form == "power":
            return np.stack([np.zeros(len(t)), np.exp(t[:, 0]), t[:, 1]], axis=1)
        return np.stack([np.exp(t[:, 0]), np.exp(t[:, 1]) * self.n_ref ** t[:, 2], t[:, 2]], axis=1)

    def error(self, sizes: np.ndarray, theta: np.ndarray | None = None) -> np.ndarray:
        """Predicted error at `sizes`, one row per parameter vector."""
        t = np.atleast_2d(self.theta if theta is None else theta)
        logn = np.log(np.asarray(sizes, dtype=float))[None, :]
        if self.form == "power":
            return np.exp(t[:, 0:1] - t[:, 1:2] * logn)
        return np.exp(saturating_log(t, logn - np.log(self.n_ref)))

    def intervals(self) -> tuple[np.ndarray, np.ndarray]:
        """95 % intervals of (E_inf, B, c); E_inf and B cannot be negative, nor a saturating c."""
        if self.draws is None:
            nan = np.full(3, np.nan)
            return nan, nan
        lo, hi = bootstrap.interval(self.params(self.boot), self.draws)
        lo[:2] = np.maximum(lo[:2], 0.0)
        if self.form == "saturating":
            lo[2], hi[2] = max(lo[2], 0.0), min(hi[2], C_MAX)
        return lo, hi

    def band(self, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise 95 % interval of the predicted error (NaN without replicates)."""
        if self.draws is None:
            nan = np.full(len(sizes), np.nan)
            return nan, nan
        lo, hi = bootstrap.interval(self.error(sizes, self.boot), self.draws)
        return np.maximum(lo, 0.0), hi


def fit_law(sizes: np.ndarray, errors: np.ndarray, form: str) -> ScalingFit:
    """Point fit of one law to per-trial errors (no bootstrap)."""
    return _fit(np.asarray(sizes, float), np.log(errors)[None, :], form)


def _fit(sizes: np.ndarray, loge: np.ndarray, form: str) -> ScalingFit:
    """Fit every row of `loge`; the first row is the data, the rest bootstrap draws."""
    logn = np.log(sizes)
    n_ref = float(np.exp(logn.mean()))
    if form == "power":
        theta, _ = fit_power(logn, loge)
    else:
        theta, _ = fit_saturating(logn - np.log(n_ref), loge)
    return ScalingFit(form, n_ref, theta[0], theta[1:])


def fit_with_bootstrap(
    sizes: np.ndarray, errors: np.ndarray, form: str, reps: int, rng: np.random.Generator
) -> ScalingFit:
    """Point fit plus `reps` refits on stratified bootstrap draws, all in one vectorised call."""
    sizes = np.asarray(sizes, dtype=float)
    loge = np.log(errors)
    if not reps:
        return _fit(sizes, loge[None, :], form)
    draws = bootstrap.draw(sizes, loge, reps, rng)
    return replace(_fit(sizes, np.vstack([loge[None, :], draws.values]), form), draws=draws)


def _holdout(sizes: np.ndarray, errors: np.ndarray, metric: str, form: str) -> dict:
    """Fit without the largest size and predict it, in metric units."""
    top = sizes.max()
    keep = sizes < top
    if len(np.unique(sizes[keep])) < FORMS[form]:
        return {}
    fit = fit_law(sizes[keep], errors[keep], form)
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
    """Reasons why the intervals do not bound the parameters (ends at a box bound, or not finite)."""
    if not np.all(np.isfinite(np.concatenate([lo, hi]))):
        return ["bootstrap intervals are not finite"]
    if fit.form == "power":
        return []  # no box: its intervals always end inside the real line
    box = Bounds.for_errors(np.log(errors)[None, :])
    reasons = []
    if hi[2] >= C_MAX - _EDGE or lo[2] <= _EDGE:
        reasons.append(
            f"the interval of c reaches a bound of [0, {C_MAX:g}]: the exponent is not identified"
        )
    if np.log(hi[0]) >= box.hi[0] - _EDGE:
        reasons.append("the interval of E_inf reaches its upper bound")
    return reasons


def fit_one(
    sizes: np.ndarray,
    errors: np.ndarray,
    metric: str,
    form: str,
    reps: int,
    rng: np.random.Generator,
) -> tuple[dict, ScalingFit | None]:
    """Fit one series; returns its fits.csv row (estimates, intervals, hold-out, flags) and the fit."""
    k = FORMS[form]
    distinct = len(np.unique(sizes))
    counts = pd.Series(sizes).value_counts()
    row = {
        "form": form,
        "n_trials": len(sizes),
        "n_sizes": distinct,
        "min_seeds": int(counts.min()),
    }
    reasons = []
    if distinct < k:
        row.update(
            underdetermined=True,
            reason=f"only {distinct} distinct data sizes; the {form} law needs at least {k} to be fitted",
        )
        return row, None
    if distinct < k + 1:
        reasons.append(
            f"{distinct} distinct data sizes for {k} parameters: nothing is left to test the law; add sizes"
        )
    if counts.max() == 1:
        reasons.append(
            "one trial per size: no seed spread, so the bootstrap intervals are degenerate; add seeds"
        )
    fit = fit_with_bootstrap(sizes, errors, form, reps, rng)
    est = fit.params()[0]
    row.update(dict(zip(("E_inf", "B", "c"), est, strict=True)))
    if reps:
        lo, hi = fit.intervals()
        row.update(
            {
                f"{p}_{s}": v[i]
                for i, p in enumerate(("E_inf", "B", "c"))
                for s, v in (("lo", lo), ("hi", hi))
            }
        )
        if counts.max() > 1:
            reasons += _interval_flags(fit, lo, hi, errors)
    if form == "power":  # E_inf is fixed at 0 by this law, not estimated
        row.update(E_inf=np.nan, E_inf_lo=np.nan, E_inf_hi=np.nan)
    row.update(_holdout(sizes, errors, metric, form))
    row.update(underdetermined=bool(reasons), reason="; ".join(reasons), bootstrap=reps)
    return row, fit


def fit_all(
    trials: pd.DataFrame,
    metrics: list[str],
    form: str = "saturating",
    bootstrap: int = 200,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[tuple[str, str], ScalingFit]]:
    """Fit every (metric, arm/alpha) series of the trained arms; returns fits.csv and the fits by (metric, series)."""
    if form not in FORMS:
        raise InputError(f"fit form {form!r}: unknown; use one of {sorted(FORMS)} (analysis.fit)")
    rng = np.random.default_rng(seed)
    rows, fits = [], {}
    data = usable_trials(trials)
    data = data[data["arm"] != "pretrained"]
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
            row, fit = fit_one(sizes, to_error(metric, grp[metric]), metric, form, bootstrap, rng)
            rows.append({"metric": metric, "series": series, "arm": arm, "alpha": alpha, **row})
            if fit is not None:
                fits[(metric, series)] = replace(fit, underdetermined=row["underdetermined"])
    return pd.DataFrame(rows, columns=FIT_COLUMNS), fits


FIT_COLUMNS = [
    "metric", "series", "arm", "alpha", "form", "n_trials", "n_sizes", "min_seeds",
    "E_inf", "E_inf_lo", "E_inf_hi", "B", "B_lo", "B_hi", "c", "c_lo", "c_hi",
    "holdout_size", "holdout_pred", "holdout_obs", "holdout_abs_err",
    "underdetermined", "reason", "bootstrap",
]  # fmt: skip
