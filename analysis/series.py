"""Series of a study (one per arm/alpha), the trials usable for them, and seed aggregates.

What an arm is comes from the trials table: `label` names it and `is_baseline` tells a baseline
(compared against) from the method under study. A trial without a data size is a reference:
an arm evaluated once, without training (`pretrained`), drawn as a level, not a curve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.metrics import value_range
from analysis.uncertainty import ESTIMATE_COLUMNS, combine, eval_se

UNFINISHED = ("ERROR", "RUNNING", "PENDING", "PAUSED", "INTERRUPTED")
_ALPHA_ENDS = {0.0: " (cross-only)", 1.0: " (mono-only)"}


@dataclass(frozen=True)
class Series:
    """One line of the figures: an arm, at one alpha for arms swept over mix ratios."""

    name: str
    arm: str
    alpha: float
    baseline: bool


def series_label(label: str, alpha: float | None) -> str:
    """Legend name of an arm/alpha series, e.g. 'hybrid α=0.5' or 'CLIP'."""
    if alpha is None or not np.isfinite(alpha):
        return label
    return f"{label} α={alpha:g}{_ALPHA_ENDS.get(float(alpha), '')}"


def usable_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """Finished trials with a data size, and finished references; with a 'series' column added."""
    ok = ~trials["status"].isin(UNFINISHED)
    reference = trials["data_size"].isna() & trials["is_baseline"]
    out = trials[ok & (trials["data_size"].notna() | reference)].copy()
    out["series"] = [series_label(lb, a) for lb, a in zip(out["label"], out["alpha"], strict=True)]
    return out


def sized(trials: pd.DataFrame) -> pd.DataFrame:
    """The usable trials that trained on a data size (references left out)."""
    data = usable_trials(trials)
    return data[data["data_size"].notna()]


def series_order(trials: pd.DataFrame) -> list[Series]:
    """The sized series: the studied arms by alpha, then the baselines by arm name."""
    keys = sized(trials)[["series", "arm", "alpha", "is_baseline"]].drop_duplicates("series")
    keys = keys.sort_values(["is_baseline", "arm", "alpha"])
    return [Series(*row) for row in keys.itertuples(index=False, name=None)]


def _estimates(data: pd.DataFrame, metric: str, keys: list[str]) -> pd.DataFrame:
    """Seed mean and its 95 % interval (`analysis.uncertainty.combine`) of `metric` per group of `keys`."""
    data = data[np.isfinite(data[metric].to_numpy(float))] if metric in data else data.iloc[:0]
    if data.empty:
        return pd.DataFrame(columns=[*keys, *ESTIMATE_COLUMNS])
    data = data.assign(_eval_se=eval_se(data, metric))
    rows = [
        {
            **dict(zip(keys, key, strict=True)),
            **combine(g[metric], g["_eval_se"], value_range(metric)),
        }
        for key, g in data.groupby(keys, dropna=False, sort=True)
    ]
    return pd.DataFrame(rows, columns=[*keys, *ESTIMATE_COLUMNS])


def aggregate(trials: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per series and data size: the seed mean of `metric`, its sd, seed count and 95 % interval
    (seeds and evaluation sampling; `analysis.uncertainty`)."""
    return _estimates(sized(trials), metric, ["series", "arm", "is_baseline", "alpha", "data_size"])


def reference_estimates(trials: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The same as `aggregate` for the reference arms (evaluated once, no data size)."""
    data = usable_trials(trials)
    return _estimates(data[data["data_size"].isna()], metric, ["series"])


def references(trials: pd.DataFrame, metric: str) -> list[tuple[str, float]]:
    """(label, mean of `metric`) of each reference arm (evaluated once, no data size)."""
    refs = reference_estimates(trials, metric)
    return [(str(r.series), float(r.mean)) for r in refs.itertuples(index=False)]


def studied_alphas(trials: pd.DataFrame) -> list[float]:
    """Sorted distinct alphas of the studied (non-baseline) arms."""
    values = trials.loc[~trials["is_baseline"], "alpha"].to_numpy(float)
    return sorted(set(values[np.isfinite(values)].tolist()))


def studied_label(trials: pd.DataFrame) -> str:
    """The label(s) of the studied (non-baseline) arms, e.g. 'hybrid'."""
    return ", ".join(sorted(set(trials.loc[~trials["is_baseline"], "label"]))) or "studied arms"


def baseline_arm(trials: pd.DataFrame) -> tuple[str, str] | None:
    """(arm, label) of the baseline compared against: the first sized baseline arm by name."""
    data = sized(trials)
    data = data[data["is_baseline"]].sort_values("arm")
    return (data["arm"].iloc[0], data["label"].iloc[0]) if len(data) else None


def baseline_group(trials: pd.DataFrame, metric: str, size: float) -> pd.Series | None:
    """The first baseline arm (by name) with trials at data size `size`, as a row of `aggregate`."""
    agg = aggregate(trials, metric)
    at = agg[agg["is_baseline"].astype(bool) & (agg["data_size"] == size)].sort_values("arm")
    return at.iloc[0] if len(at) else None


def group_trial_ids(trials: pd.DataFrame, group: pd.Series) -> list[str]:
    """Trial ids of the usable trials of one (series, data_size) group."""
    data = usable_trials(trials)
    return data.loc[
        (data["series"] == group["series"]) & (data["data_size"] == group["data_size"]), "trial_id"
    ].tolist()
