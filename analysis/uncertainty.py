"""95 % intervals of seed means that count both sources of error: seeds and evaluation sampling.

A series' value at a data size is the mean over its seeds. Its standard error combines
- the seed-to-seed spread: sd / sqrt(n) of the n seeds, with n - 1 degrees of freedom (absent
  with one seed);
- the evaluation sampling: each trial's 95 % per-query bootstrap interval `<metric>.lo/.hi`
  gives SE = (hi - lo) / (2 * 1.96). Every trial is scored on the same eval set, so averaging
  seeds does not average this error away: SE_eval is the mean of the trials' SEs.
SE = sqrt(SE_seed^2 + SE_eval^2) and the interval is value ± t_df * SE, df by Welch-Satterthwaite
(the evaluation part counts as known: infinitely many degrees of freedom), cut to where the values
can lie (an accuracy's interval to [0, 1]: with two seeds, t_1 = 12.7 easily reaches past it). A difference or any
linear combination of such estimates adds their variances the same way; for a gap between two
series scored on the same queries this is conservative (their evaluation errors correlate
positively, so the gap's own evaluation error is smaller). docs/analysis.md, "Uncertainty".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95
Z = float(stats.norm.ppf(0.5 + LEVEL / 2))
ESTIMATE_COLUMNS = ("mean", "sd", "n_seeds", "se_seed", "se_eval", "se", "df", "lo", "hi")


@dataclass(frozen=True)
class Estimate:
    """A value with its standard error (NaN: none known), effective degrees of freedom and the
    range the quantity can take (its interval is cut to it)."""

    value: float
    se: float = np.nan
    df: float = np.inf
    low: float = -np.inf
    high: float = np.inf

    @property
    def half_width(self) -> float:
        """Half the 95 % interval (NaN without a standard error)."""
        if not np.isfinite(self.se):
            return np.nan
        return float(stats.t.ppf(0.5 + LEVEL / 2, self.df) * self.se)

    @property
    def lo(self) -> float:
        """Lower end of the 95 % interval."""
        return max(self.low, self.value - self.half_width) if np.isfinite(self.se) else np.nan

    @property
    def hi(self) -> float:
        """Upper end of the 95 % interval."""
        return min(self.high, self.value + self.half_width) if np.isfinite(self.se) else np.nan

    def text(self, digits: int = 3, signed: bool = False) -> str:
        """'0.270 [0.240, 0.300]' (signed: '+0.031 [+0.012, +0.050]'); the value alone without SE."""
        if not np.isfinite(self.value):
            return "–"
        f = f"{{:{'+' if signed else ''}.{digits}f}}".format
        ci = f" [{f(self.lo)}, {f(self.hi)}]" if np.isfinite(self.se) else ""
        return f"{f(self.value)}{ci}"


def _pooled_df(variances: np.ndarray, dfs: np.ndarray) -> float:
    """Welch-Satterthwaite degrees of freedom of a sum of independent variance parts."""
    finite = np.isfinite(dfs) & (variances > 0)
    if not finite.any():
        return np.inf
    return float(variances.sum() ** 2 / (variances[finite] ** 2 / dfs[finite]).sum())


def linear(coefs: Sequence[float], parts: Sequence[Estimate]) -> Estimate:
    """sum(coef * part), its SE adding independent variances, df by Welch-Satterthwaite."""
    c = np.asarray(coefs, float)
    value = float((c * [p.value for p in parts]).sum())
    variances = (c * [p.se for p in parts]) ** 2
    if not np.isfinite(variances).all():
        return Estimate(value)
    return Estimate(value, float(np.sqrt(variances.sum())),
                    _pooled_df(variances, np.array([p.df for p in parts], float)))  # fmt: skip


def difference(a: Estimate, b: Estimate) -> Estimate:
    """a - b; conservative for two series scored on the same eval set (module docstring)."""
    return replace(linear([1.0, -1.0], [a, b]), low=a.low - b.high, high=a.high - b.low)


def eval_se(trials: pd.DataFrame, metric: str) -> np.ndarray:
    """Each trial's evaluation SE from its `<metric>.lo/.hi` (NaN where the table has none)."""
    lo, hi = f"{metric}.lo", f"{metric}.hi"
    if lo not in trials or hi not in trials:
        return np.full(len(trials), np.nan)
    return (trials[hi].to_numpy(float) - trials[lo].to_numpy(float)) / (2 * Z)


def has_eval_intervals(trials: pd.DataFrame, metric: str) -> bool:
    """Whether any trial carries a per-query bootstrap interval of `metric`."""
    return bool(np.isfinite(eval_se(trials, metric)).any())


def combine(
    values: np.ndarray, eval_ses: np.ndarray, bounds: tuple[float, float] = (-np.inf, np.inf)
) -> dict[str, float]:
    """The seed mean of `values` and its interval (ESTIMATE_COLUMNS), from seeds and evaluation
    SEs, cut to `bounds` (where the values can lie)."""
    values, eval_ses = np.asarray(values, float), np.asarray(eval_ses, float)
    n = len(values)
    sd = float(values.std(ddof=1)) if n > 1 else np.nan
    se_seed = sd / np.sqrt(n) if n > 1 else np.nan
    se_eval = float(np.nanmean(eval_ses)) if np.isfinite(eval_ses).any() else np.nan
    parts = [(se_seed, n - 1.0), (se_eval, np.inf)]
    known = [(s**2, d) for s, d in parts if np.isfinite(s)]
    est = Estimate(float(values.mean()), low=bounds[0], high=bounds[1])
    if known:
        var, dfs = (np.array(v, float) for v in zip(*known, strict=True))
        est = replace(est, se=float(np.sqrt(var.sum())), df=_pooled_df(var, dfs))
    return {"mean": est.value, "sd": sd, "n_seeds": n, "se_seed": se_seed, "se_eval": se_eval,
            "se": est.se, "df": est.df, "lo": est.lo, "hi": est.hi}  # fmt: skip


def estimate_of(
    row: pd.Series, suffix: str = "", bounds: tuple[float, float] = (-np.inf, np.inf)
) -> Estimate:
    """The Estimate of a row of `analysis.series.aggregate` (columns `mean<suffix>`, ...)."""
    return Estimate(float(row[f"mean{suffix}"]), float(row[f"se{suffix}"]), float(row[f"df{suffix}"]),
                    *bounds)  # fmt: skip


def interval_note(trials: pd.DataFrame, metrics: Sequence[str]) -> str:
    """What the report's intervals cover, as one sentence: seeds, evaluation sampling, or what is missing."""
    without = [m for m in metrics if not has_eval_intervals(trials, m)]
    seeds = trials.groupby(["label", "alpha", "data_size"], dropna=False).size()
    one_seed = not len(seeds) or int(seeds.max()) == 1
    seed = "the seed spread (t interval of the seed mean)"
    evaluation = "evaluation sampling (each trial's per-query bootstrap interval)"
    table = "per-query bootstrap intervals (<metric>.lo/.hi)"
    if len(without) == len(metrics):
        if one_seed:
            return f"No intervals: one seed per point and no {table} in the results table."
        return (f"Brackets: 95 % intervals covering {seed} only: the results table has no {table}, "
                "so evaluation sampling is not counted.")  # fmt: skip
    if one_seed:
        text = f"Brackets: 95 % intervals covering {evaluation} only: with one seed per point the seed spread is unknown"
    else:
        text = f"Brackets: 95 % intervals covering {seed} and {evaluation}"
    if without:
        text += f"; {', '.join(without)} have no per-query intervals in the table, so only seeds count there"
    return text + "."
