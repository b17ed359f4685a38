"""The report's reference tables, as text cells: the scaling-law fits and every series' results."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.flags import Flags
from analysis.laws import EDGE, PARAMS, FitLaw, get_law
from analysis.metrics import value_range
from analysis.series import aggregate, reference_estimates, series_order
from analysis.style import format_size
from analysis.uncertainty import Estimate

_NAMES = {"E_inf": "E∞", "B": "B", "c": "c"}
_METHODS = {
    "stratified": "stratified bootstrap (trials resampled within each size)",
    "residual": "residual bootstrap (a size has one seed: the fit's log residuals resampled and refitted)",
}


def _param(v: float, lo: float, hi: float) -> str:
    if not np.isfinite(v):
        return "–"
    ci = f" [{lo:.3g}, {hi:.3g}]" if np.isfinite(lo) and np.isfinite(hi) else ""
    return f"{v:.3g}{ci}"


def _at_floor(law: FitLaw, param: str, hi: float) -> bool:
    """Whether a parameter's whole interval sits at its lower bound (E∞ = 0: no error floor)."""
    low = law.bounds.get(param, (-np.inf, np.inf))[0]
    return bool(np.isfinite(low) and np.isfinite(hi) and hi <= low + EDGE)


def floor_note(fits: pd.DataFrame) -> str:
    """A sentence for fits whose E∞ sits at 0, or ''."""
    at_floor = [
        "E_inf" in get_law(f).params and _at_floor(get_law(f), "E_inf", hi) and not u
        for f, hi, u in zip(fits["form"], fits["E_inf_hi"], fits["underdetermined"], strict=True)
    ]
    determined = int((~fits["underdetermined"].astype(bool)).sum())
    if not any(at_floor):
        return ""
    which = (
        "every determined fit"
        if sum(at_floor) == determined
        else f"{sum(at_floor)} of {determined} determined fits"
    )
    return (
        f" E∞ ≈ 0 in {which}: no error floor shows within these sizes (the errors fall at least "
        "as fast as a power law), so there the law is a pure power law and an extrapolation "
        "assumes the error keeps falling."
    )


def _design(r) -> str:
    """'4 sizes × 2 seeds', or the trial count where sizes have different numbers of seeds."""
    seeds = int(r.min_seeds)
    if r.n_trials == r.n_sizes * seeds:
        return f"{r.n_sizes} sizes × {seeds} seed{'s' * (seeds > 1)}"
    return f"{r.n_trials} trials at {r.n_sizes} sizes (≥ {seeds} seed{'s' * (seeds > 1)} each)"


def fits_table(fits: pd.DataFrame, flags: Flags) -> pd.DataFrame:
    """fits.csv for reading: design, trend, the estimates with 95 % intervals where the fit is
    determined (a dash where it is not: its flags say why), the hold-out check and flag numbers."""
    laws = list(dict.fromkeys(fits["form"]))
    estimated = [p for p in PARAMS if any(p in get_law(law).params for law in laws)]
    with_ci = fits[[f"{p}_lo" for p in estimated]].notna().any().any()
    out = pd.DataFrame({"metric": fits["metric"], "series": fits["series"]})
    if len(laws) > 1:
        out["law"] = fits["form"]
    out["design"] = [_design(r) for r in fits.itertuples(index=False)]
    out["trend of the size means"] = fits["trend"]
    for p in estimated:
        head = f"{_NAMES[p]} [95 % interval]" if with_ci else _NAMES[p]
        out[head] = [
            "–" if u else "≈0 (at its bound)" if _at_floor(get_law(f), p, hi) else _param(v, lo, hi)
            for u, f, v, lo, hi in zip(fits["underdetermined"], fits["form"], fits[p], fits[f"{p}_lo"], fits[f"{p}_hi"], strict=True)
        ]  # fmt: skip
    out["hold-out: predicted / observed"] = [
        f"{p:.3f} / {o:.3f} at N={format_size(n)}" if np.isfinite(p) else "–"
        for p, o, n in zip(fits["holdout_pred"], fits["holdout_obs"], fits["holdout_size"], strict=True)
    ]  # fmt: skip
    out["flags"] = [
        flags.numbers(m, s) for m, s in zip(fits["metric"], fits["series"], strict=True)
    ]
    return out


def interval_text(fits: pd.DataFrame, bootstrap: int) -> str:
    """How the fits' intervals were made (fits.csv `interval_method`, `eval_sampling`), in words."""
    if not bootstrap:
        return "none: the bootstrap is off (analysis.bootstrap: 0)"
    used = [m for m in _METHODS if (fits["interval_method"] == m).any()]
    if not used:
        return f"{bootstrap} bootstrap replicates were asked for, but no fit could be resampled (see the flags)"
    names = " and ".join(_METHODS[m] for m in used)
    where = ", per fit as in fits.csv `interval_method`" if len(used) > 1 else ""
    text = f"{bootstrap} replicates per fit of a {names}{where}; 95 % percentile intervals widened by t/z for the few degrees of freedom"
    if fits["eval_sampling"].fillna(False).astype(bool).any():
        text += "; every replicate also shifts each size by a draw of its evaluation error (the per-query intervals)"
    return text


def law_text(fits: pd.DataFrame) -> str:
    """The law(s) behind fits.csv (its `form` column): formula, name and how it is fitted."""
    laws = [get_law(name) for name in dict.fromkeys(fits["form"])]
    return "; ".join(f"{law.formula} ({law.title}), {law.method}" for law in laws)


def means_table(trials: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Every series at every size: seed mean [95 % interval] of each metric, and the seed count;
    the references (arms evaluated once) last, with N '-'."""
    order = {s.name: i for i, s in enumerate(series_order(trials))}
    cells: dict[tuple[str, float], dict[str, str]] = {}
    frames = [(m, aggregate(trials, m)) for m in metrics]
    frames += [(m, reference_estimates(trials, m).assign(data_size=np.inf)) for m in metrics]
    for metric, frame in frames:
        for r in frame.itertuples(index=False):
            row = cells.setdefault((r.series, float(r.data_size)), {"seeds": int(r.n_seeds)})
            row[metric] = Estimate(r.mean, r.se, r.df, *value_range(metric)).text()
    rows = [
        {"series": s, "N": format_size(n) if np.isfinite(n) else "-", **v}
        for (s, n), v in sorted(cells.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1]))
    ]
    return pd.DataFrame(rows, columns=["series", "N", "seeds", *metrics]).fillna("–")
