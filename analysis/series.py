"""Series of a study (one per arm/alpha), the trials usable for them, and seed aggregates.

What an arm is comes from the trials table: `label` names it and `is_baseline` tells a baseline
(compared against) from the method under study. A trial without a data size is a reference:
an arm evaluated once, without training (`pretrained`), drawn as a level, not a curve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.metrics import lower_is_better

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


def aggregate(trials: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Seed mean, standard deviation and count of `metric` per series and data size."""
    data = sized(trials)
    data = data[np.isfinite(data[metric].to_numpy(float))] if metric in data else data.iloc[:0]
    cols = ["series", "arm", "is_baseline", "alpha", "data_size"]
    if data.empty:
        return pd.DataFrame(columns=[*cols, "mean", "sd", "n_seeds"])
    grouped = data.groupby(cols, dropna=False, sort=True)[metric]
    return grouped.agg(mean="mean", sd="std", n_seeds="count").reset_index()


def references(trials: pd.DataFrame, metric: str) -> list[tuple[str, float]]:
    """(label, mean of `metric`) of each reference arm (evaluated once, no data size)."""
    data = usable_trials(trials)
    data = data[data["data_size"].isna()]
    if metric not in data:
        return []
    data = data[np.isfinite(data[metric].to_numpy(float))]
    return [(str(label), float(v.mean())) for label, v in data.groupby("series")[metric]]


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


def best_group(trials: pd.DataFrame, metric: str) -> pd.Series | None:
    """The studied (series, data_size) with the best seed mean of `metric`, or None."""
    agg = aggregate(trials, metric)
    agg = agg[~agg["is_baseline"].astype(bool)]
    if agg.empty:
        return None
    pick = agg["mean"].idxmin() if lower_is_better(metric) else agg["mean"].idxmax()
    return agg.loc[pick]


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
